"""The policy gate: admit a call before it runs (budgets, rate limits), settle it afterwards.

`admit` runs one `BEGIN IMMEDIATE` transaction on the telemetry database: expire dead
reservations, sum each applicable budget's spend (ingested rows + reservations not yet
ingested), judge it with this call's estimate, check the rate limits, and insert a reservation
and a rate event. Parallel shims therefore queue on the write lock and each sees the ones
before it (LiteLLM's check-then-record lets every parallel call through: #34732, #40095).
A stale spool is ingested just before, so spend from calls the gate never saw counts too.

`finish` runs after the attempt's record is in the spool: the reservation is settled with the
actual cost (it keeps counting until ingestion has the row, see shim.policy.state), the rate
event gets the real token count, and a rate_limited/overloaded attempt starts a cooldown.

The gate is a plain dict (docs/policies.md): decision, blocked, error, block_reason,
budget_override, warnings, invocation_id, attempt, reservation_id, rate_event_id, estimate,
budgets, waited.
"""

import os
import sys
import time

from shim import errors
from shim.policy import budgets, estimate, ratelimit, state

DRY_RUN_ENV = "LLM_SHIM_DRY_RUN"
COOLDOWN_CLASSES = ("rate_limited", "overloaded")  # = failures.COOLDOWN_CLASSES, without `re`
# Failed attempts that cannot have spent anything when the tool reported no usage.
NOTHING_SPENT = ("rate_limited", "overloaded", "auth", "quota", "network", "binary_missing",
                 "context_too_long")
# The spool is ingested before admitting once its oldest record is this old (see _ingest).
INGEST_AFTER = 30.0
_WAIT_SLICE = 0.05  # re-check a little after the slot frees: clocks and other waiters
# A one-shot call under a hard budget with no recorded cost for its kind waits this long at
# most for the first such call to finish (see _first_call_in_flight), polling every slice.
FIRST_CALL_WAIT = 120.0
FIRST_CALL_SLICE = 0.1
# Indirections so tests can run the rate-limit wait on a fake clock.
clock = time.time
sleep = time.sleep


def active(cfg):
    """True when any budget or rate limit is configured (the proxy's cheap test is the same)."""
    policies = cfg.get("policies") or {}
    if policies.get("budgets") or policies.get("rate_limits") or policies.get("quotas"):
        return True
    return any((a or {}).get("budget") for a in (cfg.get("agents") or {}).values())


def new_gate(decision, invocation_id=None, attempt=1):
    if invocation_id is None:
        from shim.telemetry import record

        invocation_id = record.new_invocation_id()
    return {"decision": decision, "blocked": False, "error": None, "block_reason": None,
            "budget_override": False, "warnings": [], "invocation_id": invocation_id,
            "attempt": int(attempt), "reservation_id": None, "rate_event_id": None,
            "estimate": None, "budgets": [], "waited": 0.0}


_shared = {"conn": None, "path": None}


def connect():
    """The process's connection to the telemetry database, opened once and kept between
    admit and finish: when no other shim has the file open, every close checkpoints the
    WAL (~7 ms here). Callers must not close it; SQLite closes it at exit."""
    from shim import paths
    from shim.telemetry import store

    path = paths.database_file()
    if _shared["conn"] is not None and _shared["path"] == path:
        return _shared["conn"]
    if _shared["conn"] is not None:
        _shared["conn"].close()
    _shared["conn"] = store.connect(path)
    _shared["path"] = path
    return _shared["conn"]


def admit(decision, request, cfg, environ=None, *, attempt=1, invocation_id=None):
    """Judge `decision` against the budgets and rate limits; reserve its estimated cost.

    Returns the gate. A hard budget or a rejecting rate limit sets `blocked` and `error`
    (an errors.Blocked for the proxy to print); nothing is reserved then.
    """
    environ = os.environ if environ is None else environ
    gate = new_gate(decision, invocation_id, attempt)
    dry = environ.get(DRY_RUN_ENV) == "1"
    override = environ.get(budgets.OVERRIDE_ENV) == "1"
    quota_warnings = _judge_quotas(gate, request, cfg, dry, override)
    if gate["blocked"]:
        return gate
    decision = gate["decision"]
    if not (budgets.applicable(cfg, decision) or ratelimit.applicable(cfg, decision)):
        gate["warnings"] = quota_warnings
        _print_warnings(gate, dry)
        return gate
    if budgets.configured(cfg):
        _ingest(cfg)
    _admit_locked(connect(), gate, request, cfg, dry, override)
    gate["warnings"] = quota_warnings + gate["warnings"]
    if not gate["blocked"] and any(b["scope"] == "team" for b in budgets.applicable(
            cfg, gate["decision"])):  # team budgets: in PostgreSQL (shim/team/budgets.py)
        from shim.team import budgets as team_budgets

        team_budgets.admit(connect(), gate, cfg, dry, override)
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
    gate["decision"] = judged["decision"]
    if judged["error"] is not None:
        _block(gate, judged["error"])
        return []
    if judged["overridden"]:
        gate["budget_override"] = True
    return judged["warnings"]


def admit_or_open(decision, request, cfg, environ=None, *, attempt=1, invocation_id=None):
    """`admit`, failing open: when the policy machinery itself fails (the database locked past
    its timeout, read-only or damaged), the call runs without its budget check after one
    warning, and is still recorded through the spool (`policies.on_error: passthrough`), or
    is refused (`block`). A budget check must never cost the user their call or its row."""
    try:
        return admit(decision, request, cfg, environ, attempt=attempt,
                     invocation_id=invocation_id)
    except Exception as exc:
        if errors.debug_enabled():
            raise
        gate = new_gate(decision, invocation_id, attempt)
        why = exc.why if isinstance(exc, errors.ShimError) else f"{type(exc).__name__}: {exc}"
        label = describe(decision)
        if (((cfg or {}).get("policies") or {}).get("on_error") or "passthrough") == "block":
            gate.update(blocked=True, block_reason=f"policy: {why}", error=errors.Blocked(
                "policy", why, f"policies.on_error is block, so {label} was not run"))
        else:
            errors.warn("policy", why, f"running {label} without its budget check")
        return gate


def describe(decision):
    """`claude (claude-haiku-4-5)`: the tool and model of an attempt, for messages."""
    model = decision.get("model")
    return f"{decision.get('tool')}" + (f" ({model})" if model else "")


def _join(warning):
    what, why, hint = warning
    return f"{what}: {why}" + (f"; {hint}" if hint else "")


def _ingest(cfg):
    """Bring a stale spool into the database; never fatal.

    Not needed for the calls the gate admitted: their reservations carry their cost until
    ingestion (shim.policy.state). It is for spend the gate never saw (calls made before the
    budget existed) and for costs only ingestion learns (usage harvested from a tool's logs
    after a text-mode call, where the estimate stands in meanwhile). So the spool is ingested
    only when its oldest record is older than INGEST_AFTER seconds: most gated calls skip the
    import and parse of ingestion (~40 ms).
    """
    try:
        from shim.telemetry import spool

        if not _spool_is_stale(spool, clock()):
            return
        from shim.telemetry import ingest

        ingest.ingest(connect(), cfg=cfg)
    except Exception as exc:
        if errors.debug_enabled():
            raise
        errors.warn("budget", f"could not read the spool: {type(exc).__name__}: {exc}",
                    "spend from calls not yet ingested is not counted")


def _spool_is_stale(spool, now):
    directory = os.path.dirname(spool.spool_file())
    try:
        names = os.listdir(directory)
    except OSError:
        return False
    for name in names:
        path = os.path.join(directory, name)
        try:
            if name == spool.SPOOL_NAME:
                with open(path, "rb") as fh:
                    head = fh.read(4096)
                if head and _first_started_at(head, now) < now - INGEST_AFTER:
                    return True
            elif name.startswith(spool.CLAIM_PREFIX) and name.endswith(spool.CLAIM_SUFFIX):
                if os.stat(path).st_mtime < now - INGEST_AFTER:
                    return True  # left by an ingester that failed
        except OSError:
            pass
    return False


def _first_started_at(head, now):
    """`started_at` of the spool's first record (a repr() line), or 0 when unreadable."""
    key = b"'started_at': "
    at = head.find(key)
    if at < 0:
        return 0.0
    end = at + len(key)
    stop = end
    while stop < len(head) and head[stop:stop + 1] in b"0123456789.e+-":
        stop += 1
    try:
        return float(head[end:stop])
    except ValueError:
        return 0.0


def _admit_locked(conn, gate, request, cfg, dry, override):
    waited = 0.0
    first_wait = 0.0  # waiting for the first call of a kind with no recorded cost
    while True:
        at = clock()
        conn.execute("BEGIN IMMEDIATE")
        try:
            state.expire(conn, at)
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
    if est.get("history") or decision.get("mode") != "oneshot" or not any(
            r["budget"].get("type") == "hard" for r in judged["budgets"]):
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
    (shim.policy.cap); one that cannot be capped (a reservation of 0) is refused."""
    from shim.policy import cap

    names = cap.hard_budgets(judged["budgets"])
    if not names:
        return
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
    if applicable:
        est = estimate.estimate(decision, cfg, conn)
        fixed = budgets.fixed_reservation(applicable)
        if fixed is not None:
            est = dict(est, usd=fixed, basis=f"reserve_usd {budgets.usd(fixed)}")
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


def measure(conn, budget, cfg, now):
    """Spend of one budget's current period: {"budget", "spent", "in_flight", ...}."""
    if budget["scope"] == "team":  # the team store's figures (shim/team/budgets.py)
        from shim.team import budgets as team_budgets

        return team_budgets.measure(conn, budget, cfg, now)
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
    for limit in ratelimit.applicable(cfg, decision):
        column = budgets.SCOPE_COLUMNS[limit["scope"]]
        events = state.rate_times(conn, column, limit["patterns"], now - 3600.0)
        wait, which = ratelimit.wait_for(limit, events, est["tokens"], now)
        if wait > worst[2]:
            worst = (limit, which, wait)
    return worst


def _reserve(conn, gate, judged, cfg, now, override):
    decision = gate["decision"]
    values = budgets.subject(decision, cfg)
    common = {"invocation_id": gate["invocation_id"], "attempt": gate["attempt"]}
    if judged["budgets"]:
        gate["reservation_id"] = state.reserve(
            conn, agent=values["agent"], tool=values["tool"], provider=values["provider"],
            model=values["model"], cost_usd=judged["estimate"]["usd"],
            tokens=judged["estimate"]["tokens"], override=override, now=now, **common)
    if ratelimit.applicable(cfg, decision):
        gate["rate_event_id"] = state.add_rate_event(
            conn, agent=values["agent"], tool=values["tool"], model=values["model"],
            tokens=judged["estimate"]["tokens"], now=now, **common)


# --- after the attempt ---------------------------------------------------------------------------

def finish(gate, decision, outcome, cfg, diagnosis=None, attempt=None):
    """Settle the gate's reservation with the actual cost; start a cooldown if the attempt was
    rate_limited/overloaded. Never raises (a warning line instead): the call already ran."""
    if (gate or {}).get("team_reservation_id"):  # team budgets (shim/team/budgets.py)
        from shim.team import budgets as team_budgets

        team_budgets.settle(gate, decision, outcome, cfg, diagnosis, attempt)
    cls = (diagnosis or {}).get("class")
    needs_cooldown = cls in COOLDOWN_CLASSES
    reservation = (gate or {}).get("reservation_id")
    rate_event = (gate or {}).get("rate_event_id")
    if not (reservation or rate_event or needs_cooldown):
        return
    try:
        usage = (outcome or {}).get("usage")
        conn = connect()
        if reservation or rate_event:
            cost, known = estimate.actual_cost(usage, decision, cfg)
            if not known:
                cost = 0.0 if cls in NOTHING_SPENT else \
                    (gate.get("estimate") or {}).get("usd", 0.0)
            tokens = estimate.used_tokens(usage)
            conn.execute("BEGIN IMMEDIATE")
            try:
                if reservation:
                    state.settle(conn, reservation, cost, attempt=attempt)
                if rate_event and tokens is not None:
                    state.set_rate_tokens(conn, rate_event, tokens)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            if reservation and (cfg.get("policies") or {}).get("alerts"):
                from shim.alerts import check  # only when alerts are configured

                check.after_settlement(conn, gate, cfg)
        if needs_cooldown:
            from shim.policy import cooldown

            model = (usage or {}).get("model") or decision.get("model")
            cooldown.record_failure(conn, cfg, decision.get("tool"), model, cls,
                                    diagnosis.get("retry_after"))
    except Exception as exc:
        _warn_bookkeeping(exc)


def release(gate):
    """The admitted attempt never started: drop its reservation and rate event."""
    if (gate or {}).get("team_reservation_id"):  # team budgets (shim/team/budgets.py)
        from shim.team import budgets as team_budgets

        team_budgets.release(gate)
    if not gate or not (gate.get("reservation_id") or gate.get("rate_event_id")):
        return
    try:
        conn = connect()
        conn.execute("BEGIN IMMEDIATE")
        try:
            if gate.get("reservation_id"):
                state.release(conn, gate["reservation_id"])
            if gate.get("rate_event_id"):
                conn.execute("DELETE FROM policy_rate_events WHERE id = ?",
                             (gate["rate_event_id"],))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        gate["reservation_id"] = gate["rate_event_id"] = None
    except Exception as exc:
        _warn_bookkeeping(exc)


def _warn_bookkeeping(exc):
    if errors.debug_enabled():
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    errors.warn("policy", f"{type(exc).__name__}: {exc}",
                "the call itself is unaffected; its reservation expires on its own")


def run_with_fallbacks(plan, cfg, environ):
    """Kept for callers of the first proxy draft: the attempt loop lives in attempts.py."""
    from shim.policy import attempts

    return attempts.run(plan, cfg, environ)
