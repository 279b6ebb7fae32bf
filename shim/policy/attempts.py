"""The attempt loop: run a call, and when it fails in a way a fallback can fix, run the next
entry of its chain instead, so that the user gets exactly one answer.

The proxy hands a plan here when a policy gate exists or the decision carries fallbacks.
For each entry of [primary] + decision["fallbacks"]:

1. skip it when its tool or model is cooling down and a later entry is not (noted in the
   reasons of the attempt that runs next);
2. admit it (budgets, rate limits) unless it is the primary, which the proxy admitted;
   a refused fallback is recorded as a blocked attempt and the next entry is tried;
3. find its real binary; a missing one is a `binary_missing` attempt;
4. run it. While another entry could still follow, stdout is held back (the runner pipes it)
   and the last 8 KiB of stderr are kept for classification; stderr itself passes through
   live, so the user sees why a tool failed, followed by one `llm-shim: fallback:` line;
5. classify the outcome (shim.policy.failures); record the attempt (same invocation_id,
   attempt 1..n, each with its failure_class); settle its reservation; cool it down when it
   was rate_limited/overloaded;
6. when the class is one of `policies.fallback.triggers` and an entry remains within
   `max_attempts` and `deadline_seconds`, discard the held stdout and go on; otherwise write
   the held stdout and return the exit code.

When no later entry could run after all (blocked, missing, past the deadline), the last real
attempt's held output and exit code are what the user gets.
"""

import os
import time

from shim import attempt, errors, exitcodes, resolve
from shim.policy import active as policies_active

STDERR_TAIL = 8192  # failures.TAIL_BYTES; failures (and `re`) load only when an attempt failed
DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_DEADLINE = 900.0
DEFAULT_TRIGGERS = ("rate_limited", "overloaded", "quota", "network", "timeout",
                    "binary_missing")


def settings(cfg):
    fb = ((cfg.get("policies") or {}).get("fallback")) or {}
    triggers = fb.get("triggers")
    return {
        "triggers": tuple(DEFAULT_TRIGGERS if triggers is None else triggers),
        "max_attempts": int(fb.get("max_attempts") or DEFAULT_MAX_ATTEMPTS),
        "deadline": float(fb.get("deadline_seconds") or DEFAULT_DEADLINE),
    }


def entries(plan, cfg):
    """[(decision, request)] for the primary and each fallback (one-shot calls only)."""
    decision = plan["decision"]
    out = [(decision, plan["request"])]
    if decision.get("mode") != "oneshot":
        return out
    for number, fb in enumerate(decision.get("fallbacks") or (), 1):
        out.append(fallback_decision(decision, fb, number, cfg))
    return out


def fallback_decision(primary, entry, number, cfg):
    """The Decision for fallback `number` (the rendered argv is routing's), and its Request."""
    from shim import adapters

    tool, model, argv = entry["tool"], entry.get("model"), list(entry["argv"])
    request = adapters.parse(tool, argv, cfg)
    info = ((cfg.get("models") or {}).get(model) or {}) if model else {}
    decision = dict(primary)
    decision.update(
        tool=tool, model=model, argv=argv, changed=True,
        provider=info.get("provider"), tier=info.get("tier"),
        output_format=request.get("output_format") or primary.get("output_format"),
        mode=request.get("mode") or primary.get("mode"),
        reasons=list(primary.get("reasons") or ()),
        fallbacks=[],
    )
    return decision, request


def run(plan, cfg, environ):
    """Run the plan's attempts; return the exit code the user gets."""
    from shim.policy import settle

    gate = plan.get("gate")
    invocation_id = (gate or {}).get("invocation_id")
    if invocation_id is None:
        from shim.telemetry import record

        invocation_id = record.new_invocation_id()
    plan["invocation_id"] = invocation_id
    if gate is not None and gate.get("blocked"):
        _record(plan, plan["decision"], gate, cfg, environ, None, None, 1)
        return errors.report(gate["error"])

    opts = settings(cfg)
    try:
        chain = entries(plan, cfg)
    except Exception as exc:  # our machinery failed: the primary still runs (fail open)
        attempt.bookkeeping_warning(exc)
        chain = [(plan["decision"], plan["request"])]
    policies_on = policies_active(cfg)
    cooling = _cooling(chain) if len(chain) > 1 else [None] * len(chain)
    replay = _stdin_replay() if len(chain) > 1 else None
    ran = 0                 # attempts that started a child
    started = time.monotonic()
    number = 0              # attempts recorded so far
    last = None             # (outcome, decision, diagnosis) of the last attempt that ran
    last_error = None       # the ShimError to report when nothing ran at all
    notes = []              # reasons to add to the next attempt (cooldown skips...)
    why_previous = "a cooldown"

    for index, (decision, request) in enumerate(chain):
        primary = index == 0
        entry_gate = gate if primary else None
        if cooling[index] is not None and any(c is None for c in cooling[index + 1:]):
            notes.append(f"cooldown: skipped {_label(decision)}: "
                         f"{_cooldown_text(cooling[index])}")
            why_previous = f"a cooldown on {_label(decision)}"
            if primary:
                settle.release(gate)
            continue
        if cooling[index] is not None:
            notes.append(f"cooldown: {_cooldown_text(cooling[index])}; "
                         "every later entry is cooling too, so it runs anyway")
        if number >= opts["max_attempts"] or (
                number and time.monotonic() - started > opts["deadline"]):
            if primary:
                settle.release(gate)
            break
        if notes:
            decision = dict(decision, reasons=list(decision.get("reasons") or ()) + notes)
            notes = []
        if not primary:
            decision = dict(decision, reasons=list(decision["reasons"]) + [
                f"fallback {index}: {_label(decision)} after {why_previous}"])
            if policies_on:
                entry_gate = _admit_fallback(decision, request, cfg, environ, number + 1,
                                             invocation_id, plan.get("team"), plan.get("alerts"))
                decision = entry_gate.get("decision") or decision
                if entry_gate.get("blocked"):
                    number += 1
                    _record(plan, decision, entry_gate, cfg, environ, None, None, number)
                    last_error = entry_gate["error"]
                    why_previous = f"{_label(decision)} was refused"
                    _notice(f"{_label(decision)} refused ({entry_gate['block_reason']})")
                    continue
        real = _real_binary(plan, decision, primary, cfg, environ)
        if isinstance(real, errors.ShimError):
            number += 1
            settle.release(entry_gate)
            outcome = {"exit_code": real.exit_code, "started_at": time.time(),
                       "ended_at": time.time()}
            _record(plan, decision, entry_gate, cfg, environ, outcome, "binary_missing",
                    number)
            last_error = real
            why_previous = f"binary_missing on {_label(decision)}"
            if "binary_missing" in opts["triggers"] and index + 1 < len(chain):
                _notice(f"{_label(decision)} is not installed; trying the next entry")
                continue
            break
        number += 1
        more = (index + 1 < len(chain) and number < opts["max_attempts"]
                and time.monotonic() - started <= opts["deadline"])
        if ran and replay is not None:
            replay.rewind()
        ran += 1
        attempt.record_start(plan, decision, cfg, environ, attempt=number)
        outcome, diagnosis = _run_one(decision, real, environ, cfg,
                                      hold=more, watch=len(chain) > 1,
                                      deadline=started + opts["deadline"]
                                      if len(chain) > 1 else None)
        if outcome.get("timed_out"):
            _notice(f"{_label(decision)} stopped: the chain's deadline of "
                    f"{opts['deadline']:g} s (policies.fallback.deadline_seconds) passed")
        _record(plan, decision, entry_gate, cfg, environ, outcome, diagnosis["class"], number)
        settle.finish(entry_gate, decision, outcome, cfg, diagnosis, attempt=number)
        last = (outcome, decision, diagnosis)
        why_previous = f"{diagnosis['class']} on {_label(decision)}"
        if (more and diagnosis["class"] in opts["triggers"]
                and time.monotonic() - started <= opts["deadline"]):
            nxt = chain[_next_runnable(cooling, index)][0]
            _notice(f"{_label(decision)} failed ({diagnosis['class']}); trying "
                    f"{_label(nxt)}")
            continue
        _release_output(outcome)
        return outcome["exit_code"]

    if last is not None:
        _release_output(last[0])
        return last[0]["exit_code"]
    if last_error is not None:
        return errors.report(last_error)
    return exitcodes.ERROR


def _next_runnable(cooling, index):
    """The index of the entry after `index` that the loop will not skip for a cooldown."""
    for j in range(index + 1, len(cooling)):
        if cooling[j] is None or not any(c is None for c in cooling[j + 1:]):
            return j
    return index + 1


def _stdin_replay():
    try:
        from shim import paths
        from shim.policy import stdin

        return stdin.prepare(paths.ensure_dir(paths.cache_dir()))
    except Exception as exc:
        attempt.bookkeeping_warning(exc)
        return None


def _admit_fallback(decision, request, cfg, environ, number, invocation_id, team, alerts=None):
    """The gate of a fallback entry (engine.admit_or_open: failing open, or refused).
    `team`, `alerts`: the plan's team budget and alert hooks (the proxy's; None without
    team budgets, without alerts)."""
    from shim.policy import engine

    return engine.admit_or_open(decision, request, cfg, environ, attempt=number,
                                invocation_id=invocation_id, team=team, alerts=alerts)


def after_plain_failure(decision, outcome, cfg):
    """The failure class of a failed plain (ungated, chainless) call, from the JSON hints only
    (its output went straight to the user); starts a cooldown when some chain could use it."""
    from shim.policy import cooldown, failures

    diagnosis = failures.diagnose(outcome["exit_code"], None, None, outcome.get("usage"),
                                  decision.get("tool"), cfg)
    if diagnosis["class"] in cooldown.COOLDOWN_CLASSES and chains_configured(cfg):
        from shim.policy import settle

        settle.finish(None, decision, outcome, cfg, diagnosis)
    return diagnosis["class"]


def chains_configured(cfg):
    if (((cfg.get("policies") or {}).get("fallback")) or {}).get("chains"):
        return True
    return any((a or {}).get("fallback") for a in (cfg.get("agents") or {}).values())


def _label(decision):
    from shim.policy import engine

    return engine.describe(decision)


def _cooldown_text(row):
    from shim.policy import cooldown

    return cooldown.describe(row)


def _notice(text):
    """One line on stderr, in the errors' shape, so a user sees why a second tool answered."""
    try:
        os.write(2, f"llm-shim: fallback: {text}\n".encode("utf-8", "replace"))
    except OSError:
        pass


def _cooling(chain):
    """Per entry, the active cooldown that applies to it (or None). Never raises."""
    try:
        from shim.policy import cooldown, state

        active = state.cooldowns(state.connect())
        return [cooldown.cooling(active, d.get("tool"), d.get("model")) for d, _ in chain]
    except Exception as exc:
        if errors.debug_enabled():
            raise
        errors.warn("policy", f"cannot read cooldowns: {type(exc).__name__}: {exc}",
                    "no entry is skipped")
        return [None] * len(chain)


def _real_binary(plan, decision, primary, cfg, environ):
    """The real binary's path, or the ShimError saying why there is none."""
    if primary and plan.get("real_binary"):
        return plan["real_binary"]
    if primary and plan.get("binary_error") is not None:
        return plan["binary_error"]
    try:
        return resolve.real_binary(decision["tool"], cfg, environ)
    except (errors.RealBinaryNotFound, errors.RecursionDetected) as exc:
        return exc


def _run_one(decision, real, environ, cfg, hold, watch, deadline=None):
    """Run one attempt. `hold`: keep stdout back (a fallback may replace it). `watch`: keep
    the stderr tail for classification (only inside a chain: it pipes stderr). `deadline`
    (monotonic): the chain's; an attempt still running then is stopped and classed timeout."""
    from shim import adapters

    tap = attempt.usage_tap(decision, adapters.adapter_name(decision["tool"], cfg))
    outcome = attempt.run(decision, real, environ, tap=tap, hold_stdout=hold,
                          keep_stderr=STDERR_TAIL if watch else 0, deadline=deadline)
    if outcome.get("timed_out"):
        return outcome, {"class": "timeout", "retry_after": None,
                         "evidence": "stopped at the chain's deadline"}
    usage = outcome.get("usage") or {}
    if outcome["exit_code"] == 0 and not (usage.get("error") or {}).get("is_error"):
        return outcome, {"class": None, "retry_after": None, "evidence": None}
    try:
        from shim.policy import failures

        diagnosis = failures.diagnose(outcome["exit_code"], outcome.get("stdout"),
                                      outcome.get("stderr_tail"), outcome.get("usage"),
                                      decision.get("tool"), cfg)
    except Exception as exc:
        attempt.bookkeeping_warning(exc)
        diagnosis = {"class": "error" if outcome["exit_code"] else None,
                     "retry_after": None, "evidence": None}
    return outcome, diagnosis


def _release_output(outcome):
    """Write the held stdout of the attempt that is final (nothing when it was not held)."""
    held = outcome.get("stdout")
    while held:
        try:
            n = os.write(1, held)
        except BrokenPipeError:
            return
        except InterruptedError:
            continue
        held = held[n:]


def _record(plan, decision, gate, cfg, environ, outcome, failure_class, attempt_number):
    """Append one attempt (same invocation id as the others, this entry's decision and gate)."""
    return attempt.record(plan, cfg, environ, outcome, failure_class, attempt_number,
                          decision=decision, gate=gate or {})
