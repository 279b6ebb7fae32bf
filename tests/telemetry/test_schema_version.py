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
