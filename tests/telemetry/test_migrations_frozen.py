"""Migrations are frozen: m004 carries its own DDL, so a change to policy code can never change
what an old database is migrated to."""

import inspect
import sqlite3

from shim.telemetry import migrations


def _schema(create):
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        create(conn)
        return sorted(conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name").fetchall())
    finally:
        conn.close()


def test_m004_creates_the_policy_tables_exactly_as_the_policy_code_did():
    from shim.policy import state

    frozen = _schema(migrations.m004_policy_state)
    assert [row[1] for row in frozen if row[0] == "table"] == sorted(state.TABLES)
    if hasattr(state, "policy_state"):  # today's policy code; gone once the copy is deleted
        assert frozen == _schema(state.policy_state)


def test_no_migration_imports_policy_code():
    source = inspect.getsource(migrations)
    assert "shim.policy" not in source
