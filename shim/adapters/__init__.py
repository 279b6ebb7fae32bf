"""Tool adapters: argv → normalised Request, and Request → argv for a tool and model.

`parse` never fails: argv it cannot read becomes a Request with `understood: False`, which
every later stage passes through untouched. `render` of the same tool with no change returns
`request["args"]` unchanged. Contracts: docs/internals.md ("Request"); docs/adapters.md.

Hot path: imports only our own modules; each adapter module loads on first use.
"""

from shim import errors
from shim.adapters import base
from shim.tools import BUILTIN_TOOLS


def adapter_name(tool, cfg):
    """The adapter for `tool`: `tools.<tool>.adapter`, else the built-in of the same name."""
    entry = ((cfg or {}).get("tools") or {}).get(tool)
    if entry:
        name = entry.get("adapter")
        if name:
            return name
        return tool if tool in BUILTIN_TOOLS else ("generic" if entry.get("generic") is not None else None)
    return tool if tool in BUILTIN_TOOLS else None


def _module(name):
    if name == "claude":
        from shim.adapters import claude as module
    elif name == "codex":
        from shim.adapters import codex as module
    elif name == "llm":
        from shim.adapters import llm as module
    elif name == "generic":
        from shim.adapters import generic as module
    else:
        return None
    return module


def parse(tool, args, cfg, grammar=None):
    """argv (without argv0) → Request. Unknown tools and unreadable argv pass through.

    `grammar` is the real binary's learned table (shim.adapters.learned) or None: it adds
    the subcommands and flags the built-in tables do not know (what exists), never meaning."""
    args = list(args)
    name = adapter_name(tool, cfg)
    module = _module(name) if name else None
    if module is None:
        why = "no adapter for tool %s" % tool if not name else "unknown adapter %r" % name
        return base.passthrough(tool, args, why, name)
    try:
        request = module.parse(tool, args, cfg) if grammar is None else \
            module.parse(tool, args, cfg, grammar)
    except Exception as exc:  # an adapter bug must never break the user's call
        if errors.debug_enabled():
            raise
        return base.passthrough(tool, args, "the %s adapter failed: %s: %s" % (
            name, type(exc).__name__, exc), name)
    if request.get("mode") == "meta":
        # Spends nothing: `--version`/`--help` (no subcommand), or a subcommand the adapter
        # knows makes no model call. Budgets never gate such a call (policy.budgets).
        request["free"] = request.get("subcommand") is None or \
            request["subcommand"] in getattr(module, "FREE_SUBCOMMANDS", ())
    return request


def render_explained(request, tool, model, cfg):
    """(argv, None) for `tool` running `model` (None = the tool's default), or (None, why)."""
    args = request["args"]
    if tool == request["tool"]:
        if model is None or model == request["model"]:
            return list(args), None
        if not request["understood"]:
            return None, "the %s arguments were not understood" % tool
        if request["mode"] == "meta":
            return None, "a meta invocation takes no model"
        if request.get("untouched"):
            return None, "a %s call is passed through untouched" % request["untouched"]
        site = request.get("model_site")
        if site is not None:
            out = base.replace_model(args, site, model)
            if out is not None:
                return out, None
        at = request.get("model_insert_at")
        flag = request.get("model_flag")
        if at is None or not flag:
            return None, "%s has no model flag to add" % tool
        return base.insert_model(args, at, flag, model), None
    if not request["understood"]:
        return None, "the %s arguments were not understood" % request["tool"]
    if request["mode"] == "meta":
        return None, "a meta invocation stays on its tool"
    if request.get("untouched"):
        return None, "a %s call is passed through untouched" % request["untouched"]
    if request["mode"] != "oneshot":
        return None, "interactive sessions cannot move to another tool"
    if request["resume"]:
        return None, "a resumed %s session cannot move to another tool" % request["tool"]
    if request["untranslatable"]:
        more = len(request["untranslatable"]) - 1
        why = request["untranslatable"][0]
        return None, why + (" (and %d more)" % more if more else "")
    name = adapter_name(tool, cfg)
    module = _module(name) if name else None
    if module is None:
        return None, "no adapter for tool %s" % tool
    if request.get("prompt_on_stdin") and name not in STDIN_PROMPT_ADAPTERS:
        return None, "%s cannot read the prompt from stdin" % tool
    prompt = None if request.get("prompt_on_stdin") else request["prompt"]
    return module.build_oneshot(prompt, model, request["output_format"],
                                request.get("system"), request.get("portable_output", False),
                                cfg, tool)


def render(request, tool, model, cfg):
    """argv for `tool` and `model`, or None when it cannot be done faithfully."""
    return render_explained(request, tool, model, cfg)[0]


# Adapters whose tools take a one-shot prompt from stdin when argv has none (claude -p, codex
# exec, llm): a prompt too long for argv (Linux caps one argument at 128 KiB) goes there.
STDIN_PROMPT_ADAPTERS = frozenset(BUILTIN_TOOLS)


def oneshot_request(tool, prompt, cfg, model=None, output_format=None, prompt_on_stdin=False):
    """A Request for a tool-agnostic one-shot call (`llm-shim exec`), built as if the user had
    typed the tool's own one-shot form. `output_format="json"` asks for each tool's own
    machine-readable output (claude `--output-format json`, codex `--json`), so routing may
    move it between tools. With `prompt_on_stdin` the prompt is left off argv (the caller
    puts it on the child's stdin) but still classified. Returns (request, None) or (None, why)."""
    name = adapter_name(tool, cfg)
    module = _module(name) if name else None
    if module is None:
        return None, "no adapter for tool %s" % tool
    if prompt_on_stdin and name not in STDIN_PROMPT_ADAPTERS:
        return None, "%s cannot read the prompt from stdin" % tool
    argv, why = module.build_oneshot(None if prompt_on_stdin else prompt, model, output_format,
                                     None, True, cfg, tool)
    if argv is None:
        return None, why
    request = parse(tool, argv, cfg)
    if prompt_on_stdin:
        request.update(prompt=prompt, prompt_on_stdin=True)
    request["portable_output"] = True
    if output_format == "json":
        request["output_format"] = "json"
    return request, None


# Substrings (lower case) of a failed call's output → failure class; first match wins.
# From the real CLIs' messages (/work/shared/REAL_CLIS.md).
FAILURES = {
    "claude": [
        ("request rejected (429)", "rate_limited"), ("rate_limit", "rate_limited"),
        ("rate limit", "rate_limited"), ("credit balance is too low", "quota"),
        ("usage limit", "quota"), ("prompt is too long", "context_too_long"),
        ("failed to authenticate", "auth"), ("not logged in", "auth"),
        ("invalid api key", "auth"), ("api error: 529", "overloaded"),
        ("overloaded", "overloaded"), ("server-side issue", "overloaded"),
        ("unable to connect to api", "network"), ("request timed out", "timeout"),
    ],
    "codex": [
        ("429 too many requests", "rate_limited"), ("rate limit", "rate_limited"),
        ("insufficient_quota", "quota"), ("quota", "quota"),
        ("context_length_exceeded", "context_too_long"), ("context window", "context_too_long"),
        ("401 unauthorized", "auth"), ("403 forbidden", "auth"),
        ("missing environment variable", "auth"), ("503 service unavailable", "overloaded"),
        ("529", "overloaded"), ("high demand", "overloaded"),
        ("idle timeout", "timeout"), ("stream disconnected before completion", "network"),
        ("connection failed", "network"),
    ],
    "llm": [
        ("error code: 429", "rate_limited"), ("insufficient_quota", "quota"),
        ("context_length_exceeded", "context_too_long"),
        ("maximum context length", "context_too_long"),
        ("error code: 401", "auth"), ("error code: 403", "auth"),
        ("error code: 500", "overloaded"), ("error code: 502", "overloaded"),
        ("error code: 503", "overloaded"), ("error code: 529", "overloaded"),
        ("connection error", "network"), ("timed out", "timeout"),
    ],
}


def failure_patterns(tool, cfg):
    """[(substring, failure_class)] for `tool`: the YAML `generic.failures` of a generic tool,
    else the built-in list of its adapter."""
    name = adapter_name(tool, cfg)
    if name == "generic":
        from shim.adapters import generic

        return [(str(k).lower(), v) for k, v in generic.failures(tool, cfg)]
    return list(FAILURES.get(name, ()))


def match_failure(tool, text, cfg):
    """(failure class, pattern) of the first of the tool's failure patterns that occurs in
    `text` (case-insensitive), else (None, None). shim.policy.failures uses it as its last
    rule, with the pattern as evidence."""
    if not text:
        return None, None
    lowered = text.lower()
    for pattern, failure_class in failure_patterns(tool, cfg):
        if pattern and pattern in lowered:
            return failure_class, pattern
    return None, None
