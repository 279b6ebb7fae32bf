"""Team-scope budgets: one hard limit across machines, and what happens without the store."""

import pytest

from tests.team.conftest import DIME_CALL
from tests.team.test_sync import local_counts, store_counts


def team_budget(limit, on_unreachable="open", timeout=10):
    return {"policies": {"budgets": {"team-dollar": {
        "scope": "team", "period": "day", "limit": {"usd": limit, "type": "hard"}}}}}, \
        {"on_unreachable": on_unreachable, "timeout": timeout}


def members_with_budget(team, count, limit, on_unreachable="open", timeout=10):
    extra, team_opts = team_budget(limit, on_unreachable, timeout)
    members = team(count, extra=extra)
    for member in members:
        member.cfg["team"].update(team_opts)
        member.write_config()
    return members


def run_all(procs):
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        results.append((proc.returncode, out, err))
    return results


def test_a_hard_team_budget_holds_across_machines_under_concurrency(team, pg):
    """3 machines x 5 parallel calls of $0.10 against $1.00: exactly 10 run (the estimate is
    exact), 5 are refused with exit 75, and the store records $1.00."""
    members = members_with_budget(team, 3, 1.00, on_unreachable="closed")
    procs = [m.popen(DIME_CALL, {"FAKE_CLAUDE_SLEEP": "0.5"}) for m in members for _ in range(5)]
    results = run_all(procs)
    codes = sorted(code for code, _, _ in results)
    assert codes == [0] * 10 + [75] * 5, [r[2] for r in results]
    for code, out, err in results:
        if code == 75:
            assert out == b""
            assert err.decode().startswith(
                "llm-shim: budget: team budget 'team-dollar' (every member's calls) has spent")
            assert err.count(b"\n") == 1
    for member in members:
        member.cli("sync")
    spent, ran = pg.execute("SELECT COALESCE(SUM(cost_usd), 0), COUNT(*) FROM team_attempts "
                            "WHERE blocked = 0").fetchone()
    assert ran == 10
    assert spent == pytest.approx(1.00) and spent <= 1.00 + 1e-9
    assert pg.execute("SELECT COUNT(*) FROM team_attempts WHERE blocked = 1").fetchone()[0] == 5
    # Every reservation has been settled and matched by its row: none is left counting.
    assert pg.execute("SELECT COUNT(*) FROM team_reservations WHERE NOT settled").fetchone() \
        == (0,)
    # The budget is full for everyone now, and `llm-shim budget` shows the team's spend.
    assert members[2].run(DIME_CALL).returncode == 75
    status = members[1].cli_json("budget", "--json")
    (row,) = status["budgets"]
    assert row["scope"] == "team" and row["spent_usd"] == pytest.approx(1.00)


def test_without_the_store_calls_go_on_and_catch_up_later(team, pg_server):
    """Store stopped: calls succeed and are recorded locally, judged from the last known team
    spend plus this machine's since; at the limit `closed` refuses and `open` warns. After a
    restart one sync pushes everything."""
    alice, bob = members_with_budget(team, 2, 0.50, on_unreachable="closed", timeout=2)
    for _ in range(3):
        assert alice.run(DIME_CALL).returncode == 0  # $0.30, online
    pg_server.stop()
    try:
        for _ in range(2):
            proc = alice.run(DIME_CALL)  # $0.20 more: at $0.50 exactly
            assert proc.returncode == 0, proc.stderr
            assert proc.stderr == b""
        assert bob.run(DIME_CALL).returncode == 0  # bob never saw the store: only his spend
        refused = alice.run(DIME_CALL)
        assert refused.returncode == 75
        line = refused.stderr.decode()
        assert "team budget 'team-dollar'" in line and "has spent $0.50 of $0.50" in line
        assert "the team store is unreachable" in line and "team.on_unreachable is closed" in line
        alice.cfg["team"]["on_unreachable"] = "open"
        alice.write_config()
        opened = alice.run(DIME_CALL)
        assert opened.returncode == 0
        assert opened.stderr.decode().startswith("llm-shim: warning: budget: team budget")
        assert "team.on_unreachable is open: running it anyway" in opened.stderr.decode()
        assert alice.cli("sync", check=False).returncode == 75
        rows = alice.db().execute("SELECT COUNT(*), SUM(blocked) FROM attempts").fetchone()
        assert rows == (7, 1)
    finally:
        pg_server.start()
    for member in (alice, bob):
        assert member.cli_json("sync", "--json")["waiting"] == 0
    import psycopg

    with psycopg.connect(team.dsn, autocommit=True) as pg:  # the old session died with it
        assert store_counts(pg) == {k: local_counts(alice)[k] + local_counts(bob)[k]
                                    for k in ("team_attempts", "team_counters")}
    # Back online the store's figure rules again: $0.70 spent (> $0.50), so refused.
    assert bob.run(DIME_CALL).returncode == 75


def test_plain_calls_never_load_psycopg(team, tmp_path):
    """Team mode without team budgets: the shim process itself never imports psycopg (the
    push happens in a detached process)."""
    (alice,) = team(1)
    probe = tmp_path / "modules.txt"
    code = ("import atexit, sys; atexit.register(lambda: open(%r, 'w').write("
            "' '.join(sorted(m for m in sys.modules if m.startswith(('psycopg', 'shim.team')))))); "
            "from shim.entry import main; sys.exit(main(['claude'] + sys.argv[1:]))"
            % str(probe))
    import sys

    proc = alice.run([sys.executable, "-c", code, *DIME_CALL[1:]])
    assert proc.returncode == 0, proc.stderr
    assert probe.read_text() == ""


class _SyncBetweenStatements:
    """A connection that lets another machine's sync commit right after the first statement
    it runs: what READ COMMITTED allows between two statements of one transaction."""

    def __init__(self, conn, sync):
        self.conn, self.sync, self.calls = conn, sync, 0

    def execute(self, *args, **kwargs):
        cursor = self.conn.execute(*args, **kwargs)
        self.calls += 1
        if self.calls == 1:
            self.sync()
        return cursor


def test_a_row_synced_while_spend_is_measured_is_counted_once(pg_db, pg):
    """A reserved $0.10 call whose row is synced in the middle of measuring must count once,
    as its reservation or as its row, never zero times."""
    from shim.team import budgets as team_budgets
    from shim.team import pg as team_pg

    settings = {"dsn": pg_db, "name": "core", "on_unreachable": "open", "timeout": 10}
    team_pg.connect(settings).close()  # creates the schema
    now = __import__("time").time()
    pg.execute("INSERT INTO team_reservations (team, machine, invocation_id, attempt, "
               "created_at, expires_at, cost_usd, settled) VALUES "
               "('core', 'm2', 'inv-1', 1, %s, %s, 0.10, true)", (now, now + 600))

    def sync():
        pg.execute("INSERT INTO team_attempts (team, machine, invocation_id, attempt, "
                   "started_at, cost_usd) VALUES ('core', 'm2', 'inv-1', 1, %s, 0.10)", (now,))

    budget = {"name": "b", "scope": "team", "period": "day", "limit_usd": 1.0,
              "tz": "UTC", "window_s": None}
    cfg = {"policies": {"timezone": "UTC"}}
    with team_pg.connect(settings) as conn:
        with conn.transaction():
            row = team_budgets.measure_remote(_SyncBetweenStatements(conn, sync), "core",
                                              budget, cfg, now)
    assert row["spent"] + row["in_flight"] == pytest.approx(0.10)


def test_a_busy_store_is_not_unreachable(pg_db):
    from shim import errors
    from shim.team import pg as team_pg

    settings = {"dsn": pg_db, "name": "core", "on_unreachable": "open", "timeout": 0.2}
    holder = team_pg.connect(dict(settings, timeout=10))
    with team_pg.connect(settings) as conn:
        holder.execute("BEGIN")
        holder.execute("SELECT pg_advisory_lock(42)")
        try:
            with pytest.raises(team_pg.psycopg().OperationalError) as raised:
                conn.execute("SELECT pg_advisory_lock(42)")
            error = team_pg.classify(raised.value, settings)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    assert isinstance(error, errors.ShimError) and not team_pg.is_unreachable(error)
    assert "is busy" in error.why
