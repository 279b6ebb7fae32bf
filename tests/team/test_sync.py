"""Sync: local rows reach the team store exactly once, whatever interrupts it."""

import os
import subprocess

import pytest

from tests.team.conftest import DIME_CALL, wait_for

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def spool_records(member, monkeypatch, count, *, seed=0, host=None, kind=None):
    """Append `count` varied attempt records to the member's spool and ingest them."""
    from shim.telemetry import ingest, record, spool

    member.use(monkeypatch)
    models = ("claude-sonnet-5", "gpt-5.5", "claude-haiku-4-5-20251001", None)
    agents = ("reviewer", "worker", None)
    base = 1_790_000_000.0 + seed * 7919.0
    for i in range(count):
        started = base + i * 613.37
        rec = {
            "v": 1, "invocation_id": record.new_invocation_id(), "attempt": 1 + (i % 7 == 3),
            "started_at": started, "ended_at": started + 1.5 + i % 5,
            "duration_ms": 1500.5 + (i % 5) * 1000.0, "host": host or member.name,
            "agent": agents[i % 3], "tool_requested": "claude",
            "tool": "codex" if i % 4 == 1 else "claude", "model_requested": None,
            "model": models[i % 4], "provider": "anthropic", "tier": "standard",
            "complexity": "simple", "mode": "oneshot", "reasons": ["seeded"],
            "exit_code": 1 if i % 9 == 0 else 0, "failure_class": None,
            "input_tokens": 100 + i, "output_tokens": 10 * i, "cache_read_tokens": i % 3,
            "cache_write_tokens": 0, "reasoning_tokens": None,
            "reported_cost_usd": round(0.0123456789 * (i % 11), 12) if i % 6 else None,
            "baseline_model": "claude-opus-4-8", "session_id": None,
            "project": f"/src/p{i % 2}", "blocked": 1 if i % 13 == 5 else 0,
            "block_reason": None, "budget_override": 0, "prompt_chars": 12,
            "prompt_hash": None, "usage_source": "stream", "shim_version": "test",
        }
        if kind == "counter" or (kind is None and i % 10 == 7):
            rec = {k: rec[k] for k in ("v", "invocation_id", "attempt", "started_at",
                                       "ended_at", "agent", "tool", "provider", "tier", "model",
                                       "input_tokens", "output_tokens", "cache_read_tokens",
                                       "cache_write_tokens", "reasoning_tokens",
                                       "reported_cost_usd", "blocked")}
            rec["kind"] = "counter"
        assert spool.append(rec)
    return ingest.ingest(cfg=member.cfg)


def store_counts(pg, team="core"):
    rows = {}
    for table in ("team_attempts", "team_counters"):
        total, distinct = pg.execute(
            f"SELECT COUNT(*), COUNT(DISTINCT (invocation_id, attempt)) FROM {table} "
            "WHERE team = %s", (team,)).fetchone()
        assert total == distinct  # the primary key makes a duplicate impossible; checked anyway
        rows[table] = total
    return rows


def stored(pg, table="team_attempts"):
    """Rows in the store; 0 before the first sync created the schema."""
    import psycopg

    try:
        return pg.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    except psycopg.errors.UndefinedTable:
        return 0


def local_counts(member):
    return {"team_attempts": member.local_rows("attempts"),
            "team_counters": member.local_rows("counters")}


def test_sync_pushes_every_row_once_and_again_is_a_no_op(team, pg, monkeypatch):
    (alice,) = team(1)
    assert spool_records(alice, monkeypatch, 120) == 120
    first = alice.cli_json("sync", "--json")
    assert first["attempts"] + first["counters"] == 120
    assert first["waiting"] == 0
    assert store_counts(pg) == local_counts(alice)
    again = alice.cli_json("sync", "--json")
    assert (again["attempts"], again["counters"], again["sent"]) == (0, 0, 0)
    spool_records(alice, monkeypatch, 5, seed=9)
    third = alice.cli_json("sync", "--json")
    assert (third["attempts"] + third["counters"], third["sent"]) == (5, 5)
    assert store_counts(pg) == local_counts(alice)
    machines = pg.execute("SELECT team, rows_pushed FROM team_machines").fetchall()
    assert machines == [("core", 125)]


def test_a_sync_killed_after_commit_and_rerun_leaves_no_duplicates(team, pg, monkeypatch):
    """The crash hook exits right after a batch is committed remotely and before the outbox
    advances: the worst moment. The rerun sends that batch again; nothing doubles."""
    (alice,) = team(1)
    spool_records(alice, monkeypatch, 230)
    crash = alice.cli("sync", env={"LLM_SHIM_TEAM_SYNC_BATCH": "50",
                                   "LLM_SHIM_TEAM_SYNC_CRASH_AFTER": "100"}, check=False)
    assert crash.returncode == 70
    partial = store_counts(pg)
    assert sum(partial.values()) == 100  # two batches committed
    status = alice.cli_json("sync", "--status", "--json")
    assert status["waiting"] == 180  # the second batch is still queued: it will be resent
    rerun = alice.cli_json("sync", "--json", env={"LLM_SHIM_TEAM_SYNC_BATCH": "50"})
    assert rerun["sent"] == 180
    assert rerun["attempts"] + rerun["counters"] == 130  # 50 of them were already there
    assert store_counts(pg) == local_counts(alice)


def test_a_sync_killed_at_random_moments_converges(team, pg, monkeypatch):
    """SIGKILL at whatever point the sync has reached (several times), then a full sync."""
    (alice,) = team(1)
    spool_records(alice, monkeypatch, 400)
    env = alice.env({"LLM_SHIM_TEAM_SYNC_BATCH": "20"})
    for delay in (0.3, 0.45, 0.6):
        proc = subprocess.Popen(["llm-shim", "sync"], env=env, cwd=str(alice.root),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    alice.cli("sync")
    assert store_counts(pg) == local_counts(alice)


def test_rows_from_before_team_mode_are_backfilled(team, pg, monkeypatch):
    (alice,) = team(1)
    team_section = alice.cfg.pop("team")
    alice.write_config()
    spool_records(alice, monkeypatch, 30)
    alice.cfg["team"] = team_section
    alice.write_config()
    assert alice.cli_json("sync", "--json")["attempts"] > 0
    assert store_counts(pg) == local_counts(alice)


def test_a_lost_trigger_is_restored_and_its_rows_sent(team, pg, monkeypatch):
    """A rebuilt table loses its triggers: the next sync queues every row again."""
    (alice,) = team(1)
    spool_records(alice, monkeypatch, 10)
    alice.cli("sync")
    conn = alice.db()
    conn.execute("DROP TRIGGER team_outbox_attempts")
    conn.close()
    spool_records(alice, monkeypatch, 10, seed=3)
    assert alice.cli_json("sync", "--json")["sent"] == alice.local_rows() + alice.local_rows(
        "counters")
    assert store_counts(pg) == local_counts(alice)


def test_a_new_team_name_receives_every_row(team, pg, monkeypatch):
    (alice,) = team(1)
    spool_records(alice, monkeypatch, 20)
    text = alice.cli("sync").stdout.decode()
    assert text.startswith("pushed 18 attempt(s) and 2 counter row(s) to team store 'core' at "
                           "127.0.0.1:"), text
    assert text.rstrip().endswith("(0 already there); 0 waiting")
    status = alice.cli("sync", "--status").stdout.decode()
    assert status.startswith("team store 'core' at 127.0.0.1:") and "0 row(s) waiting" in status
    alice.cfg["team"]["name"] = "other"
    alice.write_config()
    alice.cli("sync")
    assert store_counts(pg, "other") == store_counts(pg, "core") == local_counts(alice)


def test_prompt_text_never_leaves_the_machine(team, pg, monkeypatch):
    """`privacy: full` keeps prompt and response text locally; the team store has no column
    for them."""
    from shim.telemetry import ingest, record, spool

    (alice,) = team(1)
    alice.use(monkeypatch)
    spool.append({"v": 1, "invocation_id": record.new_invocation_id(), "attempt": 1,
                  "started_at": 1_790_000_000.0, "ended_at": 1_790_000_001.0,
                  "tool": "claude", "prompt_text": "secret plan", "response_text": "ok"})
    ingest.ingest(cfg=alice.cfg)
    alice.cli("sync")
    conn = alice.db()
    assert conn.execute("SELECT prompt_text FROM attempts").fetchone()[0] == "secret plan"
    columns = {r[0] for r in pg.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'team_attempts'")}
    assert "prompt_text" not in columns and "response_text" not in columns
    assert store_counts(pg)["team_attempts"] == 1


def test_each_call_is_pushed_in_the_background(team, pg):
    """No explicit sync: the shim starts a detached sync after the call."""
    (alice,) = team(1)
    proc = alice.run(DIME_CALL)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == b""
    assert wait_for(lambda: stored(pg) == 1)
    host, cost = pg.execute("SELECT machine, cost_usd FROM team_attempts").fetchone()
    assert cost == pytest.approx(0.10)
    assert host == (alice.home / "team-machine-id").read_text().strip()


def test_sync_without_team_config_is_a_usage_error(capsys):
    from shim.cli.main import main

    assert main(["sync"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("llm-shim: sync: no team store is configured; add team:")
