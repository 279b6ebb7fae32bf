"""Claude Code's argv (commander.js): `claude [options] [command] [prompt]`.

`-p/--print` makes a call one-shot; without it claude starts its TUI (with an optional first
prompt). Options may come before or after the prompt. Variadic options (`--allowedTools a b`)
swallow following words up to the next option, exactly as commander does, so
`claude -p --allowedTools Read "fix it"` has no prompt on argv (claude then reads stdin).
"""

from shim.adapters import base, learned

NAME = "claude"
MODEL_FLAG = "--model"

SPEC = {
    "short_equals": False,
    "arity": {
        "--add-dir": "*", "--agent": 1, "--agents": 1,
        "--allowedTools": "*", "--allowed-tools": "*",
        "--append-system-prompt": 1, "--append-system-prompt-file": 1,
        "--betas": "*", "-d": "?", "--debug": "?", "--debug-file": 1,
        "--disallowedTools": "*", "--disallowed-tools": "*",
        "--effort": 1, "--fallback-model": 1, "--file": "*", "--from-pr": "?",
        "--input-format": 1, "--json-schema": 1, "--max-budget-usd": 1, "--max-turns": 1,
        "--mcp-config": "*", "--model": 1, "-n": 1, "--name": 1, "--output-format": 1,
        "--permission-mode": 1, "--permission-prompt-tool": 1, "--plugin-dir": 1,
        "--prompt-suggestions": "?", "--remote-control-session-name-prefix": 1,
        "-r": "?", "--resume": "?", "--session-id": 1, "--setting-sources": 1,
        "--settings": 1, "--system-prompt": 1, "--system-prompt-file": 1, "--tools": "*",
        "-w": "?", "--worktree": "?", "--plugin-url": 1, "--remote-control": "?",
        # New in 2.1.332.
        "--autocompact": 1, "--cloud": "?", "--environment": 1, "--permission-prompts": 1,
        "--system-prompt-snapshot": 1, "--teleport": "?",
    },
    # Every boolean flag of `claude --help` (2.1.197, 2.1.332) plus hidden ones people use.
    "booleans": frozenset((
        "-p", "--print", "-c", "--continue", "--fork-session", "--verbose", "--ide",
        "--dangerously-skip-permissions", "--allow-dangerously-skip-permissions",
        "--ax-screen-reader", "--bg", "--bare", "--brief", "--chrome", "--no-chrome",
        "--disable-slash-commands", "--exclude-dynamic-system-prompt-sections",
        "--include-hook-events", "--include-partial-messages", "--no-session-persistence",
        "--replay-user-messages", "--safe-mode", "--strict-mcp-config", "--tmux", "--mcp-debug",
        "-h", "--help", "-v", "--version",
        "--background", "--desktop", "--forward-subagent-text", "--restricted",
    )),
}

META_FLAGS = frozenset(("-v", "--version", "-h", "--help"))
# Every subcommand of `claude --help` (2.1.197 and 2.1.332) plus older hidden ones: a call of
# one is a meta call, passed through untouched (never a --model in front of it).
SUBCOMMANDS = frozenset((
    "agents", "auth", "auto-mode", "config", "doctor", "install", "login", "logout", "mcp",
    "migrate-installer", "plugin", "plugins", "setup-token", "update", "upgrade",
    "attach", "gateway", "import", "kill", "logs", "project", "purge", "respawn", "rm", "stop",
    "ultrareview",
))
# The subcommands that spend nothing (no model call): no budget or rate limit gates them
# (shim.policy.budgets.costs_nothing). Not here, so gated: ultrareview, attach, respawn, ...
FREE_SUBCOMMANDS = frozenset((
    "auth", "config", "doctor", "install", "kill", "login", "logout", "logs", "mcp",
    "migrate-installer", "plugin", "plugins", "purge", "rm", "setup-token", "stop", "update",
    "upgrade",
))
ONESHOT_FLAGS = frozenset(("-p", "--print"))
MODEL_FLAGS = frozenset(("--model",))
RESUME_FLAGS = frozenset(("-c", "--continue", "-r", "--resume", "--fork-session", "--from-pr"))
# A session that runs elsewhere (claude.ai cloud, a teleported one, the Desktop app): its model
# is not ours to choose. Like a resumed session, such a call passes through untouched.
REMOTE_FLAGS = frozenset(("--teleport", "--cloud", "--desktop", "--environment"))
# Flags whose meaning the normalised request carries, so the call can move to another tool.
PORTABLE = frozenset(("-p", "--print", "--model", "--output-format", "--system-prompt"))
OUTPUT_FORMATS = ("text", "json", "stream-json")


def parse(tool, args, cfg=None, grammar=None):
    spec, subcommands = SPEC, SUBCOMMANDS
    if grammar:
        spec = learned.merge_spec(SPEC, learned.flags(grammar))
        subcommands = SUBCOMMANDS | learned.subcommands(grammar)
    tokens, _ = base.scan(args, spec)
    for token in tokens:
        if token["kind"] == "dashdash":
            break
        if token["kind"] == "flag" and token["name"] in META_FLAGS:
            return base.request(tool, args, mode="meta", adapter=NAME, model_insert_at=None)
    pos = base.positionals(tokens)
    if pos and not pos[0]["after_dashdash"] and pos[0]["value"] in subcommands:
        return base.request(tool, args, mode="meta", subcommand=pos[0]["value"], adapter=NAME,
                            model_insert_at=None)
    unreadable = base.unknown_flag(tokens, spec)
    if unreadable:
        return base.unknown(tool, args, unreadable, NAME, grammar)
    if len(pos) > 1:
        req = base.passthrough(tool, args, "claude takes one prompt argument; got %d" % len(pos), NAME)
        # Every flag was read, so `-p` before any "--" is known: a budget cap can still go in
        # front (shim.policy.cap), whatever the positionals (`-- --max-budget-usd 9` is text).
        req["print_flag"] = base.has_flag(tokens, ONESHOT_FLAGS)
        return req

    oneshot = base.has_flag(tokens, ONESHOT_FLAGS)
    model_token = base.last_flag(tokens, MODEL_FLAGS)
    fmt_token = base.last_flag(tokens, ("--output-format",))
    output_format = fmt_token["value"] if fmt_token else None
    if output_format is None and oneshot:
        output_format = "text"
    system_token = base.last_flag(tokens, ("--system-prompt",))
    agent_token = base.last_flag(tokens, ("--agent",))
    fallback_token = base.last_flag(tokens, ("--fallback-model",))

    untranslatable = []
    for token in tokens:
        if token["kind"] == "flag" and token["name"] not in PORTABLE:
            untranslatable.append("claude flag %s has no equivalent in other tools" % token["name"])
    if output_format is not None and output_format not in OUTPUT_FORMATS:
        untranslatable.append("unknown --output-format %r" % output_format)
    input_token = base.last_flag(tokens, ("--input-format",))
    prompt = pos[0]["value"] if pos else None
    resume = base.has_flag(tokens, RESUME_FLAGS)
    untouched = "remote session" if base.has_flag(tokens, REMOTE_FLAGS) else \
        "resume" if resume else None
    if prompt is not None and prompt in subcommands:
        untranslatable.append("the prompt is a claude subcommand name")

    return base.request(
        tool, args,
        mode="oneshot" if oneshot else "interactive",
        prompt=prompt,
        prompt_index=pos[0]["index"] if pos else None,
        model=model_token["value"] if model_token and model_token["form"] != "missing" else None,
        model_pinned=model_token is not None and model_token["form"] != "missing",
        output_format=output_format,
        resume=resume,
        untranslatable=untranslatable,
        system=system_token["value"] if system_token else None,
        model_site=base.model_site(model_token),
        # An agent definition may name its own model; --model would override it.
        model_chooser="--agent %s" % agent_token["value"] if agent_token else None,
        # claude refuses a --fallback-model equal to the main model.
        avoid_models=tuple(m.strip() for m in fallback_token["value"].split(",") if m.strip())
        if fallback_token else (),
        model_insert_at=None if untouched else 0,
        model_flag=MODEL_FLAG,
        untouched=untouched,
        input_format=input_token["value"] if input_token else None,
        adapter=NAME,
    )


def build_oneshot(prompt, model, output_format, system, portable_output=False, cfg=None, tool=None):
    """argv for `claude -p PROMPT [--model M] [--output-format F] [--system-prompt S]`."""
    if output_format not in (None, "text") and not (portable_output and output_format == "json"):
        return None, "claude has no output format %r" % output_format
    options = []
    if model:
        options += ["--model", model]
    if output_format == "json":
        options += ["--output-format", "json"]
    if system is not None:
        options += ["--system-prompt", system]
    if prompt is None:
        return ["-p"] + options, None
    if prompt in SUBCOMMANDS:
        return None, "the prompt %r is a claude subcommand name" % prompt
    if prompt.startswith("-"):
        return ["-p"] + options + ["--", prompt], None
    return ["-p", prompt] + options, None
