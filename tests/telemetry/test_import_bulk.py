"""The import's bulk insert (imports/bulk.py: the rollup insert trigger dropped, the rows
inserted, their sums added set-based, the trigger created again) leaves exactly what the
trigger would: two stores get the same rows, one through the trigger and one in bulk, on top
of the same earlier rows, and their rollups, rows and schema are equal. A first import of a
generated set keeps the rollup equal to the sums over its rows."""

import random
import sqlite3

import pytest

from shim.report import rollup
from shim.telemetry import migrations
from shim.telemetry.imports import bulk
from tests.support import gen_transcripts
from tests.support.transcripts import run_import

START = 1_771_545_600  # 2026-02-20 00:00 UTC


def _rows(rnd, count, columns, prefix):
    out = []
    for i in range(count):
        row = {"invocation_id": f"import:{prefix}:{i:06d}", "attempt": 0,
               "started_at": START + rnd.choice([rnd.uniform(0, 3 * 86400),
                                                 rnd.randint(0, 288) * 900]),
               "tool": rnd.choice(["claude", "codex", None]),
               "model": rnd.choice(["claude-sonnet-5", "gpt-5.5", None]),
               "provider": rnd.choice(["anthropic", None]), "agent": None,
               "project": rnd.choice(["/x", "/y", None]), "blocked": 0,
               "input_tokens": rnd.choice([None, 0, rnd.randint(0, 10**6)]),
               "output_tokens": rnd.choice([None, rnd.randint(0, 5000)]),
               "cache_read_tokens": rnd.randint(0, 10**5), "cache_write_tokens": None,
               "reasoning_tokens": rnd.choice([None, rnd.randint(0, 300)]),
               "cost_usd": rnd.choice([None, 0.0, rnd.uniform(0, 3), 5e-10, 1.5e-9])}
        out.append(tuple(row.get(c) for c in columns))
    return out


def _store():
    conn = sqlite3.connect(":memory:", isolation_level=None)
    migrations.migrate(conn)
    return conn


def _dump(conn, table):
    rows = conn.execute(f"SELECT * FROM {table}").fetchall()
    return sorted(rows, key=repr)


def _compare(a, b, table):
    for name in (table, "report_rollup_15m", "report_rollup_1d"):
        assert _dump(a, name) == _dump(b, name), name
    assert _dump(a, "sqlite_master") == _dump(b, "sqlite_master")  # the trigger is back


@pytest.mark.parametrize("table", ["attempts", "counters"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_bulk_insert_keeps_the_rollup_the_trigger_keeps(table, seed):
    rnd = random.Random(seed)
    columns = [c for c in ("invocation_id", "attempt", "started_at", "tool", "model",
                           "provider", "agent", "project", "blocked", "input_tokens",
                           "output_tokens", "cache_read_tokens", "cache_write_tokens",
                           "reasoning_tokens", "cost_usd")
               if table == "attempts" or c in migrations.COUNTER_COLUMNS]
    earlier = _rows(rnd, 300, columns, "old")
    new = _rows(rnd, 500, columns, "new")
    sql = (f"INSERT INTO {table} ({', '.join(columns)}) "
           f"VALUES ({', '.join('?' * len(columns))})")
    by_trigger, in_bulk = _store(), _store()
    for conn in (by_trigger, in_bulk):
        conn.executemany(sql, earlier)  # cells the new rows add to
    by_trigger.execute("BEGIN")
    by_trigger.executemany(sql, new)
    by_trigger.execute("COMMIT")
    in_bulk.execute("BEGIN")
    bulk.insert(in_bulk, table, columns, new)
    in_bulk.execute("COMMIT")
    _compare(by_trigger, in_bulk, table)
    # and the trigger works again afterwards
    more = _rows(rnd, 20, columns, "more")
    for conn in (by_trigger, in_bulk):
        conn.executemany(sql, more)
    _compare(by_trigger, in_bulk, table)


@pytest.mark.parametrize("table", ["attempts", "counters"])
def test_a_store_at_the_latest_migration_takes_the_set_based_path(table):
    """The frozen triggers bulk compares with are the ones the latest migration leaves: a
    migration that changes a rollup trigger (m015 did) must teach bulk its text, or every
    import silently goes back to a trigger call per row."""
    assert bulk._frozen_triggers(_store(), table)


def test_a_changed_trigger_is_kept_and_used():
    """A rollup trigger this code does not know (another migration, a hand edit) is not
    dropped: the rows go through it."""
    conn = _store()
    name = "report_rollup_attempts_insert"
    (text,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,)).fetchone()
    conn.execute(f"DROP TRIGGER {name}")
    changed = text.replace("BEGIN", "BEGIN\n    SELECT 1;", 1)
    conn.execute(changed)
    columns = ["invocation_id", "attempt", "started_at", "model", "output_tokens", "blocked"]
    rows = [(f"import:x:{i}", 0, START + i, "m", 1, 0) for i in range(100)]
    conn.execute("BEGIN")
    bulk.insert(conn, "attempts", columns, rows)
    conn.execute("COMMIT")
    assert conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,)).fetchone() \
        == (changed,)
    assert conn.execute("SELECT SUM(attempts), SUM(output_tokens) FROM report_rollup_1d"
                        ).fetchone() == (100, 100)


def test_a_first_import_keeps_the_rollup_equal_to_its_rows(tmp_path, monkeypatch):
    out = tmp_path / "gen"
    gen_transcripts.generate(str(out), sessions=12, messages=1500, days=3, codex_share=0.3,
                             seed=11)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(out / "claude"))
    monkeypatch.setenv("CODEX_HOME", str(out / "codex"))
    summary = run_import()
    assert summary["new"] == summary["entries"] > 1000
    from shim.telemetry import store

    conn = store.connect()
    try:
        (rows,) = conn.execute("SELECT COUNT(*) FROM attempts").fetchone()
        assert rows >= bulk.MIN_ROWS  # the bulk path ran
        kept = {t: _dump(conn, t) for t, _ in rollup.LEVELS}
        with store.transaction(conn):
            rollup.drop(conn)
            rollup.install(conn)  # the sums over the rows, from scratch
        assert {t: _dump(conn, t) for t, _ in rollup.LEVELS} == kept
    finally:
        conn.close()
