"""A shim ends with os._exit (shim.entry.end_process), a gated one without closing its
connection: no WAL checkpoint at exit, the tool's exit status and output unchanged, every row
readable after; a WAL grown large is checkpointed by the exit as before."""

import pytest

from tests.policy.conftest import TEN_CENTS_MODEL

DIME_CALL = ["claude", "-p", "hi", "--model", "dime-model", "--output-format", "json"]


def gated(shim_env):
    shim_env.install("claude")
    shim_env.config({"models": {"dime-model": TEN_CENTS_MODEL}, "policies": {
        "budgets": {"dollar": {"scope": "global", "period": "day",
                               "limit": {"usd": 1.00, "type": "hard"}}},
        "rate_limits": {"often": {"scope": "global", "calls_per_minute": 1000}}}})


def test_the_gate_leaves_its_wal_and_the_next_process_reads_every_row(shim_env):
    gated(shim_env)
    for _ in range(3):
        proc = shim_env.run(DIME_CALL)
        assert proc.returncode == 0, proc.stderr
        assert b'"total_cost_usd"' in proc.stdout  # the tool's output went through
        assert proc.stderr == b""
    wal = shim_env.shim_home / "telemetry.db-wal"
    # Closing the last connection would have checkpointed and deleted the WAL.
    assert wal.exists() and wal.stat().st_size > 0
    conn = shim_env.db()
    try:
        reservations = conn.execute(
            "SELECT settled, cost_usd FROM policy_reservations").fetchall()
        events = conn.execute("SELECT count(*) FROM policy_rate_events").fetchone()[0]
    finally:
        conn.close()
    assert reservations == [(1, pytest.approx(0.10))] * 3
    assert events == 3
    rows = shim_env.attempts()
    assert [r["cost_usd"] for r in rows] == [pytest.approx(0.10)] * 3
    # and the budget counts all three: $0.30 spent, seven more dimes fit, the eleventh not
    for _ in range(7):
        assert shim_env.run(DIME_CALL).returncode == 0
    assert shim_env.run(DIME_CALL).returncode == 75


def test_the_tools_exit_status_is_kept(shim_env):
    gated(shim_env)
    proc = shim_env.run(DIME_CALL, {"FAKE_CLAUDE_MODE": "401"})
    assert proc.returncode == 1
    assert b"401" in proc.stdout
    (row,) = shim_env.attempts()
    assert row["exit_code"] == 1 and row["failure_class"] is not None


def test_a_plain_call_exits_as_before(shim_env):
    shim_env.install("claude")
    proc = shim_env.run(["claude", "-p", "hi"], {"FAKE_CLAUDE_MODE": "401"})
    assert proc.returncode == 1
    assert not (shim_env.shim_home / "telemetry.db").exists()  # no policy: no database


def test_a_large_wal_is_checkpointed_at_exit(shim_env, monkeypatch):
    from shim.policy import state

    gated(shim_env)
    assert shim_env.run(DIME_CALL).returncode == 0
    wal = shim_env.shim_home / "telemetry.db-wal"
    assert wal.exists()
    with open(wal, "ab") as fh:  # junk past the frames: SQLite ignores it, our size check not
        fh.write(b"\0" * state.EXIT_CHECKPOINT_BYTES)
    assert shim_env.run(DIME_CALL).returncode == 0
    assert not wal.exists()  # the close checkpointed and deleted it
    conn = shim_env.db()
    try:
        assert conn.execute("SELECT count(*) FROM policy_reservations").fetchone()[0] == 2
    finally:
        conn.close()


def test_output_written_just_before_the_end_is_flushed(shim_env):
    """A dry run prints its JSON through sys.stdout: the os._exit must not lose it."""
    gated(shim_env)
    proc = shim_env.run(DIME_CALL, {"LLM_SHIM_DRY_RUN": "1"})
    assert proc.returncode == 0
    assert proc.stdout.startswith(b"llm-shim dry run") and proc.stdout.rstrip().endswith(b"}")
