"""One definition of the latest schema version (shim.telemetry.schema_version.LATEST), checked
against the list of migrations: a connection reads it without importing the migrations."""

import subprocess
import sys

from shim.telemetry import migrations, schema_version
from tests.support import REPO


def test_latest_is_the_number_of_migrations():
    assert schema_version.LATEST == len(migrations.MIGRATIONS)
    assert migrations.LATEST is schema_version.LATEST


def test_a_migration_without_a_bumped_version_refuses_to_load():
    script = (f"import sys; sys.path.insert(0, {REPO!r})\n"
              "from shim.telemetry import schema_version\n"
              "schema_version.LATEST -= 1\n"
              "from shim.telemetry import migrations\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode != 0
    assert "migrations" in done.stderr and "ImportError" in done.stderr


def test_a_current_database_connects_without_the_migrations(tmp_path):
    db = tmp_path / "t.db"
    script = (f"import sys; sys.path.insert(0, {REPO!r})\n"
              "from shim.telemetry import store\n"
              f"store.connect({str(db)!r}).close()\n"  # creates and migrates
              "del sys.modules['shim.telemetry.migrations']\n"
              f"conn = store.connect({str(db)!r})\n"
              "assert 'shim.telemetry.migrations' not in sys.modules, 'imported'\n"
              "assert conn.execute('PRAGMA busy_timeout').fetchone()[0] == 5000\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_a_migration_leaves_no_wal_for_the_next_calls_to_recover(tmp_path):
    """A shim ends without closing its connection (no checkpoint), so the WAL a migration
    wrote (~0.5 MB for a new store) would be read again by every later call's first
    statement: the migrating connection folds it into the database and empties it, keeping
    its busy timeout."""
    import os

    from shim.telemetry import database

    db = str(tmp_path / "t.db")
    conn = database.connect(db, timeout=7.5)
    try:
        assert os.path.getsize(db + "-wal") == 0
        assert os.path.getsize(db) > 64 * 1024  # the schema's pages are in the file itself
        assert conn.execute("PRAGMA busy_timeout").fetchone() == (7500,)
        assert schema_version.user_version(conn) == schema_version.LATEST
    finally:
        conn.close()


def test_a_reader_elsewhere_never_makes_the_migration_wait(tmp_path):
    """The fold waits for nobody: with another connection reading, the migrating call goes
    on at once and leaves the WAL for a later checkpoint."""
    import sqlite3
    import time

    from shim.telemetry import database

    from shim.telemetry import migrations

    db = str(tmp_path / "t.db")
    conn = sqlite3.connect(db, isolation_level=None)  # as an older version had made it
    conn.execute("PRAGMA journal_mode = WAL")
    migrations.migrate(conn, target=14)
    reader = sqlite3.connect(db, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM attempts").fetchone()  # holds a read snapshot
        conn.close()
        started = time.monotonic()
        again = database.connect(db, timeout=30.0)  # migrates 14 -> latest while it reads
        try:
            assert time.monotonic() - started < 5.0
            assert schema_version.user_version(again) == schema_version.LATEST
            assert again.execute("PRAGMA busy_timeout").fetchone() == (30000,)
        finally:
            again.close()
    finally:
        reader.close()
