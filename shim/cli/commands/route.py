"""`llm-shim route [--json|--explain] -- TOOL ARGS...`: what a shim call would run, and why.

It goes through the same stages as a real call (config, adapter, agent, decision) and runs
nothing. The JSON object is the Decision (docs/internals.md) with `argv` = [tool, *args] (the
command line that would run, argv[0] being the tool's name) and `args` = the arguments alone.
`llm-shim route --eval FILE.jsonl` checks the learned router against a team's labelled prompts.
"""

import json
import os
import shlex
import sys

from shim import errors

USAGE = ("usage: llm-shim route [--json|--explain] [--agent NAME] -- TOOL ARGS...  or  "
         "llm-shim route --eval FILE.jsonl [--json] [--agent NAME]")


def add_parser(subparsers, common):
    import argparse

    from shim.cli.common import add_command

    p = add_command(
        subparsers, common, "route",
        help="show how a call would be routed (agent, tool, model, argv, reasons); runs nothing",
        description="Parse TOOL ARGS as the shim would, identify the agent ($LLM_SHIM_AGENT, "
                    "identify rules, default_agent), decide, and print the decision. "
                    "Nothing is run and nothing is recorded.",
        examples=[
            'llm-shim route -- claude -p "rename this variable"',
            'LLM_SHIM_AGENT=auto llm-shim route --json -- claude -p "prove the lemma"',
            "llm-shim route --explain --agent auto -- codex exec 'fix the flaky test'",
            "llm-shim route --json -- llm -m 4o 'summarise this'",
            "llm-shim route --eval my-prompts.jsonl",
        ])
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--json", action="store_true", help="print one JSON object")
    mode.add_argument("--explain", action="store_true",
                      help="print the decision for people, with every reason (the default)")
    p.add_argument("--agent", metavar="NAME", help="act as this agent (like $LLM_SHIM_AGENT)")
    p.add_argument("--eval", metavar="FILE.jsonl", dest="eval_file",
                   help='check the learned router against labelled prompts (lines of {"prompt": '
                        '..., "label": "cheap|standard|premium"}): confusion matrix, share per '
                        "tier, agreement; uses the agent's strong_share (default agent: auto)")
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="-- TOOL ARGS",
                   help="the call to route, as you would type it")
    p.set_defaults(func=_run)


def _run(args):
    if args.eval_file:
        if _strip_dashdash(args.command):
            raise errors.UsageError("route", "--eval takes no command", USAGE)
        return evaluate_file(args.eval_file, as_json=args.json, agent=args.agent)
    return route(_strip_dashdash(args.command), as_json=args.json, agent=args.agent)


def _strip_dashdash(command):
    command = list(command or ())
    if command and command[0] == "--":
        command = command[1:]
    return command


def route(command, as_json=False, agent=None, stream=None, environ=None, cwd=None):
    """Route `command` ([tool, *args]) and print the decision; returns the exit code."""
    if not command or not command[0]:
        raise errors.UsageError("route", "no tool given", USAGE)
    stream = stream or sys.stdout
    result = redacted(compute(command[0], command[1:], agent=agent, environ=environ, cwd=cwd))
    if as_json:
        json.dump(result, stream, indent=1, sort_keys=False)
        stream.write("\n")
    else:
        stream.write(explain(result))
    return 0


def evaluate_file(path, as_json=False, agent=None, stream=None, environ=None, cwd=None):
    """Route every prompt of `path` with the agent's strong_share and print how the tiers
    compare with the labels; returns the exit code."""
    from shim.config import compiled
    from shim.routing import evaluate
    from shim.routing.decide import agent_settings, cost_settings

    stream = stream or sys.stdout
    environ = dict(os.environ if environ is None else environ)
    cfg = compiled.load(cwd=cwd, environ=environ)
    name = agent or "auto"
    share = cost_settings(cfg, agent_settings(cfg, name))["strong_share"]
    if share is None:
        raise errors.UsageError("route --eval", "strong_share is null for agent %s: the learned "
                                "router is off" % name, "set policies.cost_optimization.strong_share")
    try:
        rows = evaluate.read_jsonl(path)
    except OSError as exc:
        raise errors.UsageError("route --eval", "%s: %s" % (path, exc.strerror or exc),
                                "give a readable JSONL file") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise errors.UsageError("route --eval", "%s: %s" % (path, exc),
                                'each line: {"prompt": "...", "label": "cheap|standard|premium"}') from None
    result = evaluate.evaluate(rows, share)
    result["agent"] = name
    if as_json:
        json.dump(result, stream, indent=1)
        stream.write("\n")
    else:
        stream.write("agent %s: " % name + evaluate.format_report(result))
    return 0


def compute(tool, args, agent=None, environ=None, cwd=None, cfg=None):
    """The decision for `tool args`, shaped for output (argv includes the tool name)."""
    from shim import adapters, routing
    from shim.config import compiled
    from shim.routing import agents

    environ = dict(os.environ if environ is None else environ)
    if agent:
        environ[agents.ENV_VAR] = agent
    if cfg is None:
        cfg = compiled.load(cwd=cwd, environ=environ)
    request = adapters.parse(tool, args, cfg)
    name, reason = agents.identify(tool, cfg, environ, cwd)
    decision = routing.decide(request, cfg, name, agent_reason=reason)
    policy = _policy(decision, request, cfg, environ)
    decision = policy.pop("decision", None) or decision
    out = dict(decision)
    if policy:
        out["policy"] = policy
    out["args"] = decision["argv"]
    out["argv"] = [decision["tool"]] + decision["argv"]
    out["fallbacks"] = [dict(f, args=f["argv"], argv=[f["tool"]] + f["argv"])
                        for f in decision["fallbacks"]]
    out["understood"] = request["understood"]
    return out


def _policy(decision, request, cfg, environ):
    """The policy gate's view as a dry run (reserves nothing): a budget may change the argv
    (claude's --max-budget-usd, shim.policy.cap) or refuse the call. {} when none applies."""
    from shim import policy, runner, team
    from shim.policy import engine

    if not policy.active(cfg):
        return {}
    dry = dict(environ, **{runner.DRY_RUN_ENV: "1"})
    gate = engine.admit_or_open(decision, request, cfg, dry, team=team.budget_hooks(cfg))
    return {"decision": gate.get("decision"), "blocked": gate.get("blocked"),
            "block_reason": gate.get("block_reason"), "warnings": gate.get("warnings")}


def redacted(result):
    """`result` with secret values in its command lines replaced (`--key sk-...`, `-c
    api_key=...`), so a decision can be pasted into a bug report."""
    from shim.telemetry import privacy

    out = dict(result, argv=privacy.redact_argv(result["argv"]),
               args=privacy.redact_argv(result["args"]))
    out["fallbacks"] = [dict(f, argv=privacy.redact_argv(f["argv"]),
                             args=privacy.redact_argv(f["args"])) for f in result["fallbacks"]]
    return out


def _model_text(model, provider, tier):
    if not model:
        return "the tool's default"
    extra = ", ".join(x for x in (provider, tier) if x)
    return "%s (%s)" % (model, extra) if extra else model


def explain(result):
    """The decision as a few aligned lines for people."""
    lines = [
        "agent:      %s  (%s)" % (result["agent"], result["agent_reason"]),
        "tool:       %s%s" % (result["tool"], "" if result["tool"] == result["tool_requested"]
                              else "  (called as %s)" % result["tool_requested"]),
        "model:      %s  (asked for: %s)" % (
            _model_text(result["model"], result["provider"], result["tier"]),
            result["model_requested"] or "the tool's default"),
        "mode:       %s%s" % (result["mode"], "" if result["understood"] else " (not understood)"),
    ]
    routed = result.get("route")
    if routed:
        limits = routed["thresholds"]
        lines.append("router:     tier %s, score %.4f (standard from %.4f, strong_share %s)%s" % (
            routed["tier"], routed["score"], limits["standard"], routed["strong_share"],
            "" if routed["premium_score"] is None else "; premium score %.4f (premium from %.4f)"
            % (routed["premium_score"], limits["premium"])))
        lines.append("            kind %s; top features: %s" % (routed["kind"], "; ".join(
            "%+.2f %s" % (value, name) for name, value in routed["top_features"]) or "none"))
    elif result["complexity"]:
        features = result["features"] or {}
        lines.append("complexity: %s (score %s): %s" % (
            result["complexity"], features.get("score"),
            "; ".join(features.get("why") or ()) or "no signals"))
    lines.append("command:    %s" % _quote(result["argv"]))
    lines.append("changed:    %s" % ("yes" if result["changed"] else "no (runs exactly as typed)"))
    lines.append("baseline:   %s" % (result["baseline_model"] or "unknown"))
    lines.append("why:")
    lines += ["  - %s" % reason for reason in result["reasons"]] or ["  - (no rule fired)"]
    if result["fallbacks"]:
        lines.append("fallbacks:")
        lines += ["  %d. %s" % (i, _quote(f["argv"])) for i, f in enumerate(result["fallbacks"], 1)]
    return "\n".join(lines) + "\n"


def _quote(argv):
    return " ".join(shlex.quote(a.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
                    for a in argv)
