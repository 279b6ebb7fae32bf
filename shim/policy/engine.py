"""The policy gate: admit a call before it runs (budgets, rate limits), settle it afterwards.

`admit` runs one `BEGIN IMMEDIATE` transaction on the telemetry database: expire dead
reservations, sum each applicable budget's spend (ingested rows + reservations not yet
ingested), judge it with this call's estimate, check the rate limits, and insert a reservation
and a rate event. Parallel shims therefore queue on the write lock and each sees the ones
before it (LiteLLM's check-then-record lets every parallel call through: #34732, #40095).
A stale spool is handed to a detached ingester first (shim.policy.stale_spool), so spend
from calls the gate never saw counts from the next admission on.

Settlement after the attempt is shim.policy.settle; the connection is shim.policy.state's;
the catch-up of a stale spool is shim.policy.stale_spool.

Team-scope budgets are judged in PostgreSQL by `team` hooks the caller passes in
(shim.team.budgets: admit, measure, and settle/release through the gate's `team` key): this
package never imports shim.team. Alerts (`policies.alerts`) are `alerts` hooks passed in the
same way (shim.alerts.policy_hooks: after_quotas at admission, after_settlement through the
gate's `alerts` key): this package never imports shim.alerts.

The gate is a plain dict (docs/policies.md): decision, blocked, error, block_reason,
budget_override, warnings, invocation_id, attempt, reservation_id, rate_event_id, estimate,
budgets, waited (and `team`, the hooks that settle a team reservation, when one was made;
`alerts`, the alert hooks settlement calls, when they were passed in and this is no dry run).
"""

import os
import time

from shim import errors, runner
from shim.policy import budgets, estimate, state
from shim.policy.state import connect

_WAIT_SLICE = 0.05  # re-check a little after the slot frees: clocks and other waiters
# A one-shot call under a hard budget with no recorded cost for its kind waits this long at
# most for the first such call to finish (see _first_call_in_flight), polling every slice.
FIRST_CALL_WAIT = 120.0
FIRST_CALL_SLICE = 0.1
# A reservation this large is never "0" as cap.text writes it (ten times cap.MIN_USD; a test
# checks): a call the cap cannot apply to is then not refused, and shim.policy.cap not loaded.
SURELY_NOT_ZERO_USD = 0.00001
# How long admission waits for the database's write lock (see busy_wait).
BUSY_WAIT_ENV = "LLM_SHIM_BUDGET_BUSY_WAIT"
HARD_BUDGET_BUSY_WAIT = 120.0
# Indirections so tests can run the rate-limit wait on a fake clock.
clock = time.time
sleep = time.sleep


def new_gate(decision, invocation_id=None, attempt=1):
    if invocation_id is None:
        from shim.telemetry import record

        invocation_id = record.new_invocation_id()
    return {"decision": decision, "blocked": False, "error": None, "block_reason": None,
            "budget_override": False, "warnings": [], "invocation_id": invocation_id,
            "attempt": int(attempt), "reservation_id": None, "rate_event_id": None,
            "estimate": None, "budgets": [], "waited": 0.0}


def admit(decision, request, cfg, environ=None, *, attempt=1, invocation_id=None, team=None,
          alerts=None):
    """Judge `decision` against the budgets and rate limits; reserve its estimated cost.

    Returns the gate. A hard budget or a rejecting rate limit sets `blocked` and `error`
    (an errors.Blocked for the proxy to print); nothing is reserved then. `team`: the team
    budgets' hooks (shim.team.budget_hooks), needed when a budget has scope team. `alerts`:
    the alert hooks (shim.alerts.policy_hooks), None when no alert is configured.
    """
    environ = os.environ if environ is None else environ
    gate = new_gate(decision, invocation_id, attempt)
    dry = environ.get(runner.DRY_RUN_ENV) == "1"
    override = environ.get(budgets.OVERRIDE_ENV) == "1"
    if alerts is not None and not dry:
        gate["alerts"] = alerts  # settle.finish tells them about the settled spend
    quota_warnings = _judge_quotas(gate, request, cfg, dry, override)
    if gate["blocked"]:
        return gate
    decision = gate["decision"]
    if not (budgets.applicable(cfg, decision) or rate_limits(cfg, decision)):
        gate["warnings"] = quota_warnings
        _print_warnings(gate, dry)
        return gate
    wait = busy_wait(_hard_budget(cfg, decision), environ)
    if budgets.configured(cfg):
        _catch_up(cfg, clock())
        _import_slice(cfg, wait)
    conn = connect(wait)  # opened with the wait (no PRAGMA) unless a quota or import opened it
    _admit_locked(conn, gate, request, cfg, dry, override)
    gate["warnings"] = quota_warnings + gate["warnings"]
    if not gate["blocked"] and any(b["scope"] == "team" for b in budgets.applicable(
            cfg, gate["decision"])):  # team budgets: in PostgreSQL (shim/team/budgets.py)
        _require_team(team)
        gate["team"] = team
        team.admit(connect(), gate, cfg, dry, override)
    _print_warnings(gate, dry)
    return gate


def _print_warnings(gate, dry):
    if not dry and not gate["blocked"]:
        for line in gate["warnings"]:
            errors.warn(*line)
    gate["warnings"] = [_join(w) for w in gate["warnings"]]


def _judge_quotas(gate, request, cfg, dry, override):
    """Plan-window quotas first (shim/policy/quotas.py): they may move the call to another
    tool or tier, which the budgets then judge. Returns the warnings (what, why, hint)."""
    if not ((cfg.get("policies") or {}).get("quotas")):
        return []
    from shim.policy import quotas

    if not quotas.applicable(cfg, gate["decision"]):
        return []
    judged = quotas.judge(connect(), gate["decision"], request, cfg, clock(), override)
    if gate.get("alerts") is not None:  # passed in only when alerts are configured
        gate["alerts"].after_quotas(connect(), judged["quotas"], cfg, clock())
    gate["decision"] = judged["decision"]
    if judged["error"] is not None:
        _block(gate, judged["error"])
        return []
    if judged["overridden"]:
        gate["budget_override"] = True
    return judged["warnings"]


def admit_or_open(decision, request, cfg, environ=None, *, attempt=1, invocation_id=None,
                  team=None, alerts=None):
    """`admit`, failing open: when the policy machinery itself fails (the database locked past
    its timeout, read-only or damaged), the call runs without its budget check after one
    warning, and is still recorded through the spool (`policies.on_error: passthrough`), or
    is refused (`block`). A budget check must never cost the user their call or its row."""
    try:
        return admit(decision, request, cfg, environ, attempt=attempt,
                     invocation_id=invocation_id, team=team, alerts=alerts)
    except Exception as exc:
        if errors.debug_enabled():
            raise
        gate = new_gate(decision, invocation_id, attempt)
        why = exc.why if isinstance(exc, errors.ShimError) else f"{type(exc).__name__}: {exc}"
        label = describe(decision)
        environ = os.environ if environ is None else environ
        if (_busy(exc) and environ.get(budgets.OVERRIDE_ENV) != "1"
                and _hard_budget(cfg or {}, decision)):
            # Never fail open past a hard limit: a database too busy to check refuses the call.
            unchecked = (f"the telemetry database stayed busy for {busy_wait(True, environ):g} "
                         "s, so the hard budget could not be checked")
            gate.update(blocked=True, block_reason=f"budget: {unchecked}", error=errors.Blocked(
                "budget", unchecked, f"{label} was not run; try again, or "
                               f"{budgets.OVERRIDE_ENV}=1 runs it anyway (recorded)"))
            return gate
        if (((cfg or {}).get("policies") or {}).get("on_error") or "passthrough") == "block":
            gate.update(blocked=True, block_reason=f"policy: {why}", error=errors.Blocked(
                "policy", why, f"policies.on_error is block, so {label} was not run"))
        else:
            errors.warn("policy", why, f"running {label} without its budget check")
        return gate


def _require_team(team):
    if team is None:  # a caller's bug, not the user's: fails open like any internal error
        raise TypeError("a budget has scope team, but no team hooks were passed to the engine")


def _hard_budget(cfg, decision):
    """True when a hard budget applies to the call: it must never run unchecked."""
    return any(b.get("type") == "hard" for b in budgets.applicable(cfg, decision))


def busy_wait(hard, environ):
    """Seconds the gate waits for a busy database (SQLite's busy timeout): long under a hard
    budget (a parallel burst queues on the write lock; under load that can take a while),
    the store's default otherwise; `LLM_SHIM_BUDGET_BUSY_WAIT` sets both."""
    value = environ.get(BUSY_WAIT_ENV)
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
    if hard:
        return HARD_BUDGET_BUSY_WAIT
    from shim.telemetry import database

    return database.DEFAULT_TIMEOUT


def _busy(exc):
    """The database stayed locked past the busy timeout (not damaged, not read-only)."""
    if isinstance(exc, errors.ShimError):
        return False
    from shim.telemetry import store

    return store.classify(exc) == "locked"


def describe(decision):
    """`claude (claude-haiku-4-5)`: the tool and model of an attempt, for messages."""
    model = decision.get("model")
    return f"{decision.get('tool')}" + (f" ({model})" if model else "")


def _join(warning):
    what, why, hint = warning
    return f"{what}: {why}" + (f"; {hint}" if hint else "")


def _catch_up(cfg, now):
    """A stale spool is handed to a detached ingester (shim.policy.stale_spool, imported only
    then: most calls find the spool fresh)."""
    from shim.telemetry import spool

    try:
        stale = spool.is_stale(spool.STALE_AFTER, now)
    except Exception:
        stale = True  # catch_up reads it again, and says what failed
    if stale:
        from shim.policy import stale_spool

        stale_spool.catch_up(cfg, now)


def _import_slice(cfg, wait):
    """Usage outside the shim (an IDE's Claude, a daemon) counts against budgets too: import
    what changed in the tools' own logs, bounded to a small slice per call (shim.telemetry.
    imports.ADMISSION_SECONDS). When nothing changed since the last import (its stamp: a stat
    per log file and directory, shim.telemetry.importstamp) the import package is not even
    loaded. Never fatal.

    The connection is opened here with admission's busy `wait`, so the common call (nothing
    to import) sets no busy timeout by a statement; an import itself waits the store's
    default, as it always did (a statement each way, only then)."""
    try:
        from shim.telemetry import importstamp

        if importstamp.auto_off(os.environ) or importstamp.unchanged(os.environ, connect(wait)):
            return
        from shim.telemetry import database, imports

        imports.refresh(connect(database.DEFAULT_TIMEOUT), cfg, bounded=True, what="budget")
    except Exception as exc:
        if errors.debug_enabled():
            raise
        errors.warn("budget", f"could not import the tools' own logs: {type(exc).__name__}: "
                    f"{exc}", "spend outside the shim is not counted")


def _admit_locked(conn, gate, request, cfg, dry, override):
    waited = 0.0
    first_wait = 0.0  # waiting for the first call of a kind with no recorded cost
    while True:
        at = clock()
        conn.execute("BEGIN IMMEDIATE")
        try:
            state.expire(conn, at, prune=False)
            judged = judge_budgets(conn, gate["decision"], request, cfg, at)
            if (not dry and first_wait < FIRST_CALL_WAIT and judged["error"] is None
                    and _first_call_in_flight(conn, judged, cfg)):
                conn.execute("ROLLBACK")
                sleep(FIRST_CALL_SLICE)
                first_wait += FIRST_CALL_SLICE
                continue
            if first_wait:
                judged["decision"] = dict(judged["decision"], reasons=list(
                    judged["decision"].get("reasons") or ()) + [
                    f"budget: waited {first_wait:.1f}s for the first call like this one to "
                    f"record its cost (reserving {budgets.usd(judged['estimate']['usd'])})"])
            if judged["error"] is None:
                _cap(judged, request, cfg)
            gate["decision"] = judged["decision"]
            gate["estimate"] = judged["estimate"]
            gate["budgets"] = judged["budgets"]
            gate["warnings"] = judged["warnings"]
            if judged["error"] is not None:
                if not override:
                    conn.execute("ROLLBACK")
                    return _block(gate, judged["error"])
                gate["budget_override"] = True
                gate["warnings"].append(("budget", judged["error"].why,
                                         f"{budgets.OVERRIDE_ENV}=1: running it anyway "
                                         "(recorded)"))
            limit, which, wait = rate_wait(conn, gate["decision"], cfg, judged["estimate"], at)
            if wait > 0:
                conn.execute("ROLLBACK")
                from shim.policy import ratelimit  # loaded already: a limit applied

                if limit["on_limit"] == "reject" or wait > limit["max_wait"] - waited:
                    return _block(gate, ratelimit.rejected_error(limit, which, wait))
                if dry:
                    gate["warnings"].append(("rate limit", ratelimit.describe(limit, which),
                                             f"would wait {budgets.duration(wait)}"))
                    gate["waited"] = wait
                    return gate
                sleep(wait + _WAIT_SLICE)
                waited += wait + _WAIT_SLICE
                gate["waited"] = waited
                continue
            if waited:
                gate["decision"].setdefault("reasons", []).append(
                    f"rate limit: waited {waited:.1f}s for a slot")
            if not dry:
                _reserve(conn, gate, judged, cfg, at, override)
            conn.execute("COMMIT")
            return gate
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise


def _first_call_in_flight(conn, judged, cfg):
    """True when this one-shot call falls under a hard budget, nothing like it (same agent,
    tool, model) has a recorded cost yet, no `reserve_usd` fixes its reservation, and such a
    call is already running: its cost, once settled, is a far better reservation than the
    static guess, so a parallel burst waits for it (at most FIRST_CALL_WAIT) instead of
    all starting on a guess that may be far too low."""
    est = judged["estimate"]
    decision = judged["decision"]
    if (est.get("history") or decision.get("mode") != "oneshot"
            or not budgets.hard_names(judged["budgets"])):
        return False
    if budgets.fixed_reservation([r["budget"] for r in judged["budgets"]]) is not None:
        return False
    values = budgets.subject(decision, cfg)
    # Another shim's call: this process's own reservations (a caller admitting several
    # attempts itself) would only make it wait for itself.
    return conn.execute(
        "SELECT 1 FROM policy_reservations WHERE settled = 0 AND agent IS ? AND tool IS ? "
        "AND model IS ? AND NOT (pid IS ? AND host IS ?) LIMIT 1",
        (values["agent"], values["tool"], values["model"], os.getpid(), state.host())
    ).fetchone() is not None


def _cap(judged, request, cfg):
    """A claude one-shot call under a hard budget gets `--max-budget-usd` = its reservation
    (shim.policy.cap); one that cannot be capped (a reservation of 0) is refused. The module
    is not even imported for a call it could neither cap nor refuse: under no hard budget, or
    not one-shot (cap.applies needs that or a `-p`) with a reservation well above zero."""
    names = budgets.hard_names(judged["budgets"])
    if not names:
        return
    if (judged["decision"].get("mode") != "oneshot" and not (request or {}).get("print_flag")
            and judged["estimate"]["usd"] >= SURELY_NOT_ZERO_USD):
        return
    from shim.policy import cap

    if not cap.applies(judged["decision"], request, cfg):
        judged["error"] = cap.unpriced(judged["decision"], judged["estimate"]["usd"], names)
        return
    judged["decision"], judged["error"] = cap.apply(judged["decision"],
                                                    judged["estimate"]["usd"], names)


def _block(gate, error):
    gate["blocked"] = True
    gate["error"] = error
    gate["block_reason"] = f"{error.what}: {error.why}"
    return gate


def judge_budgets(conn, decision, request, cfg, now, downgraded=False):
    """{"decision", "estimate", "budgets": [...], "warnings": [...], "error": Blocked|None}."""
    # Team-scope budgets are judged in the team store after these (shim/team/budgets.py).
    applicable = [b for b in budgets.applicable(cfg, decision) if b["scope"] != "team"]
    fixed = budgets.fixed_reservation(applicable) if applicable else None
    if fixed is not None:  # `reserve_usd`: neither a price nor the recorded costs matter
        est = {"usd": fixed, "tokens": sum(estimate.tokens(decision, cfg)),
               "model": estimate.effective_model(decision),
               "basis": f"reserve_usd {budgets.usd(fixed)}", "history": None}
    elif applicable:
        est = estimate.estimate(decision, cfg, conn)
    else:
        est = {"usd": 0.0, "tokens": sum(estimate.tokens(decision, cfg)),
               "model": estimate.effective_model(decision), "basis": "no budget applies"}
    rows, warnings, error = [], [], None
    downgrade = None
    for budget in applicable:
        row = measure(conn, budget, cfg, now)
        verdict = budgets.judge(budget, row["spent"], row["in_flight"], est["usd"], downgraded)
        row["verdict"] = verdict
        rows.append(row)
        if verdict == "downgrade" and downgrade is None:
            downgrade = row
        elif verdict == "warn":
            limit = budgets.usd(budget["limit_usd"])
            warnings.append(("budget", budgets.describe(budget, row["spent"], row["in_flight"],
                                                        est["usd"], row["label"]),
                             f"{limit} is a soft limit: running it anyway"))
        elif verdict == "block" and error is None:
            error = budgets.blocked_error(budget, row["spent"], row["in_flight"], est["usd"],
                                          row["label"], row["reset_at"], now)
    if downgrade is not None and request is not None:
        cheaper = _downgrade(decision, request, cfg, downgrade)
        judged = judge_budgets(conn, cheaper, request, cfg, now, downgraded=True)
        if cheaper.get("model") != decision.get("model"):
            judged["warnings"].insert(0, ("budget", _downgrade_reason(downgrade, est["usd"]),
                                          f"running {cheaper.get('model')} instead of "
                                          f"{estimate.effective_model(decision)}"))
        return judged
    return {"decision": decision, "estimate": est, "budgets": rows, "warnings": warnings,
            "error": error}


def _downgrade_reason(row, est_usd):
    """Where the budget is, and where this call on its first choice would take it: the latter
    is what crossed `downgrade_at`."""
    budget = row["budget"]
    limit = budget["limit_usd"]
    now_pct = 100.0 * (row["spent"] + row["in_flight"]) / limit if limit else 100.0
    with_pct = 100.0 * (row["spent"] + row["in_flight"] + est_usd) / limit if limit else 100.0
    return (f"{budgets.who(budget)} is at {now_pct:.0f}% of {budgets.usd(limit)} "
            f"{row['label']}, {with_pct:.0f}% with this call (about {budgets.usd(est_usd)}) "
            f"(downgrade_at {budget['downgrade_at']:.0%})")


def _downgrade(decision, request, cfg, row):
    from shim.routing import decide

    reason = f"budget '{row['budget']['name']}'"
    state_ = {"downgrade": True, "reason": reason}
    if decision.get("quota_redirect"):  # keep the tool a quota moved the call to
        state_["redirect"] = decision["quota_redirect"]
    cheaper = decide(request, cfg, decision.get("agent"), budget_state=state_,
                     agent_reason=decision.get("agent_reason"))
    if cheaper.get("agent_reason") is None:
        cheaper["agent_reason"] = decision.get("agent_reason")
    return cheaper


def measure(conn, budget, cfg, now, team=None):
    """Spend of one budget's current period: {"budget", "spent", "in_flight", ...}.
    A team-scope budget is measured by the `team` hooks (the team store's figures)."""
    if budget["scope"] == "team":
        _require_team(team)
        return team.measure(conn, budget, cfg, now)
    start, reset_at, label = budgets.period_bounds(budget, cfg, now)
    column = budgets.SCOPE_COLUMNS[budget["scope"]]
    recorded = state.recorded_spend(conn, column, budget["patterns"], start)
    settled, in_flight, count = state.reserved_spend(conn, column, budget["patterns"], start)
    if reset_at is None:
        oldest = state.oldest_spend(conn, column, budget["patterns"], start)
        reset_at = (oldest + budget["window_s"]) if oldest is not None else None
    return {"budget": budget, "start": start, "reset_at": reset_at, "label": label,
            "spent": recorded + settled, "recorded": recorded, "pending": settled,
            "in_flight": in_flight, "in_flight_calls": count}


def rate_wait(conn, decision, cfg, est, now):
    """(limit, window key, seconds) of the longest wait any applicable limit imposes."""
    worst = (None, None, 0.0)
    limits = rate_limits(cfg, decision)
    if not limits:
        return worst
    from shim.policy import ratelimit  # loaded by rate_limits

    for limit in limits:
        back = ratelimit.lookback(limit)
        if not back:  # a limit that sets no window never waits
            continue
        column = budgets.SCOPE_COLUMNS[limit["scope"]]
        events = state.rate_times(conn, column, limit["patterns"], now - back)
        wait, which = ratelimit.wait_for(limit, events, est["tokens"], now)
        if wait > worst[2]:
            worst = (limit, which, wait)
    return worst


def rate_limits(cfg, decision):
    """The rate limits that apply to the call (shim.policy.ratelimit.applicable). With none
    configured, [] without importing that module: a call under a budget alone does not load
    it (~0.15 ms, as every module)."""
    if not ((cfg.get("policies") or {}).get("rate_limits")):
        return []
    from shim.policy import ratelimit

    return ratelimit.applicable(cfg, decision)


def _reserve(conn, gate, judged, cfg, now, override):
    decision = gate["decision"]
    values = budgets.subject(decision, cfg)
    common = {"invocation_id": gate["invocation_id"], "attempt": gate["attempt"]}
    if judged["budgets"]:
        gate["reservation_id"] = state.reserve(
            conn, agent=values["agent"], tool=values["tool"], provider=values["provider"],
            model=values["model"], cost_usd=judged["estimate"]["usd"],
            tokens=judged["estimate"]["tokens"], override=override, now=now, **common)
    if rate_limits(cfg, decision):
        gate["rate_event_id"] = state.add_rate_event(
            conn, agent=values["agent"], tool=values["tool"], model=values["model"],
            tokens=judged["estimate"]["tokens"], now=now, **common)
