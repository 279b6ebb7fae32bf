"""What a gated call's admission runs in SQLite (issue 16, fifth round): no busy-timeout PRAGMA
(the connection is opened with the wait), no pruning of rate events or cooldowns (done where
those rows are added, and by `llm-shim budget`), and a settlement of one reservation is one
UPDATE. Ended cooldowns and old rate events left behind change nothing a reader sees."""

import copy
import sqlite3
import time

from shim import adapters
from shim.policy import engine, settle, state, status
from shim.routing import decide
from shim.telemetry import ingest, migrations


def _cfg():
    cfg = copy.deepcopy(ingest.embedded_config())
    cfg["policies"]["budgets"] = {"b": {"scope": "global", "period": "day",
                                        "limit": {"usd": 1000.0, "type": "hard"},
                                        "reserve_usd": 0.01}}
    cfg["policies"]["rate_limits"] = {"r": {"scope": "global", "calls_per_minute": 100000}}
    return cfg


def _memory():
    conn = sqlite3.connect(":memory:", isolation_level=None)
    migrations.migrate(conn)
    return conn


def _traced():
    """Every SQL statement the process's gate connection runs from now on."""
    statements = []
    conn = state.connect()
    conn.set_trace_callback(statements.append)
    return statements


def test_admission_and_settlement_run_no_housekeeping_statements():
    cfg = _cfg()
    request = adapters.parse("claude", [], cfg)
    decision = decide(request, cfg, "default")
    engine.admit(decision, request, cfg, {})  # opens the database (and migrates it)
    statements = _traced()
    gate = engine.admit(decision, request, cfg, {})
    assert gate["reservation_id"] and gate["rate_event_id"]
    admission = list(statements)
    settle.finish(gate, gate["decision"], {"usage": None}, cfg, {"class": None}, attempt=1)
    settlement = statements[len(admission):]
    text = "\n".join(admission)
    assert "busy_timeout" not in text
    assert "DELETE FROM policy_rate_events" not in text
    assert "DELETE FROM policy_cooldowns" not in text
    assert "DELETE FROM policy_reservations" in text  # expiry stays: rolling resets read it
    (events,) = [sql for sql in admission if "FROM policy_rate_events" in sql]
    since = float(events.split("at >= ")[1].split()[0])
    assert time.time() - 90 < since  # calls per minute: the last minute's events, not an hour
    assert len(settlement) == 1 and settlement[0].startswith("UPDATE policy_reservations")
    assert "attempt =" not in settlement[0]  # settled under the number it was reserved under
    row = state.connect().execute("SELECT settled, cost_usd, attempt FROM policy_reservations "
                                  "WHERE id = ?", (gate["reservation_id"],)).fetchone()
    assert row == (1, 0.01, 1)


def test_settling_under_another_attempt_number_moves_the_reservation():
    conn = state.connect()
    rid = state.reserve(conn, invocation_id="i", attempt=1, agent="a", tool="claude",
                        provider=None, model=None, cost_usd=0.5, tokens=10)
    gate = {"reservation_id": rid, "rate_event_id": None, "attempt": 1, "estimate": {"usd": 0.5}}
    settle.finish(gate, {"tool": "claude"}, {"usage": {"cost_usd": 0.25}}, {}, {"class": None},
                  attempt=2)
    assert conn.execute("SELECT settled, cost_usd, attempt FROM policy_reservations "
                        "WHERE id = ?", (rid,)).fetchone() == (1, 0.25, 2)


def test_old_rate_events_are_pruned_as_events_are_added():
    conn = _memory()
    now = time.time()
    old = now - state.RATE_EVENT_TTL - 60
    for _ in range(5):
        state.add_rate_event(conn, agent="a", tool="claude", model=None, tokens=1,
                             invocation_id="old", attempt=1, now=old)
    state.expire(conn, now, prune=False)  # admission's housekeeping leaves them
    assert conn.execute("SELECT count(*) FROM policy_rate_events").fetchone()[0] == 5
    assert state.rate_times(conn, None, [], now - 3600.0) == []  # and no reader sees them
    for _ in range(state.RATE_EVENT_PRUNE_EVERY):
        state.add_rate_event(conn, agent="a", tool="claude", model=None, tokens=1,
                             invocation_id="new", attempt=1, now=now)
    ids = [r[0] for r in conn.execute("SELECT invocation_id FROM policy_rate_events")]
    assert "old" not in ids
    assert len(ids) < state.RATE_EVENT_PRUNE_EVERY + 5


def test_ended_cooldowns_go_when_a_cooldown_is_set_or_the_budget_is_shown():
    conn = _memory()
    now = time.time()
    state.set_cooldown(conn, "tool", "codex", now - 10, "rate_limited", now=now - 100)
    state.expire(conn, now, prune=False)
    assert conn.execute("SELECT count(*) FROM policy_cooldowns").fetchone()[0] == 1
    assert state.cooldowns(conn, now) == {}  # ended: no reader sees it
    state.set_cooldown(conn, "model", "m", now + 60, "overloaded", now=now)
    assert [r[0] for r in conn.execute("SELECT name FROM policy_cooldowns")] == ["m"]
    state.set_cooldown(conn, "tool", "llm", now + 1, "overloaded", now=now)
    old = now + 120
    status.status(conn, _cfg(), old)  # `llm-shim budget` prunes what has ended by then
    assert conn.execute("SELECT count(*) FROM policy_cooldowns").fetchone()[0] == 0


def test_admission_reads_and_prunes_reservations_through_indexes():
    """Reservations whose attempts were ingested without a cost stand in for them for
    SETTLED_TTL (40 days); admission used to visit every one on every call (its pid check, the
    expiry DELETE and the spend sum). Since m017 each statement reads a range of an index."""
    cfg = _cfg()
    request = adapters.parse("claude", [], cfg)
    decision = decide(request, cfg, "default")
    engine.admit(decision, request, cfg, {})
    statements = _traced()
    engine.admit(decision, request, cfg, {})
    conn = state.connect()
    touched = [sql for sql in statements if "policy_reservations" in sql
               and sql.lstrip().split()[0] in ("SELECT", "DELETE")]
    assert len(touched) >= 3  # the pid check, the expiry and the spend sum
    for sql in touched:
        plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql)]
        scans = [step for step in plan if step.startswith("SCAN ")
                 and ("policy_reservations" in step or step.startswith("SCAN r "))]
        assert not scans, (sql, plan)


def _reserve(conn, invocation_id, cost_usd, now):
    """A reservation of attempt 1 of `invocation_id`, made at `now`, in flight."""
    return state.reserve(conn, invocation_id=invocation_id, attempt=1, agent=None,
                         tool="claude", provider=None, model="m", cost_usd=cost_usd, tokens=10,
                         now=now)


def test_a_settled_reservation_without_its_row_goes_after_settled_ttl():
    conn = _memory()
    now = 1_800_000_000.0
    rid = _reserve(conn, "i1", 0.5, now)
    state.settle(conn, rid, 0.5)
    state.expire(conn, now + state.SETTLED_TTL - 1)
    assert conn.execute("SELECT count(*) FROM policy_reservations").fetchone() == (1,)
    state.expire(conn, now + state.SETTLED_TTL + 1)
    assert conn.execute("SELECT count(*) FROM policy_reservations").fetchone() == (0,)


def test_a_settled_reservation_ingested_late_stops_counting_then_goes():
    """Matched with its costed row after MATCH_WINDOW, a reservation is no longer dropped by
    admission, but it counts no more (reserved_spend skips it) and goes at SETTLED_TTL."""
    conn = _memory()
    now = 1_800_000_000.0
    rid = _reserve(conn, "i1", 0.5, now)
    state.settle(conn, rid, 0.5)
    assert state.reserved_spend(conn, None, (), now - 1) == (0.5, 0.0, 0)
    conn.execute("INSERT INTO attempts (invocation_id, attempt, started_at, cost_usd) "
                 "VALUES ('i1', 1, ?, 0.5)", (now,))
    later = now + state.MATCH_WINDOW + 1
    state.expire(conn, later, prune=False)  # admission
    assert conn.execute("SELECT count(*) FROM policy_reservations").fetchone() == (1,)
    assert state.reserved_spend(conn, None, (), now - 1) == (0.0, 0.0, 0)
    state.expire(conn, now + 1, prune=False)  # inside the window: dropped as before
    assert conn.execute("SELECT count(*) FROM policy_reservations").fetchone() == (0,)


def test_m017_gives_settled_reservations_their_end_of_life():
    conn = sqlite3.connect(":memory:", isolation_level=None)
    migrations.migrate(conn, target=16)
    conn.executemany(
        "INSERT INTO policy_reservations (invocation_id, attempt, created_at, expires_at, "
        "cost_usd, settled) VALUES (?, 1, 1000.0, 87400.0, 0.1, ?)", [("a", 1), ("b", 0)])
    migrations.migrate(conn)
    assert dict(conn.execute("SELECT invocation_id, expires_at FROM policy_reservations")) == {
        "a": 1000.0 + 40 * 86400, "b": 87400.0}


def test_a_reservation_settled_by_a_shim_before_m017_keeps_counting():
    """A shim started before the upgrade settles the old way (expires_at left at created_at +
    IN_FLIGHT_TTL). When its attempt is ingested without a cost, its estimate must still count
    for SETTLED_TTL, not vanish after a day (a hard budget would fail open)."""
    conn = _memory()
    now = 1_800_000_000.0
    made = now - 25 * 3600
    rid = _reserve(conn, "i1", 5.0, made)
    conn.execute("UPDATE policy_reservations SET settled = 1, pid = NULL, cost_usd = ? "
                 "WHERE id = ?", (5.0, rid))  # settle() as it was before m017
    conn.execute("INSERT INTO attempts (invocation_id, attempt, started_at, cost_usd) "
                 "VALUES ('i1', 1, ?, NULL)", (made,))
    state.expire(conn, now, prune=False)
    assert state.reserved_spend(conn, None, (), now - 7 * 86400) == (5.0, 0.0, 0)
    state.expire(conn, made + state.SETTLED_TTL + 1, prune=False)
    assert conn.execute("SELECT count(*) FROM policy_reservations").fetchone() == (0,)


def test_budget_status_drops_late_matched_reservations_and_lists_only_unmatched():
    conn = _memory()
    now = 1_800_000_000.0
    made = now - 3 * 86400
    for name, cost in (("late", 0.5), ("unknown", None)):
        rid = _reserve(conn, name, 0.5, made)
        state.settle(conn, rid, 0.5)
        conn.execute("INSERT INTO attempts (invocation_id, attempt, started_at, cost_usd) "
                     "VALUES (?, 1, ?, ?)", (name, made, cost))
    assert [r["invocation_id"] for r in state.in_flight(conn)] == ["unknown"]
    state.expire(conn, now, prune=False)  # admission: the day's matches only
    assert conn.execute("SELECT count(*) FROM policy_reservations").fetchone() == (2,)
    state.expire(conn, now)  # `llm-shim budget`: every match
    assert [r[0] for r in conn.execute("SELECT invocation_id FROM policy_reservations")] == [
        "unknown"]
