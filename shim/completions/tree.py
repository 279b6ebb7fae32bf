"""The `llm-shim` argparse parser as plain data: commands, aliases, subcommands, flags, choices.

Read from `shim.cli.main.build_parser()` every time, so the completion scripts cover whatever
the parser has; nothing is listed by hand.
"""

import argparse

_FILE_METAVARS = ("FILE", "PATH")
_DIR_METAVARS = ("DIR",)


def _value_kind(action):
    """'file', 'dir' or None, from the metavar (`--output FILE`, `--dir DIR`)."""
    metavar = action.metavar if isinstance(action.metavar, str) else ""
    if metavar.upper() in _DIR_METAVARS:
        return "dir"
    if metavar.upper() in _FILE_METAVARS:
        return "file"
    return None


def _help(text):
    if not text or text == argparse.SUPPRESS:
        return ""
    return " ".join(text.replace("%%", "%").split())


def command_tree(parser):
    """{"options", "positionals", "subcommands"} of `parser`, subcommands recursively.

    options: [{"flags", "takes_value", "choices", "kind", "help"}]; positionals: [{"choices",
    "kind", "rest"}] (`rest` for `nargs=REMAINDER`); subcommands: [{"name", "aliases", "help",
    "node"}] in the parser's order.
    """
    node = {"options": [], "positionals": [], "subcommands": []}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            names_of = {}
            for name, sub in action.choices.items():  # the primary name comes before aliases
                names_of.setdefault(id(sub), (sub, []))[1].append(name)
            for sub, names in names_of.values():
                node["subcommands"].append({"name": names[0], "aliases": names[1:],
                                            "help": _help(helps.get(names[0])),
                                            "node": command_tree(sub)})
        elif action.help == argparse.SUPPRESS:
            continue
        elif action.option_strings:
            node["options"].append({
                "flags": list(action.option_strings),
                "takes_value": action.nargs != 0,
                "choices": [str(c) for c in action.choices] if action.choices else None,
                "kind": _value_kind(action),
                "help": _help(action.help),
            })
        else:
            node["positionals"].append({
                "choices": [str(c) for c in action.choices] if action.choices else None,
                "kind": _value_kind(action),
                "rest": action.nargs == argparse.REMAINDER,
            })
    return node


def flatten(node, path=()):
    """[(path, node)] for the root and every subcommand, parents first."""
    out = [(path, node)]
    for sub in node["subcommands"]:
        out += flatten(sub["node"], path + (sub["name"],))
    return out


def default_tree():
    from shim.cli.main import build_parser

    return command_tree(build_parser())


def transitions(paths):
    """[(parent path, word typed, child path)] including aliases."""
    out = []
    for path, node in paths:
        for sub in node["subcommands"]:
            for word in [sub["name"]] + sub["aliases"]:
                out.append((" ".join(path), word, " ".join(path + (sub["name"],))))
    return out


def value_options(paths):
    """[(path, flag, option)] for every flag that takes a value."""
    return [(" ".join(path), flag, option) for path, node in paths
            for option in node["options"] if option["takes_value"] for flag in option["flags"]]


def words(node):
    """What a non-flag word can be here: subcommand names and positional choices."""
    out = [sub["name"] for sub in node["subcommands"]]
    for positional in node["positionals"]:
        out += positional["choices"] or []
    return out


def free_positional(node):
    """True when a word here may be anything (a file, a prompt): the shell's default applies."""
    return any(not p["choices"] for p in node["positionals"])
