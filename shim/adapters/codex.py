"""Codex CLI's argv (clap): `codex [OPTIONS] [PROMPT]` starts the TUI; `codex exec [OPTIONS]
[PROMPT]` (alias `e`) is one-shot; `codex exec resume [SESSION_ID] [PROMPT]` continues one.

Only those two prompt-taking forms are ever rewritten. `resume`, `fork` and `exec resume` are
read (for telemetry: mode, prompt, JSON output) but marked `untouched`: a resumed or forked
session keeps its own model, and routing passes the call through as typed.

The model comes from `-m/--model`, or from a config override `-c model="o3"` (`-m` wins over
`-c`, as in codex). clap reads `-mX`, `-m=X`, `--model=X` and `--model X` alike.
"""

from shim.adapters import base, learned

NAME = "codex"
MODEL_FLAG = "-m"

_COMMON = {
    "-c": 1, "--config": 1, "--enable": 1, "--disable": 1, "-i": "*", "--image": "*",
    "-m": 1, "--model": 1, "--local-provider": 1, "-p": 1, "--profile": 1, "-s": 1,
    "--sandbox": 1, "-a": 1, "--ask-for-approval": 1, "-C": 1, "--cd": 1, "--add-dir": 1,
    "--remote": 1, "--remote-auth-token-env": 1,
}
# The boolean flags of `codex`, `codex exec`, `codex resume` and `codex exec resume --help`
# (0.169.0); clap rejects a flag in the wrong place itself.
_BOOLEANS = frozenset((
    "--strict-config", "--oss", "--approve-for-me", "--dangerously-bypass-approvals-and-sandbox",
    "--dangerously-bypass-hook-trust", "--worktree", "--search", "--no-alt-screen", "--no-daemon",
    "--skip-git-repo-check", "--trust", "--ephemeral", "--ignore-user-config", "--ignore-rules",
    "--json", "--experimental-json", "--last", "--all", "--include-non-interactive",
    "--full-auto", "-h", "--help", "-V", "--version",
))
TOP_SPEC = {"short_equals": True, "arity": dict(_COMMON), "booleans": _BOOLEANS}
EXEC_SPEC = {"short_equals": True, "arity": dict(_COMMON, **{
    "--output-schema": 1, "--color": 1, "-o": 1, "--output-last-message": 1,
    "--thread-source": 1, "--cyber-access-program": 1,
}), "booleans": _BOOLEANS}

META_FLAGS = frozenset(("-h", "--help", "-V", "--version"))
EXEC_COMMANDS = frozenset(("exec", "e"))
RESUME_COMMANDS = frozenset(("resume", "fork"))
# Every other subcommand of `codex --help` (0.169.0, 0.171.0) plus older hidden ones.
META_COMMANDS = frozenset((
    "login", "logout", "mcp", "mcp-server", "app-server", "completion", "sandbox", "debug",
    "apply", "a", "cloud", "cloud-tasks", "features", "help", "proto", "review",
    "responses-api-proxy", "stdio-to-uds", "execpolicy", "generate-ts",
    "agents", "archive", "delete", "doctor", "exec-server", "migrate-nfs-db",
    "migrate-rollouts", "plugin", "queue", "remote-control", "unarchive", "update",
))
# Meta subcommands that spend nothing (no model call): never gated by a budget. Not here, so
# gated: review, cloud, proto, app-server, mcp-server, exec review, ...
FREE_SUBCOMMANDS = frozenset((
    "login", "logout", "completion", "features", "help", "doctor", "update", "mcp", "archive",
    "unarchive", "delete", "generate-ts", "execpolicy", "migrate-nfs-db", "migrate-rollouts",
))
# `codex exec --help` commands; all but `resume` are meta calls.
EXEC_SUBCOMMANDS = frozenset(("resume", "fork", "review", "help"))
MODEL_FLAGS = frozenset(("-m", "--model"))
CONFIG_FLAGS = frozenset(("-c", "--config"))
JSON_FLAGS = frozenset(("--json", "--experimental-json"))
# Flags that pick the model (or its provider) where we cannot see it; `-c` keys likewise.
CHOOSER_FLAGS = frozenset(("-p", "--profile", "--oss", "--local-provider"))
CHOOSER_KEYS = frozenset(("profile", "model_provider", "oss_provider"))
# Carried by the normalised request, or harmless to drop when the call moves elsewhere.
PORTABLE = frozenset(("-m", "--model", "--json", "--experimental-json", "--skip-git-repo-check",
                      "--color"))


def _config_model(token):
    """(model, prefix, suffix) when a `-c` token sets `model`, else None."""
    value = token["value"]
    if not isinstance(value, str):
        return None
    key, eq, raw = value.partition("=")
    if not eq or key.strip() != "model":
        return None
    raw = raw.strip()
    quote = raw[:1]
    if quote in ("'", '"') and len(raw) >= 2 and raw.endswith(quote):
        return raw[1:-1], "model=" + quote, quote
    return raw, "model=", ""


def _tables(grammar):
    """(top spec, exec spec, meta commands, exec subcommands), with what `grammar` learned."""
    if not grammar:
        return TOP_SPEC, EXEC_SPEC, META_COMMANDS, EXEC_SUBCOMMANDS
    every = learned.flags(grammar, tuple(grammar.get("commands") or ()))
    meta = META_COMMANDS | (learned.subcommands(grammar) - EXEC_COMMANDS - RESUME_COMMANDS)
    return (learned.merge_spec(TOP_SPEC, learned.flags(grammar)),
            learned.merge_spec(EXEC_SPEC, every), meta,
            EXEC_SUBCOMMANDS | learned.subcommands(grammar, "exec"))


def parse(tool, args, cfg=None, grammar=None):
    top_spec, exec_spec, meta_commands, exec_subcommands = _tables(grammar)
    top, stop = base.scan(args, top_spec, stop_at_positional=True)
    if base.has_flag(top, META_FLAGS):
        return base.request(tool, args, mode="meta", adapter=NAME, model_insert_at=None)
    subcommand = args[stop] if stop is not None else None
    if subcommand in meta_commands:
        return base.request(tool, args, mode="meta", subcommand=subcommand, adapter=NAME,
                            model_insert_at=None)
    if subcommand in EXEC_COMMANDS:
        rest, _ = base.scan(args, exec_spec, start=stop + 1)
        return _exec(tool, args, top, rest, stop, exec_spec, exec_subcommands, grammar)
    if subcommand in RESUME_COMMANDS:
        rest, _ = base.scan(args, top_spec, start=stop + 1)
        if base.has_flag(rest, META_FLAGS):
            return base.request(tool, args, mode="meta", subcommand=subcommand, adapter=NAME,
                                model_insert_at=None)
        return _finish(tool, args, top + rest, mode="interactive", subcommand=subcommand,
                       prompt_token=None, resume=True, insert_at=None, output_format=None,
                       spec=exec_spec, grammar=grammar, untouched=subcommand)
    # The TUI, with an optional first prompt.
    tokens, _ = base.scan(args, top_spec)
    if base.has_flag(tokens, META_FLAGS):
        return base.request(tool, args, mode="meta", adapter=NAME, model_insert_at=None)
    pos = base.positionals(tokens)
    if len(pos) > 1:
        return base.passthrough(tool, args, "codex takes one prompt argument; got %d" % len(pos), NAME)
    return _finish(tool, args, tokens, mode="interactive", subcommand=None,
                   prompt_token=pos[0] if pos else None, resume=False, insert_at=0,
                   output_format=None, spec=exec_spec, grammar=grammar)


def _exec(tool, args, top, rest, at, spec=EXEC_SPEC, exec_subcommands=EXEC_SUBCOMMANDS,
          grammar=None):
    if base.has_flag(rest, META_FLAGS):
        return base.request(tool, args, mode="meta", subcommand="exec", adapter=NAME,
                            model_insert_at=None)
    pos = base.positionals(rest)
    subcommand = "exec"
    resume = False
    if pos and not pos[0]["after_dashdash"] and pos[0]["value"] in exec_subcommands:
        nested = pos.pop(0)["value"]
        if nested != "resume":
            return base.request(tool, args, mode="meta", subcommand="exec " + nested,
                                adapter=NAME, model_insert_at=None)
        subcommand = "exec resume"
        resume = True
        # `exec resume [SESSION_ID] [PROMPT]`; with --last the one positional is the prompt.
        if len(pos) == 2 or (len(pos) == 1 and not base.has_flag(rest, ("--last",))):
            pos.pop(0)
    if len(pos) > 1:
        return base.passthrough(tool, args, "codex exec takes one prompt argument; got %d" % len(pos), NAME)
    prompt_token = pos[0] if pos else None
    if prompt_token is not None and prompt_token["value"] == "-":
        prompt_token = None  # `-` reads the prompt from stdin
    output_format = "jsonl" if base.has_flag(rest, JSON_FLAGS) else "text"
    return _finish(tool, args, top + rest, mode="oneshot", subcommand=subcommand,
                   prompt_token=prompt_token, resume=resume, insert_at=None if resume else at + 1,
                   output_format=output_format, spec=spec, grammar=grammar,
                   untouched="resume" if resume else None)


def _finish(tool, args, tokens, mode, subcommand, prompt_token, resume, insert_at, output_format,
            spec=EXEC_SPEC, grammar=None, untouched=None):
    unreadable = base.unknown_flag(tokens, spec)
    if unreadable:
        return base.unknown(tool, args, unreadable, NAME, grammar)
    model = site = chooser = None
    config_model = None
    untranslatable = []
    for token in tokens:
        if token["kind"] != "flag":
            continue
        name = token["name"]
        if name in CHOOSER_FLAGS:
            chooser = name if token["value"] is None else "%s %s" % (name, token["value"])
        if name in CONFIG_FLAGS:
            found = _config_model(token)
            if found is not None:
                config_model = (found, token)
                continue
            if str(token["value"]).partition("=")[0].strip() in CHOOSER_KEYS:
                chooser = "%s %s" % (name, token["value"])
        if name not in PORTABLE:
            untranslatable.append("codex flag %s has no equivalent in other tools" % name)
    model_token = base.last_flag(tokens, MODEL_FLAGS)
    if model_token is not None and model_token["form"] != "missing":
        model, site = model_token["value"], base.model_site(model_token)
    elif config_model is not None:
        (model, prefix, suffix), token = config_model
        site = base.model_site(token, prefix, suffix)
    if resume:
        untranslatable.append("resuming a codex session")
    return base.request(
        tool, args,
        mode=mode,
        prompt=prompt_token["value"] if prompt_token else None,
        prompt_index=prompt_token["index"] if prompt_token else None,
        model=model,
        model_pinned=model is not None,
        output_format=output_format,
        resume=resume,
        subcommand=subcommand,
        untranslatable=untranslatable,
        model_site=site,
        model_chooser=chooser,
        model_insert_at=insert_at,
        model_flag=MODEL_FLAG,
        untouched=untouched,
        adapter=NAME,
    )


def build_oneshot(prompt, model, output_format, system, portable_output=False, cfg=None, tool=None):
    """argv for `codex exec --skip-git-repo-check [--json] [-m M] PROMPT`.

    A call moved here from another tool (or made by `llm-shim exec`) carries no expectation of
    a git repository, and codex exec refuses to run outside one without the flag; it relaxes
    only that directory check, not the sandbox or approvals (none of those flags is added)."""
    if system is not None:
        return None, "codex exec has no system-prompt flag"
    argv = ["exec", "--skip-git-repo-check"]
    if output_format == "jsonl" or (portable_output and output_format == "json"):
        argv.append("--json")
    elif output_format not in (None, "text"):
        return None, "codex exec has no output format %r" % output_format
    if model:
        argv += ["-m", model]
    if prompt is not None:
        argv += base.dash_safe(prompt, EXEC_SUBCOMMANDS)
    return argv, None
