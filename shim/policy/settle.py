"""Settlement: after the attempt, the gate's reservation gets the actual cost, its rate event
the real token count, and a rate_limited/overloaded attempt starts a cooldown; an attempt that
never started gives its reservation back. Team reservations are settled through the gate's
`team` hooks (passed in at admission: shim/team/budgets.py), never imported from here; so are
the alerts told about the settled spend, through the gate's `alerts` hooks (shim.alerts)."""

from shim.attempt import bookkeeping_warning
from shim.policy import estimate, state
from shim.policy.state import connect

# Failed attempts that cannot have spent anything when the tool reported no usage.
NOTHING_SPENT = ("rate_limited", "overloaded", "auth", "quota", "network", "binary_missing",
                 "context_too_long")


def _cools_down(cls):
    """A failure class that starts a cooldown (shim.policy.cooldown, loaded only for a failed
    attempt: a call that went well does not import it)."""
    from shim.policy.cooldown import COOLDOWN_CLASSES

    return cls in COOLDOWN_CLASSES


def finish(gate, decision, outcome, cfg, diagnosis=None, attempt=None):
    """Settle the gate's reservation with the actual cost; start a cooldown if the attempt was
    rate_limited/overloaded. Never raises (a warning line instead): the call already ran."""
    if (gate or {}).get("team_reservation_id") and gate.get("team"):  # shim/team/budgets.py
        gate["team"].settle(gate, decision, outcome, cfg, diagnosis, attempt)
    cls = (diagnosis or {}).get("class")
    needs_cooldown = cls is not None and _cools_down(cls)
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
            if attempt == gate.get("attempt"):
                attempt = None  # reserved under this number: its row (and index) stay as they are
            if reservation and rate_event and tokens is not None:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    state.settle(conn, reservation, cost, attempt=attempt)
                    state.set_rate_tokens(conn, rate_event, tokens)
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            elif reservation:  # one statement: atomic in autocommit, no BEGIN/COMMIT needed
                state.settle(conn, reservation, cost, attempt=attempt)
            elif rate_event and tokens is not None:
                state.set_rate_tokens(conn, rate_event, tokens)
            if reservation and gate.get("alerts") is not None:  # passed in at admission
                from shim.policy import engine

                gate["alerts"].after_settlement(conn, gate, cfg, engine.measure)
        if needs_cooldown:
            from shim.policy import cooldown

            model = (usage or {}).get("model") or decision.get("model")
            cooldown.record_failure(conn, cfg, decision.get("tool"), model, cls,
                                    diagnosis.get("retry_after"))
    except Exception as exc:
        _warn_bookkeeping(exc)


def release(gate):
    """The admitted attempt never started: drop its reservation and rate event."""
    if (gate or {}).get("team_reservation_id") and gate.get("team"):  # shim/team/budgets.py
        gate["team"].release(gate)
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
    bookkeeping_warning(exc, "policy",
                        "the call itself is unaffected; its reservation expires on its own")
