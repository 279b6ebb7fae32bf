"""The store: settings, migrations from every older version, idempotent inserts, pruning."""

import os
import sqlite3

import pytest

from shim import paths
from shim.telemetry import migrations, store
from shim.telemetry.migrations import ATTEMPT_COLUMNS, COUNTER_COLUMNS, IMPORT_COLUMNS
from tests.support.records import contract_keys


def row(i, **over):
    rec = {"invocation_id": f"{i:032x}", "attempt": 1, "started_at": 1000.0 + i,
           "agent": "default", "tool": "claude", "model": "claude-opus-4-8",
           "reasons": ["a", "b"], "blocked": 0, "cost_usd": 0.5}
    rec.update(over)
    return rec


def test_connect_creates_a_private_wal_database():
    conn = store.connect()
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
        assert migrations.user_version(conn) == migrations.LATEST
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO attempts (invocation_id, attempt, started_at) VALUES ('x', 1, 1)")
        conn.execute("COMMIT")
        for suffix in ("", "-wal", "-shm"):
            path = paths.database_file() + suffix
            assert os.stat(path).st_mode & 0o777 == 0o600, path
    finally:
        conn.close()


def test_loose_permissions_are_tightened():
    store.connect().close()
    os.chmod(paths.database_file(), 0o644)
    store.connect().close()
    assert os.stat(paths.database_file()).st_mode & 0o777 == 0o600


def test_schema_matches_the_contract():
    conn = store.connect()
    try:
        cols = [r[1] for r in conn.execute("PRAGMA table_info(attempts)")]
        counters = [r[1] for r in conn.execute("PRAGMA table_info(counters)")]
    finally:
        conn.close()
    assert cols == list(ATTEMPT_COLUMNS + IMPORT_COLUMNS)
    assert counters == list(COUNTER_COLUMNS)
    # every key of docs/internals.md's attempt record is a column, except the spool-only ones
    assert set(contract_keys()) - {"v", "harvest"} == set(cols) - {"usage_source", "source", "entry_count"}


def test_up_to_date_database_runs_no_ddl_and_takes_no_lock():
    store.connect().close()
    conn = sqlite3.connect(paths.database_file(), isolation_level=None)
    statements = []
    conn.set_trace_callback(statements.append)
    try:
        assert migrations.migrate(conn) == migrations.LATEST
    finally:
        conn.close()
    assert statements == ["PRAGMA user_version"]


def _legacy_rows(version):
    """One row as a database at `version` could hold it."""
    if version == 0:
        return []
    return [row(1)]


@pytest.mark.parametrize("start", range(0, migrations.LATEST + 1))
def test_migrate_from_every_older_version(start):
    path = paths.database_file()
    paths.ensure_dir(os.path.dirname(path))
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        assert migrations.migrate(conn, target=start) == start
        for rec in _legacy_rows(start):
            cols = ", ".join(k for k in rec if k != "reasons")
            conn.execute(f"INSERT INTO attempts ({cols}) VALUES "
                         f"({', '.join('?' * (len(rec) - 1))})",
                         [v for k, v in rec.items() if k != "reasons"])
    finally:
        conn.close()
    conn = store.connect(path)
    try:
        assert migrations.user_version(conn) == migrations.LATEST
        assert [r[1] for r in conn.execute("PRAGMA table_info(attempts)")] == \
            list(ATTEMPT_COLUMNS + IMPORT_COLUMNS)
        indexes = {r[1] for r in conn.execute("PRAGMA index_list(attempts)")}
        assert "attempts_report" in indexes and "attempts_started_at" not in indexes
        assert conn.execute("SELECT count(*) FROM attempts").fetchone()[0] == \
            len(_legacy_rows(start))
        assert conn.execute("SELECT count(*) FROM spend").fetchone()[0] == \
            len(_legacy_rows(start))
    finally:
        conn.close()


def test_a_failing_migration_rolls_back_with_its_version(monkeypatch):
    def broken(conn):
        conn.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("boom")

    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:1] + [broken])
    path = paths.database_file()
    paths.ensure_dir(os.path.dirname(path))
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        with pytest.raises(RuntimeError):
            migrations.migrate(conn, target=2)
        assert migrations.user_version(conn) == 1
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert "half_done" not in tables and "attempts" in tables
    finally:
        conn.close()


def test_report_queries_use_the_covering_index():
    conn = store.connect()
    try:
        plan = " ".join(r[3] for r in conn.execute(
            "EXPLAIN QUERY PLAN SELECT date(started_at, 'unixepoch'), model, agent, tool, "
            "sum(cost_usd), sum(input_tokens) FROM attempts WHERE started_at >= ? "
            "GROUP BY 1, 2, 3, 4", (0,)))
    finally:
        conn.close()
    assert "COVERING INDEX attempts_report" in plan


def test_insert_is_idempotent_and_reasons_are_json():
    conn = store.connect()
    try:
        assert store.insert_attempts(conn, [row(1), row(2)]) == 2
        assert store.insert_attempts(conn, [row(1), row(2), row(3)]) == 1
        assert conn.execute("SELECT count(*) FROM attempts").fetchone()[0] == 3
        assert conn.execute("SELECT reasons FROM attempts WHERE invocation_id = ?",
                            (row(1)["invocation_id"],)).fetchone()[0] == '["a", "b"]'
        assert store.recent(conn, 1)[0]["reasons"] == ["a", "b"]
    finally:
        conn.close()


def test_missing_flags_do_not_drop_a_row():
    conn = store.connect()
    try:
        assert store.insert_attempts(conn, [row(5, blocked=None, budget_override=None)]) == 1
        assert store.insert_counters(conn, [row(5)]) == 1
    finally:
        conn.close()


def test_recent_is_newest_first():
    conn = store.connect()
    try:
        store.insert_attempts(conn, [row(i) for i in range(10)])
        got = [r["started_at"] for r in store.recent(conn, 3)]
    finally:
        conn.close()
    assert got == [1009.0, 1008.0, 1007.0]


def test_prune_deletes_old_attempts_and_counters():
    conn = store.connect()
    try:
        store.insert_attempts(conn, [row(i) for i in range(10)])
        store.insert_counters(conn, [row(i) for i in range(4)])
        assert store.prune(conn, 1005.0) == {"attempts": 5, "counters": 4}
        assert conn.execute("SELECT min(started_at) FROM attempts").fetchone()[0] == 1005.0
    finally:
        conn.close()


def test_classify():
    assert store.classify(sqlite3.OperationalError("database is locked")) == "locked"
    assert store.classify(sqlite3.OperationalError("attempt to write a readonly database")) \
        == "readonly"
    assert store.classify(sqlite3.DatabaseError("file is not a database")) == "corrupt"
    assert store.classify(sqlite3.DatabaseError("database disk image is malformed")) == "corrupt"
    assert store.classify(sqlite3.OperationalError("no such table: x")) == "other"
