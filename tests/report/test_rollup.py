"""The rollup tables always equal the sums over the rows: after backfill, inserts, updates,
deletes and ignored duplicates, for every zone, period and grouping."""

import datetime as dt
import random
import zoneinfo

import pytest

from shim.report import periods, query, rollup
from shim.telemetry import store as store_mod

MODELS = [("claude-sonnet-5", "claude", "anthropic"), ("gpt-5.5", "codex", "openai"),
          ("gpt-4o-mini", "llm", "openai"), (None, "claude", None)]
START = dt.datetime(2026, 2, 20, tzinfo=dt.timezone.utc).timestamp()


def _random_rows(count, seed):
    rnd = random.Random(seed)
    rows = []
    for i in range(count):
        model, tool, provider = rnd.choice(MODELS)
        cost = rnd.choice([None, 0.0, round(rnd.uniform(0, 3), 6), rnd.uniform(0, 1)])
        rows.append({
            "invocation_id": f"{seed:08x}{i // 2:024x}", "attempt": 1 + i % 2,
            "started_at": START + rnd.uniform(0, 70 * 86400), "duration_ms":
            rnd.choice([None, rnd.uniform(0, 9000)]), "agent": rnd.choice(["a", "b", None, ""]),
            "tool": tool, "model": model, "provider": provider,
            "project": rnd.choice(["/x", "/y", None]), "exit_code": rnd.choice([0, 0, 1, None]),
            "blocked": int(rnd.random() < 0.1),
            "input_tokens": rnd.choice([None, rnd.randint(0, 10**6)]),
            "output_tokens": rnd.randint(0, 5000), "cache_read_tokens": rnd.randint(0, 100),
            "cache_write_tokens": None, "cost_usd": cost,
            "reasoning_tokens": rnd.choice([None, rnd.randint(0, 3000)]),
            "baseline_cost_usd": rnd.choice([None, rnd.uniform(0, 4)]),
        })
    return rows


CASES = [("UTC", "month", ()), ("Europe/Berlin", "day", ("model",)),
         ("Asia/Kolkata", "week", ("agent", "project")), ("America/St_Johns", "day", ()),
         ("Australia/Lord_Howe", "month", ("tool", "provider"))]


def _both(conn, zone_name, granularity, group_by, filters=None):
    zone = zoneinfo.ZoneInfo(zone_name)
    built = periods.build(dt.date(2026, 2, 18), dt.date(2026, 5, 2), granularity, zone)
    raw, source = query.collect(conn, built, group_by, filters, use_rollup=False)
    assert source == "rows"
    rolled, source = query.collect(conn, built, group_by, filters)
    assert source == "rollup"
    return raw, rolled


@pytest.fixture
def conn():
    """A store without the rollup (m005 installs it), so each test installs it when it says."""
    conn = store_mod.connect()
    with store_mod.transaction(conn):
        rollup.drop(conn)
    yield conn
    conn.close()


def test_backfill_then_triggers_match_the_rows(conn):
    store_mod.insert_attempts(conn, _random_rows(300, 1))
    with store_mod.transaction(conn):
        rollup.install(conn)  # backfill
    store_mod.insert_attempts(conn, _random_rows(300, 2))  # triggers
    store_mod.insert_attempts(conn, _random_rows(300, 2))  # duplicates: ignored, not counted
    for zone, granularity, group_by in CASES:
        raw, rolled = _both(conn, zone, granularity, group_by)
        assert raw and raw == rolled, (zone, granularity, group_by)
    raw, rolled = _both(conn, "UTC", "day", ("agent",), {"model": ["gpt-5.5"], "agent": ["a", "b"]})
    assert raw == rolled


def test_updates_and_deletes_keep_the_rollup_exact(conn):
    with store_mod.transaction(conn):
        rollup.install(conn)
    store_mod.insert_attempts(conn, _random_rows(400, 3))
    with store_mod.transaction(conn):
        conn.execute("UPDATE attempts SET cost_usd = 0.125, model = 'gpt-4o', "
                     "started_at = started_at + 3600 WHERE rowid % 3 = 0")
        conn.execute("UPDATE attempts SET response_text = 'ignored' WHERE rowid % 5 = 0")
    store_mod.prune(conn, START + 20 * 86400)
    for zone, granularity, group_by in CASES:
        raw, rolled = _both(conn, zone, granularity, group_by)
        assert raw == rolled, (zone, granularity, group_by)
    conn.execute("DELETE FROM attempts")
    for table, _ in rollup.LEVELS:
        assert conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone() == (0,)


def test_counters_are_rolled_up(conn):
    with store_mod.transaction(conn):
        rollup.install(conn)
    store_mod.insert_counters(conn, [
        {"invocation_id": "c" * 32, "attempt": 1, "started_at": START + 100, "agent": "x",
         "tool": "llm", "model": "m", "cost_usd": 0.25, "blocked": 0, "input_tokens": 7}])
    raw, rolled = _both(conn, "UTC", "day", ("agent",))
    assert raw == rolled
    (vector,) = rolled.values()
    named = dict(zip(query.MEASURE_NAMES, vector))
    assert (named["invocations"], named["cost_nusd"], named["input_tokens"]) == (1, 250_000_000, 7)


def test_install_is_idempotent(conn):
    store_mod.insert_attempts(conn, _random_rows(50, 4))
    for _ in range(2):
        with store_mod.transaction(conn):
            rollup.install(conn)
    raw, rolled = _both(conn, "UTC", "day", ())
    assert raw == rolled


def test_plan_reads_whole_utc_days_from_the_day_table():
    zone = zoneinfo.ZoneInfo("Europe/Berlin")
    built = periods.build(dt.date(2026, 3, 1), dt.date(2026, 4, 30), "month", zone)
    plan = query.plan(built)
    tables = [t for t, *_ in plan]
    assert tables == ["report_rollup_15m", "report_rollup_1d", "report_rollup_15m",
                      "report_rollup_1d", "report_rollup_15m"]
    # March starts 2026-02-28 23:00 UTC: one quarter-hour edge of 1 hour, then whole days.
    first = plan[0]
    assert (first[3] - first[2]) * 900 == 3600
    utc = periods.build(dt.date(2026, 3, 1), dt.date(2026, 3, 31), "day", zoneinfo.ZoneInfo("UTC"))
    assert [t for t, *_ in query.plan(utc)] == ["report_rollup_1d"]


def test_explain_names_the_indexes(conn):
    store_mod.insert_attempts(conn, _random_rows(20, 5))
    built = periods.build(dt.date(2026, 3, 1), dt.date(2026, 3, 31), "month",
                          zoneinfo.ZoneInfo("UTC"))
    source, lines = query.explain(conn, built, ["model"], use_rollup=False)
    assert source == "rows" and lines[0].startswith("attempts: ")
    with store_mod.transaction(conn):
        rollup.install(conn)
    source, lines = query.explain(conn, built, ["model"])
    assert source == "rollup"
    assert all("USING PRIMARY KEY" in line for line in lines)


def test_a_rollup_of_another_shape_is_ignored_then_replaced(conn):
    store_mod.insert_attempts(conn, _random_rows(30, 6))
    conn.execute("CREATE TABLE report_rollup_15m (bucket INTEGER, agent TEXT, attempts INTEGER)")
    conn.execute("CREATE TABLE report_rollup_1d (bucket INTEGER, agent TEXT, attempts INTEGER)")
    assert not rollup.exists(conn)
    built = periods.build(dt.date(2026, 2, 18), dt.date(2026, 5, 2), "day",
                          zoneinfo.ZoneInfo("UTC"))
    assert query.collect(conn, built)[1] == "rows"
    with store_mod.transaction(conn):
        rollup.drop(conn)
        rollup.install(conn)
    assert rollup.exists(conn)
    raw, rolled = _both(conn, "UTC", "day", ("agent",))
    assert raw == rolled


def test_migration_8_rebuilds_an_older_rollup_with_reasoning_tokens(tmp_path):
    """A database at schema 7 (m005's rollup, no reasoning measure) is migrated: the rollup is
    rebuilt from its rows and equals the row sums, reasoning included."""
    import sqlite3

    from shim.telemetry import migrations

    path = str(tmp_path / "old.db")
    conn = sqlite3.connect(path, isolation_level=None)
    migrations.migrate(conn, target=7)
    store_mod.insert_attempts(conn, _random_rows(300, 11))
    assert not rollup.exists(conn)  # m005's rollup lacks the reasoning measure
    assert migrations.migrate(conn) == migrations.LATEST >= 8
    assert rollup.exists(conn)
    raw, rolled = _both(conn, "Europe/Berlin", "week", ("model",))
    assert raw == rolled and raw
    column = query.MEASURE_NAMES.index("reasoning_tokens")
    built = periods.build(dt.date(2026, 2, 18), dt.date(2026, 5, 2), "week",
                          zoneinfo.ZoneInfo("Europe/Berlin"))
    (expected,) = conn.execute(
        "SELECT SUM(IFNULL(reasoning_tokens, 0)) FROM attempts WHERE started_at >= ? "
        "AND started_at < ?", (built[0]["start"], built[-1]["end"])).fetchone()
    assert sum(v[column] for v in rolled.values()) == expected > 0
    conn.close()
