"""The hot path: what a shim does on every call. Glue only; each stage lives in its module.

argv → compiled config → Request (adapters) → agent → Decision (routing) → policy gate →
real binary → run → attempt record (spool). Everything of ours is wrapped so that when our
machinery fails, the real tool still runs with the original argv after one warning line
(fail open), unless `policies.on_error: block` (read from the layers that parse when the
config as a whole does not). A bookkeeping failure after the run never changes the tool's exit
code. `LLM_SHIM_DRY_RUN=1` runs nothing on any path: it prints the decision, or the problem
and the unchanged argv that would have run, and exits 0.
"""

import os
import sys
from shim import attempt, errors, exitcodes, resolve, runner
from shim.runner import DRY_RUN_ENV  # one definition; `llm-shim exec`/`which` read it here
from shim.tools import BUILTIN_TOOLS

DISABLE_ENV = "LLM_SHIM_DISABLE"
# "0" turns off the background relearn of a changed binary's grammar (docs/adapters.md).
LEARN_ENV = "LLM_SHIM_LEARN"
# What `main` returns when argv0 names no tool and no real binary: the management CLI's call.
NOT_A_TOOL = None


def main(tool, args, own_process=False):
    """The shim call of `tool`: its exit code, or NOT_A_TOOL (see _unknown_tool).
    `own_process`: the shim's process is this call's alone (shim.entry), so the collector may
    pause while it decides (see _pause_collector)."""
    environ = os.environ
    # A dry run never runs the tool, on any path: pass-through, fail-open and errors included.
    dry_run = environ.get(DRY_RUN_ENV) == "1"
    if environ.get(DISABLE_ENV) == "1":
        if dry_run:
            return _dry_run_unchanged(tool, args, None, environ,
                                      "LLM_SHIM_DISABLE=1 (a pure pass-through)")
        return _passthrough(tool, args, None, environ)
    cfg = plan = None
    try:
        paused = own_process and _pause_collector()
        try:
            from shim.config import compiled

            cfg = compiled.load()
            if tool in BUILTIN_TOOLS or tool in (cfg.get("tools") or {}):
                plan = plan_call(tool, args, cfg, environ)
        finally:
            if paused:
                _resume_collector()
        if plan is None:
            return _unknown_tool(tool, args, cfg, environ, dry_run)
    except (errors.RealBinaryNotFound, errors.RecursionDetected, errors.Blocked) as exc:
        code = errors.report(exc)
        if dry_run:
            return _print_dry_run_view({
                "tool": tool, "because": f"{exc.what}: {exc.why}", "would_run": False,
                "real_binary": None, "argv": [tool] + list(args)})
        return code
    except Exception as exc:  # our machinery failed: fail open
        return _fail_open(tool, args, cfg, environ, exc, dry_run)
    if dry_run:
        return print_dry_run(plan)
    return execute(plan, cfg, environ)


def _pause_collector():
    """Pause Python's cyclic garbage collector while the call is decided. Deciding creates
    the objects of every module it imports and of the config, all of which live as long as the
    process; a gated call allocated enough of them for five collections, one of them a
    second-generation one, ~2 ms together (0.14 x the interpreter's own start-up;
    docs/benchmarks.md, case (e)) that found nothing to free. True when it paused it."""
    import gc

    if not gc.isenabled():
        return False
    gc.disable()
    return True


def _resume_collector():
    """Collect as usual again before the tool runs (it may run for hours), with the objects
    made so far frozen: they live until the process ends, so no collection need visit them."""
    import gc

    gc.freeze()
    gc.enable()


def _unknown_tool(tool, args, cfg, environ, dry_run=False):
    """argv0 names no configured tool. A shim installed for a tool that only a project config
    names (and this directory's config does not) must still reach that tool, so a real binary
    of that name runs untouched; with none, argv0 was something else: NOT_A_TOOL tells
    shim.entry to run the management CLI (the proxy never imports it)."""
    if next(resolve.candidates(tool, environ), None) is not None:
        if dry_run:
            return _dry_run_unchanged(tool, args, cfg, environ,
                                      f"{tool} is not configured under tools:")
        return _passthrough(tool, args, cfg, environ)
    return NOT_A_TOOL


def plan_call(tool, args, cfg, environ, cwd=None, request=None):
    """Everything decided before anything runs: request, agent, decision, real binary.

    `request` may be given already parsed (`llm-shim exec` builds its own)."""
    from shim import adapters
    from shim.policy import active as policies_active
    from shim.routing import agents, decide

    cwd = cwd or _cwd(environ)
    own_binary = None
    if request is None:
        grammar, own_binary = _grammar(tool, cfg, environ)
        request = adapters.parse(tool, args, cfg, grammar)
    try:
        agent, agent_reason = agents.identify(tool, cfg, environ, cwd)
    except errors.Blocked as exc:  # policies.unknown_agent: block
        _record_refused_agent(request, cfg, environ, cwd, exc)
        raise
    decision = decide(request, cfg, agent, agent_reason=agent_reason)
    gate = team = alerts = None
    if policies_active(cfg):
        from shim.policy import engine

        team, alerts = _team_hooks(cfg), _alert_hooks(cfg)
        gate = engine.admit_or_open(decision, request, cfg, environ, team=team, alerts=alerts)
        decision = gate.get("decision") or decision
    real = binary_error = None
    try:
        real = own_binary if own_binary and decision["tool"] == tool else \
            resolve.real_binary(decision["tool"], cfg, environ)
    except errors.RealBinaryNotFound as exc:
        # A missing primary tool is a fallback trigger (binary_missing) for a one-shot chain.
        if not (decision.get("fallbacks") and decision.get("mode") == "oneshot"):
            raise
        binary_error = exc
    return {"request": request, "decision": decision, "real_binary": real, "cwd": cwd,
            "gate": gate, "binary_error": binary_error, "team": team, "alerts": alerts}


def _record_refused_agent(request, cfg, environ, cwd, exc):
    """A call refused for an unknown agent is recorded as a blocked attempt, as a budget
    refusal is (under the default agent, whose budgets it would have met; the reasons keep the
    name asked for), so `logs` and `watch` show it. Not in a dry run."""
    if environ.get(DRY_RUN_ENV) == "1":
        return
    try:
        from shim.routing import agents, decide

        named = (environ.get(agents.ENV_VAR) or "").strip()
        reason = f"{agents.UNKNOWN_MARK}{named}: refused (policies.unknown_agent: block)"
        decision = decide(request, cfg, (cfg or {}).get("default_agent") or "default",
                          agent_reason=reason)
        gate = {"blocked": True, "block_reason": f"unknown agent: {exc.why}"}
        attempt.record({"request": request, "decision": decision, "cwd": cwd, "gate": gate},
                       cfg, environ, None, None, attempt=1)
    except Exception as bookkeeping:
        attempt.bookkeeping_warning(bookkeeping)


def _grammar(tool, cfg, environ):
    """(learned grammar or None, real binary or None) of the tool as called. Reading it is one
    stat and one marshal file; a binary that changed since it was learned is relearned in the
    background while this call goes on with the built-in tables."""
    from shim import adapters
    from shim.adapters import learned

    try:
        real = resolve.real_binary(tool, cfg, environ)
    except errors.ShimError:
        return None, None  # plan_call resolves again and reports it, or falls back
    name = adapters.adapter_name(tool, cfg)
    if name not in BUILTIN_TOOLS and not (((cfg.get("tools") or {}).get(tool) or {}).get("help")):
        return None, real
    if environ.get(LEARN_ENV) == "0" or environ.get(DRY_RUN_ENV) == "1":
        return learned.lookup(tool, real)[0], real  # a dry run starts nothing, not even --help
    return learned.load(tool, real), real


def _team_hooks(cfg):
    """The team budgets' hooks for the policy engine, or None (no budget of scope team)."""
    from shim.policy import budgets

    if not budgets.team_scoped(cfg):
        return None  # the common case: shim.team is not even imported
    from shim import team

    return team.budget_hooks(cfg)


def _alert_hooks(cfg):
    """The alerts' hooks for the policy engine, or None (no `policies.alerts`)."""
    if not ((cfg.get("policies") or {}).get("alerts")):
        return None  # the common case: shim.alerts is not even imported
    from shim import alerts

    return alerts.policy_hooks(cfg)


def _cwd(environ):
    try:
        return os.getcwd()
    except OSError:
        return environ.get("PWD", "/")


def execute(plan, cfg, environ):
    """Run the decided call. A policy gate or a one-shot fallback chain hands it to the attempt
    loop (shim.policy.attempts: budgets settled, fallbacks, cooldowns); the plain single
    attempt below is the hot path and imports nothing more unless the tool failed."""
    decision = plan["decision"]
    if plan.get("gate") is not None or (decision.get("fallbacks")
                                        and decision.get("mode") == "oneshot"):
        from shim.policy import attempts

        return attempts.run(plan, cfg, environ)
    tap = attempt.usage_tap(decision)
    attempt.record_start(plan, decision, cfg, environ, attempt=1)
    outcome = attempt.run(decision, plan["real_binary"], environ, tap=tap)
    failure_class = None
    if outcome["exit_code"] != 0:
        try:
            from shim.policy import attempts

            failure_class = attempts.after_plain_failure(decision, outcome, cfg)
        except Exception as exc:
            attempt.bookkeeping_warning(exc)
    attempt.record(plan, cfg, environ, outcome, failure_class, attempt=1)
    return outcome["exit_code"]


def _fail_open(tool, args, cfg, environ, exc, dry_run=False):
    if errors.debug_enabled():
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__)
    what = exc.what if isinstance(exc, errors.ShimError) else "internal error"
    why = exc.why if isinstance(exc, errors.ShimError) else f"{type(exc).__name__}: {exc}"
    if isinstance(exc, errors.ConfigError) and getattr(exc, "problems", None):
        why = f"{why} ({exc.problems[0]})"
    if cfg is not None:
        on_error = (cfg.get("policies") or {}).get("on_error")
    else:  # the config did not load: on_error as the layers that did parse set it
        on_error = getattr(exc, "on_error", None)
    if on_error == "block":
        code = errors.report(errors.ShimError(
            what, why, f"policies.on_error is block, so {tool} was not run; "
                       "LLM_SHIM_DISABLE=1 bypasses llm-shim"))
        if dry_run:
            return _print_dry_run_view({
                "tool": tool, "because": f"{what}: {why}", "would_run": False,
                "refused": "policies.on_error is block", "argv": [tool] + list(args)})
        return code
    if dry_run:
        errors.warn(what, why, f"dry run: the real {tool} would run unchanged; nothing was run")
        return _dry_run_unchanged(tool, args, cfg, environ, f"{what}: {why}")
    errors.warn(what, why, f"running the real {tool} unchanged (LLM_SHIM_DEBUG=1 for details)")
    failure = "config" if isinstance(exc, errors.ConfigError) else "internal"
    return _passthrough(tool, args, cfg, environ,
                        fell_open=(failure, f"fail open ({failure}): {what}: {why}"))


def _passthrough(tool, args, cfg, environ, fell_open=None):
    """The real tool with the original argv: no routing, no telemetry, except after a fail
    open (`fell_open` = (failure class, reason)): that call is still recorded, start line and
    end record, with the failure class `config` or `internal`, so `logs` and budgets see it."""
    try:
        real = resolve.real_binary(tool, cfg, environ)
    except errors.ShimError as exc:
        return errors.report(exc)
    plan = _fail_open_plan(tool, args, cfg, environ, fell_open) if fell_open else None
    if plan is not None:
        attempt.record_start(plan, plan["decision"], cfg, environ, attempt=1)
    outcome = runner.run(real, [tool] + list(args), attempt.child_env(environ, real))
    if plan is not None:
        attempt.record(plan, cfg or {}, environ, outcome, fell_open[0], attempt=1)
    return outcome["exit_code"]


def _fail_open_plan(tool, args, cfg, environ, fell_open):
    """A plan for recording a call our machinery could not route: the tool, the argv's length
    and, where the adapter can still read the argv, its mode and prompt; no agent (unknown)."""
    request = {}
    try:
        from shim import adapters

        request = adapters.parse(tool, args, cfg or {}) or {}
    except Exception:
        pass  # the record then has no mode (and no harvest hint): still a row
    reason = f"{fell_open[1]}; ran {tool} unchanged with {len(args)} argument(s)"
    decision = {"agent": None, "tool_requested": tool, "tool": tool,
                "model_requested": request.get("model"), "model": request.get("model"),
                "mode": request.get("mode"), "reasons": [reason], "changed": False,
                "prompt_chars": len(request["prompt"]) if isinstance(
                    request.get("prompt"), str) else None}
    return {"decision": decision, "request": request, "cwd": _cwd(environ), "gate": None}


def _dry_run_unchanged(tool, args, cfg, environ, because):
    """The dry run of a pass-through: which real binary would run, with the argv unchanged."""
    view = {"tool": tool, "because": because, "would_run": True, "real_binary": None,
            "argv": [tool] + list(args)}
    try:
        view["real_binary"] = resolve.real_binary(tool, cfg, environ)
    except errors.ShimError as exc:
        errors.report(exc)
        view["would_run"] = False
    return _print_dry_run_view(view)


def print_dry_run(plan):
    """A plan's dry run (the decision, the real binary, the gate's verdict) on stdout; public:
    `llm-shim exec` prints its plans the same way."""
    d = plan["decision"]
    view = {k: d.get(k) for k in ("agent", "agent_reason", "tool_requested", "tool",
                                  "model_requested", "model", "tier", "complexity", "reasons")}
    view["real_binary"] = plan["real_binary"]
    if plan.get("binary_error") is not None:
        view["binary_error"] = f"{plan['binary_error'].what}: {plan['binary_error'].why}"
    view["argv"] = [d["tool"]] + list(d["argv"])
    gate = plan.get("gate")
    if gate:
        view["policy"] = {k: gate.get(k) for k in ("blocked", "block_reason", "warnings")}
    return _print_dry_run_view(view)


def _print_dry_run_view(view):
    """Print a dry run's view on stdout as JSON; exit 0, or 1 when stdout cannot take it."""
    import json

    text = json.dumps(view, indent=2, ensure_ascii=False)
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):  # argv bytes that are not text: escape them
        text = json.dumps(view, indent=2)
    failed = errors.write_stdout("llm-shim dry run (nothing was run):\n" + text + "\n")
    if failed is None or isinstance(failed, BrokenPipeError):  # the reader went away: fine
        return exitcodes.OK
    return errors.report(errors.ShimError(
        "dry run", f"cannot write the decision to stdout: {failed.strerror or failed}",
        "nothing was run; send stdout somewhere that can take it"))
