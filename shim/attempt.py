"""Run one attempt and record it: the child's environment, the JSON usage tap, the start line,
the attempt record, and the one warning a bookkeeping failure costs.

The lower half of a call, shared by the plain call (`proxy.execute`) and the attempt loop
(`policy.attempts.run`), so neither reaches into the other. On the hot path: imports only
what a plain call needs; telemetry modules load inside the functions. Nothing here raises
into the call or changes the tool's exit code (docs/internals.md "Call path").
"""

import time

from shim import errors, exitcodes, resolve, runner

JSON_FORMATS = ("json", "stream-json", "jsonl")


def child_env(environ, real_binary):
    """The child's environment: ours, plus the recursion guard."""
    env = dict(environ)
    env[resolve.CHAIN_ENV] = resolve.child_chain(environ, real_binary)
    return env


def usage_tap(decision, tap_name=None):
    """A reader of the tool's JSON output (tokens, cost, model), or None: only a one-shot call
    whose output is JSON gets one. `tap_name`: which tool's shape to read (default the tool)."""
    if decision.get("mode") != "oneshot" or decision.get("output_format") not in JSON_FORMATS:
        return None
    try:
        from shim.telemetry import usage

        return usage.tap_for(tap_name or decision["tool"], decision["output_format"])
    except Exception as exc:
        bookkeeping_warning(exc)
        return None


def tap_result(tap):
    try:
        usage = tap.result()
    except Exception as exc:
        bookkeeping_warning(exc)
        return None
    if usage and usage.get("rate_limit_events"):  # Claude's plan windows (docs/plans.md)
        from shim.plans import snapshots

        snapshots.record_events(usage.pop("rate_limit_events"), usage.get("session_id"))
    return usage


def run(decision, real, environ, tap=None, **runner_options):
    """Start the real binary with the decision's argv; the runner's outcome, with `usage`
    when a tap read it. `runner_options`: hold_stdout, keep_stderr, deadline (runner.run)."""
    outcome = runner.run(real, [decision["tool"]] + list(decision["argv"]),
                         child_env(environ, real), tap=tap, **runner_options)
    if tap is not None:
        outcome["usage"] = tap_result(tap)
    return outcome


def invocation_id(plan):
    """The plan's invocation id, made on first use (all attempts of a call share it)."""
    found = plan.get("invocation_id")
    if found is None:
        from shim.telemetry import record

        found = plan["invocation_id"] = record.new_invocation_id()
    return found


def record_memo(plan):
    """What the call's records share (git state, salted hashes: record.make_attempt's `memo`),
    kept in the plan so each is computed once per call, not per start line and record."""
    memo = plan.get("record_memo")
    if memo is None:
        memo = plan["record_memo"] = {}
    return memo


def record_start(plan, decision, cfg, environ, attempt):
    """Append the attempt's start line (record.make_start) just before the tool starts, so a
    shim killed outright still leaves its call behind: ingestion records it as `killed`.
    Never raises, never stops the call."""
    try:
        from shim.telemetry import record, spool

        prompt = (plan.get("request") or {}).get("prompt")
        # Quiet on failure: the end record's append warns once, and records the call anyway.
        spool.append(record.make_start(decision, cfg or {}, invocation_id=invocation_id(plan),
                                       attempt=attempt, cwd=plan["cwd"], environ=environ,
                                       prompt=prompt if isinstance(prompt, str) else None,
                                       memo=record_memo(plan)),
                     warn=False)
    except Exception as exc:
        bookkeeping_warning(exc)


def record(plan, cfg, environ, outcome, failure_class, attempt, decision=None, gate=None):
    """Append the attempt to the spool; never raises, never changes the exit code.

    `decision`/`gate` default to the plan's (an attempt of a fallback chain passes its own).
    `telemetry.enabled: false` still appends a counter (record.make_attempt): budgets and rate
    limits need it. The prompt goes in for its length and salted hash (and, under `privacy:
    full` only, its text and the answer a JSON tap read); the record keeps nothing more."""
    try:
        from shim.telemetry import record as records
        from shim.telemetry import spool

        decision = decision if decision is not None else plan["decision"]
        gate = (gate if gate is not None else plan.get("gate")) or {}
        now = time.time()
        outcome = dict(outcome or {"exit_code": exitcodes.BLOCKED, "started_at": now,
                                   "ended_at": now})
        outcome.pop("stdout", None)        # held output of a chain's attempt: not a record's
        outcome.pop("stderr_tail", None)
        outcome.setdefault("failure_class", failure_class)
        outcome.setdefault("blocked", bool(gate.get("blocked")))
        outcome.setdefault("block_reason", gate.get("block_reason"))
        outcome.setdefault("budget_override", bool(gate.get("budget_override")))
        prompt = (plan.get("request") or {}).get("prompt")
        if isinstance(prompt, str):
            outcome.setdefault("prompt_text", prompt)
        outcome.setdefault("response_text", (outcome.get("usage") or {}).get("text"))
        rec = records.make_attempt(decision, outcome, cfg, invocation_id=invocation_id(plan),
                                   attempt=attempt, cwd=plan["cwd"], environ=environ,
                                   memo=record_memo(plan))
        if rec is not None and spool.append(rec):
            if (cfg or {}).get("team"):  # team mode: ingest and push, detached (docs/team.md)
                ingest_in_background("shim.team.sync")
            elif spool.needs_ingest():
                ingest_in_background()
        return rec
    except Exception as exc:
        bookkeeping_warning(exc)
        return None


def ingest_in_background(module="shim.telemetry.ingest"):
    """The spool grew past its bound (nothing has read it for a long while): import it into
    SQLite in a detached process, so this call does not wait for it. In team mode
    (`module` shim.team.sync) that process also pushes the new rows to the team store."""
    from shim import detach

    detach.spawn(module)


def bookkeeping_warning(exc, what="telemetry",
                        hint="the call itself is unaffected; `llm-shim doctor` checks the store"):
    """One warning line for our own failure after (or around) the run; the call goes on.
    (The policy's settlement says `policy` and its own hint.)"""
    if errors.debug_enabled():
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__)
    errors.warn(what, f"{type(exc).__name__}: {exc}", hint)
