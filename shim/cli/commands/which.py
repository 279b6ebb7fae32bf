"""`llm-shim which [--json] TOOL [ARGS...]`: the real binary a shim call would run, and the route.

Like `pyenv which`: the first line is the absolute path of the real binary (so
`$(llm-shim which claude | head -n1)` works in scripts). The route below it is what a shim call
with those ARGS would do, computed by the proxy's own planner with LLM_SHIM_DRY_RUN=1, so a
budget or rate limit is judged but nothing is reserved, run or recorded. No real binary:
the shim's own not-found message and exit status 127.

Our options go before TOOL: everything after it belongs to the tool (`codex exec --json`).
"""

import json
import os
import sys

from shim import errors, resolve
from shim.tools import BUILTIN_TOOLS

USAGE = "usage: llm-shim which [--json] [--agent NAME] TOOL [ARGS...]"


def add_parser(subparsers, common):
    import argparse

    from shim.cli.common import add_command

    p = add_command(
        subparsers, common, "which",
        help="show the real binary a shim would run for TOOL, and the route it would take",
        description=(
            "Print the absolute path of the real TOOL behind the shim (the first line), then\n"
            "the route a call with ARGS would take: agent, tool, model and the reasons.\n"
            "Nothing is run or recorded. Options go before TOOL; the rest is TOOL's.\n"
            "Exit status 127 when no real binary exists."),
        examples=[
            "llm-shim which claude",
            'llm-shim which claude -p "rename this variable"',
            "llm-shim which --json codex exec 'fix the flaky test'",
            "llm-shim which --agent auto claude -p 'prove the lemma'",
            '"$(llm-shim which claude | head -n1)" --version   # the real claude, unrouted',
        ])
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--agent", metavar="NAME", help="act as this agent (like $LLM_SHIM_AGENT)")
    p.add_argument("tool", metavar="TOOL", nargs="?",
                   help="claude, codex, llm or a configured tool")
    p.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS",
                   help="the arguments of the call to route (default: none)")
    p.set_defaults(func=lambda args: cmd_which(args.tool, args.args, as_json=args.json,
                                               agent=args.agent))


def cmd_which(tool, args=(), as_json=False, agent=None, stream=None, environ=None, cwd=None):
    """Print where `tool args` would go; returns 0 (RealBinaryNotFound -> 127 via main)."""
    stream = stream or sys.stdout
    info = locate(tool, list(args or ()), agent=agent, environ=environ, cwd=cwd)
    missing = info.pop("_missing", None)
    if as_json:
        stream.write(json.dumps(info, indent=1, ensure_ascii=False) + "\n")
    elif missing is None:
        stream.write(explain(info))
    if missing is not None:
        # stdout's first line is the real path, for scripts: with none, stdout stays empty
        # and the route goes with the not-found message to stderr.
        errors.report(missing)
        if not as_json and info["route"] is not None:
            sys.stderr.write(explain(dict(info, real_binary="  (the route it would take)")))
        return missing.exit_code
    return 0


def locate(tool, args, agent=None, environ=None, cwd=None):
    """{"tool", "real_binary", "first_on_path", "shimmed", "route", "fallback_for", "policy"}.

    `route` is the decision shaped like `llm-shim route --json` prints it, or None for a tool
    that is not configured (its shim runs it untouched). `fallback_for` names the routed tool
    whose binary is missing when `real_binary` is a one-shot fallback's.
    """
    from shim import proxy
    from shim.config import compiled
    from shim.routing import agents

    if not tool:
        raise errors.UsageError("which", "no tool given", USAGE)
    if tool.startswith("-") or os.sep in tool:
        raise errors.UsageError("which", f"{tool!r} is not a tool name", USAGE)
    environ = dict(os.environ if environ is None else environ)
    if agent:
        environ[agents.ENV_VAR] = agent
    environ[proxy.DRY_RUN_ENV] = "1"  # the policy gate judges, reserves nothing
    cfg = compiled.load(cwd=cwd, environ=environ)
    first, shimmed = first_on_path(tool, environ)
    info = {"tool": tool, "real_binary": None, "first_on_path": first, "shimmed": shimmed,
            "route": None, "fallback_for": None, "policy": None}
    if tool not in BUILTIN_TOOLS and tool not in (cfg.get("tools") or {}):
        try:
            info["real_binary"] = resolve.real_binary(tool, cfg, environ)
        except errors.RealBinaryNotFound as exc:
            info["_missing"] = _not_found(tool, exc, info)
        return info
    try:
        plan = proxy.plan_call(tool, args, cfg, environ, cwd=cwd)
    except errors.RealBinaryNotFound as exc:
        # No binary and no fallback: still show the route, as `llm-shim route` would.
        from shim.cli.commands import route as route_cmd

        info["route"] = route_cmd.compute(tool, args, environ=environ, cwd=cwd, cfg=cfg)
        info["_missing"] = _not_found(info["route"]["tool"], exc, info)
        return info
    decision = plan["decision"]
    info["route"] = _route_view(decision, plan["request"])
    try:
        info["real_binary"] = plan["real_binary"] or _fallback_binary(plan, cfg, environ, info)
    except errors.RealBinaryNotFound as exc:
        info["_missing"] = _not_found(decision["tool"], exc, info)
    gate = plan.get("gate")
    if gate:
        info["policy"] = {k: gate.get(k) for k in ("blocked", "block_reason", "warnings")}
    return info


def _not_found(tool, exc, info):
    """The not-found error as `which` sees it: the shims dir is the one on PATH (if any), not
    the directory `llm-shim` itself runs from (a virtualenv's bin, say)."""
    if not exc.why.startswith(f"the real {tool} is not on PATH"):
        return exc  # tools.<tool>.binary problems say what they are already
    where = os.path.dirname(info["first_on_path"]) if info["shimmed"] else None
    why = f"the real {tool} is not on PATH" + (f" (after the shims in {where})" if where
                                                 else "")
    return errors.RealBinaryNotFound(tool, why, exc.hint)


def _route_view(decision, request):
    """The decision as `llm-shim route --json` shows it (argv with the tool name first)."""
    out = dict(decision)
    out["args"] = list(decision["argv"])
    out["argv"] = [decision["tool"]] + list(decision["argv"])
    out["fallbacks"] = [dict(f, args=f["argv"], argv=[f["tool"]] + f["argv"])
                        for f in decision.get("fallbacks") or ()]
    out["understood"] = request["understood"]
    return out


def _fallback_binary(plan, cfg, environ, info):
    """The routed tool is missing but a one-shot chain goes on: the first fallback that exists."""
    for fallback in plan["decision"].get("fallbacks") or ():
        try:
            path = resolve.real_binary(fallback["tool"], cfg, environ)
        except errors.RealBinaryNotFound:
            continue
        info["fallback_for"] = plan["decision"]["tool"]
        return path
    raise plan["binary_error"]


def first_on_path(tool, environ):
    """(the file `command -v tool` would find, whether it is an llm-shim shim) or (None, False)."""
    for entry in environ.get("PATH", os.defpath).split(os.pathsep):
        path = os.path.join(entry or ".", tool)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return os.path.abspath(path), resolve.is_our_shim(path, running=(None, None))
    return None, False


def explain(info):
    """The real path on the first line, then the route for people."""
    from shim.cli.commands import route as route_cmd

    lines = [info["real_binary"]]
    route = info["route"]
    if info["fallback_for"]:
        lines.append(f"  (the routed {info['fallback_for']} is not installed; this is the "
                     "first fallback that is)")
    if route is None:
        lines.append(f"  route: none: {info['tool']} is not a configured tool, its shim runs it "
                     "untouched")
    else:
        lines += ["  " + line for line in route_cmd.explain(route).splitlines()]
    policy = info["policy"]
    if policy and policy.get("blocked"):
        lines.append(f"  policy: BLOCKED: {policy.get('block_reason')}")
    for warning in (policy or {}).get("warnings") or ():
        lines.append(f"  policy: {warning}")
    if info["first_on_path"] is None:
        lines.append(f"  note: no `{info['tool']}` on PATH at all: the shims dir is not on PATH "
                     "(see `llm-shim doctor`)")
    elif not info["shimmed"]:
        lines.append(f"  note: `{info['tool']}` on PATH is {info['first_on_path']} itself, not "
                     "the shim: calls bypass llm-shim (see `llm-shim doctor`)")
    return "\n".join(lines) + "\n"
