"""The telemetry schema's version: what every connection checks, without loading the
migrations (shim.telemetry.migrations, ~0.3 ms of a gated shim call) when the database is
already current, which it is on every call but the first after an upgrade.

LATEST is the one definition of the latest version: migrations.py refuses to load when its
list of migrations disagrees (tests/telemetry/test_schema_version.py checks it too)."""

LATEST = 17


def user_version(conn):
    """The schema version a database file has (`PRAGMA user_version`, 0 = empty file)."""
    return conn.execute("PRAGMA user_version").fetchone()[0]
