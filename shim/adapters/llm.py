"""Simon Willison's `llm` (click with a default command): `llm "text"` is `llm prompt "text"`.

click-default-group looks only at the first argument: a known command name runs that command,
anything else (an option, the prompt text, a plugin's command we do not know) goes to
`prompt`. So a model flag is never inserted in front of a leading word, which would turn a
plugin command like `llm cmd ...` into a prompt.
"""

from shim.adapters import base, learned

NAME = "llm"
MODEL_FLAG = "-m"

PROMPT_SPEC = {"short_equals": False, "arity": {
    "-s": 1, "--system": 1, "-m": 1, "--model": 1, "-d": 1, "--database": 1, "-q": 1,
    "--query": 1, "-a": 1, "--attachment": 1, "--at": 2, "--attachment-type": 2, "-T": 1,
    "--tool": 1, "--functions": 1, "--cl": 1, "--chain-limit": 1, "-o": 2, "--option": 2,
    "--schema": 1, "--schema-multi": 1, "-f": 1, "--fragment": 1, "--sf": 1,
    "--system-fragment": 1, "-t": 1, "--template": 1, "-p": 2, "--param": 2, "--cid": 1,
    "--conversation": 1, "--key": 1, "--save": 1,
}, "booleans": frozenset((
    "--td", "--tools-debug", "--ta", "--tools-approve", "--options", "--no-stream", "-n",
    "--no-log", "--log", "-R", "--hide-reasoning", "-c", "--continue", "--async", "-u",
    "--usage", "-x", "--extract", "--xl", "--extract-last", "--json", "-h", "--help",
    "--version",
))}

META_FLAGS = frozenset(("--help", "-h", "--version"))
INTERACTIVE_COMMANDS = frozenset(("chat",))
# Every built-in command but `prompt` and `chat`: they run no prompt we could route.
META_COMMANDS = frozenset((
    "aliases", "collections", "embed", "embed-models", "embed-multi", "fragments", "install",
    "keys", "logs", "models", "openai", "plugins", "schemas", "similar", "templates", "tools",
    "uninstall",
))
COMMANDS = META_COMMANDS | INTERACTIVE_COMMANDS | {"prompt"}
# Meta commands that spend nothing: never gated by a budget (embed, embed-multi, similar pay).
FREE_SUBCOMMANDS = META_COMMANDS - frozenset(("embed", "embed-multi", "similar"))
MODEL_FLAGS = frozenset(("-m", "--model"))
RESUME_FLAGS = frozenset(("-c", "--continue", "--cid", "--conversation"))
SYSTEM_FLAGS = frozenset(("-s", "--system"))
PORTABLE = frozenset(("-m", "--model", "-s", "--system", "--no-stream"))


def parse(tool, args, cfg=None, grammar=None):
    spec, meta_commands = PROMPT_SPEC, META_COMMANDS
    if grammar:
        spec = learned.merge_spec(PROMPT_SPEC, learned.flags(grammar, ("prompt", "chat")))
        meta_commands = META_COMMANDS | (learned.subcommands(grammar) - COMMANDS)
    first = args[0] if args else None
    if first in META_FLAGS:
        return base.request(tool, args, mode="meta", adapter=NAME, model_insert_at=None)
    if first in meta_commands:
        return base.request(tool, args, mode="meta", subcommand=first, adapter=NAME,
                            model_insert_at=None)
    if first in INTERACTIVE_COMMANDS or first == "prompt":
        start, subcommand = 1, first
    else:
        start, subcommand = 0, None
    tokens, _ = base.scan(args, spec, start=start)
    for token in tokens:
        if token["kind"] == "dashdash":
            break
        if token["kind"] == "flag" and token["name"] in META_FLAGS:
            return base.request(tool, args, mode="meta", subcommand=subcommand, adapter=NAME,
                                model_insert_at=None)
    pos = base.positionals(tokens)
    interactive = subcommand == "chat"
    unreadable = base.unknown_flag(tokens, spec)
    if unreadable:
        return base.unknown(tool, args, unreadable, NAME, grammar)
    if len(pos) > (0 if interactive else 1):
        # A plugin command (`llm cmd ...`), or a call llm itself would reject.
        return base.passthrough(tool, args, "llm %s takes %s prompt argument; got %d" % (
            subcommand or "prompt", "no" if interactive else "one", len(pos)), NAME)
    untranslatable = []
    for token in tokens:
        if token["kind"] == "flag" and token["name"] not in PORTABLE:
            if token["name"] not in RESUME_FLAGS:
                untranslatable.append("llm flag %s has no equivalent in other tools" % token["name"])
    resume = base.has_flag(tokens, RESUME_FLAGS)
    if resume:
        untranslatable.append("continuing an llm conversation")
    model_token = base.last_flag(tokens, MODEL_FLAGS)
    if model_token is not None and model_token["form"] == "missing":
        model_token = None
    system_token = base.last_flag(tokens, SYSTEM_FLAGS)
    # A template may name its model; -q picks the first model matching its strings.
    chooser_token = base.last_flag(tokens, ("-t", "--template", "-q", "--query"))
    prompt_token = pos[0] if pos else None
    return base.request(
        tool, args,
        mode="interactive" if interactive else "oneshot",
        prompt=prompt_token["value"] if prompt_token else None,
        prompt_index=prompt_token["index"] if prompt_token else None,
        model=model_token["value"] if model_token else None,
        model_pinned=model_token is not None,
        output_format=None if interactive else "text",
        resume=resume,
        subcommand=subcommand or ("chat" if interactive else "prompt"),
        untranslatable=untranslatable,
        system=system_token["value"] if system_token else None,
        model_site=base.model_site(model_token),
        model_chooser="%s %s" % (chooser_token["name"], chooser_token["value"])
        if chooser_token else None,
        model_insert_at=_insert_at(args, start),
        model_flag=MODEL_FLAG,
        adapter=NAME,
    )


def _insert_at(args, start):
    """After `prompt`/`chat`; else after a leading word (keeps click's command choice);
    else at the front, where the leading option keeps the default command."""
    if start == 1:
        return 1
    if args and not base.is_flag(args[0]) and args[0] != "--":
        return 1
    return 0


def build_oneshot(prompt, model, output_format, system, portable_output=False, cfg=None, tool=None):
    """argv for `llm [-m M] [-s S] PROMPT`."""
    if output_format not in (None, "text"):
        return None, "llm has no output format %r" % output_format
    argv = []
    if model:
        argv += ["-m", model]
    if system is not None:
        argv += ["-s", system]
    if prompt is not None:
        argv += base.dash_safe(prompt, COMMANDS)
    return argv, None
