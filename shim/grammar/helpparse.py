"""Read a CLI's `--help` text into {"flags": {name: arity}, "subcommands": [names]}.

One reader for the three help styles our tools print (commander for claude, clap for codex,
click for llm) and most others: an option line is indented at most six spaces and starts with
`-`; its signature ends at the first run of two spaces. The value part says the arity, in
base.scan's terms: none → 0, `<x>` or a bare `WORD` → 1, `[x]` → "?" (optional), `<x...>`,
`<x>...` or `[x...]` → "*" (variadic), `<A B>...` (click tuples) → the number of words.
A command line is indented two spaces under a `Commands:` heading; `a|b` and clap's
`[aliases: e]` give aliases; click's default command is marked `prompt*`.
"""

import re

_NAME = re.compile(r"--?[A-Za-z0-9?][A-Za-z0-9_.?-]*")
_VALID = re.compile(r"--?[A-Za-z0-9?][A-Za-z0-9_.-]*\Z")
_SEPARATOR = re.compile(r"\s*(?:,|/)\s*")
_HEADING = re.compile(r"(?i)^(?:available )?(?:sub)?commands:?\s*$")
_ALIASES = re.compile(r"\[aliases?: ([^\]]+)\]")
_COMMAND_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*\Z")


def value_arity(value):
    """The arity of an option whose signature continues with `value` (module docstring)."""
    value = value.strip()
    if not value:
        return 0
    if value.startswith("["):
        inner = value[1:].split("]", 1)[0]
        return "*" if inner.endswith("...") else "?"
    if value.startswith("<"):
        inner, _, after = value[1:].partition(">")
        words = inner.split()
        if inner.endswith("..."):
            return "*"
        if len(words) >= 2:
            return len(words)
        return "*" if after.startswith("...") else 1
    return "*" if value.split()[0].endswith("...") else 1


def parse_signature(signature):
    """(names, arity) of one option signature such as `-d, --debug [filter]`."""
    names = []
    rest = signature.strip()
    while True:
        match = _NAME.match(rest)
        if not match:
            break
        name = match.group(0)
        rest = rest[match.end():]
        if not _VALID.match(name):
            return [], 0
        names.append(name)
        if rest.startswith("="):
            rest = rest[1:]
            break
        sep = _SEPARATOR.match(rest)
        if sep and rest[sep.end():].startswith("-"):
            rest = rest[sep.end():]
            continue
        break
    return names, value_arity(rest)


def parse(text):
    """{"flags": {name: arity}, "subcommands": [name, ...]} from one help text."""
    flags = {}
    subcommands = []
    in_commands = False
    for raw in text.expandtabs().splitlines():
        line = raw.rstrip()
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        stripped = line.strip()
        if indent == 0:
            in_commands = bool(_HEADING.match(stripped))
            continue
        if in_commands:
            if indent == 2:
                _command(stripped, subcommands)
            continue
        if indent <= 6 and stripped.startswith("-"):
            signature = re.split(r"\s{2,}", stripped, 1)[0]
            names, arity = parse_signature(signature)
            for name in names:
                flags.setdefault(name, arity)
    return {"flags": flags, "subcommands": subcommands}


def _command(stripped, subcommands):
    head, _, description = stripped.partition("  ")
    words = head.split()
    if not words:
        return
    names = words[0].rstrip("*").split("|")
    aliases = _ALIASES.search(description)
    if aliases:
        names += [a.strip() for a in aliases.group(1).split(",")]
    for name in names:
        if _COMMAND_NAME.match(name) and name not in subcommands:
            subcommands.append(name)
