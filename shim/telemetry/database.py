"""Opening the telemetry database: the C module, the file, a connection with its settings.

Settings (sqlite-utils / llm lessons): the file is created 0600 before SQLite opens it (the WAL
and SHM files inherit its mode); WAL is switched on once, outside any transaction, when the
schema is first created or migrated; `synchronous=NORMAL` and a busy timeout on every
connection, in autocommit mode. Apart from shim.telemetry.store (inserts, queries, repair)
because a gated shim call needs only this (~0.3 ms less to import).
"""

import os
import sys

from shim import errors, paths, safefs
from shim.telemetry import schema_version


def _load_sqlite():
    """The C module `_sqlite3` itself: `sqlite3` (its dbapi2) also imports datetime and
    collections for default adapters and converters that nothing here uses (no detect_types,
    no date values), ~8 ms of a gated shim call. Same connect, Row and exception classes
    (dbapi2 re-exports them).

    `_sqlite3` itself (3.11+) takes `functools.lru_cache` for its statement cache, and
    `functools` imports `collections` (~4 ms of a gated call, for a namedtuple only
    `cache_info()` uses). When nothing has imported functools yet, it is handed a module
    whose `lru_cache` builds the same C cache (`_functools._lru_cache_wrapper`, which is what
    functools.lru_cache returns), only for the length of that import: the real functools
    loads as usual for whoever imports it later."""
    if "functools" in sys.modules or "_sqlite3" in sys.modules:
        import _sqlite3
        return _sqlite3
    try:
        from _functools import _lru_cache_wrapper
    except ImportError:
        import _sqlite3
        return _sqlite3

    def lru_cache(maxsize=128, typed=False):
        size = max(0, maxsize) if isinstance(maxsize, int) else maxsize
        return lambda function: _lru_cache_wrapper(function, size, typed, tuple)

    stand_in = type(sys)("functools")
    stand_in.lru_cache = lru_cache
    sys.modules["functools"] = stand_in
    try:
        import _sqlite3
    except Exception:  # a later CPython wants more of functools: take the real one
        _sqlite3 = None
    finally:
        if sys.modules.get("functools") is stand_in:
            del sys.modules["functools"]
    if _sqlite3 is None:
        import _sqlite3
    return _sqlite3


sqlite3 = _load_sqlite()

DEFAULT_TIMEOUT = 5.0


def connect(path=None, timeout=DEFAULT_TIMEOUT):
    """An autocommit connection to the telemetry database with the schema up to date."""
    path = path or paths.database_file()
    try:
        _create_private(path)
    except safefs.Refused as exc:
        raise errors.TelemetryError("telemetry database", f"{exc.path}: {exc.why}, so it was "
                                    "not opened", safefs.HINT) from None
    conn = sqlite3.connect(path, timeout=timeout, isolation_level=None)
    try:
        # (The busy timeout is connect's `timeout`: sqlite3 sets it on the handle.)
        conn.execute("PRAGMA synchronous = NORMAL")
        if schema_version.user_version(conn) < schema_version.LATEST:
            from shim.telemetry import migrations  # only to migrate: a current file never does

            conn.execute("PRAGMA journal_mode = WAL")  # persistent; must be outside a transaction
            migrations.migrate(conn)
            _fold_wal(conn, timeout)
    except BaseException:
        conn.close()
        raise
    return conn


def _fold_wal(conn, timeout):
    """After a migration, copy the WAL into the database and empty it. A new store's
    migrations leave ~0.5 MB of WAL, and a shim ends without the close that would checkpoint
    it (shim.entry.end_process), so every gated call after it would read and checksum all of
    it again to rebuild the WAL index (~0.2 ms here) until the WAL passed the exit's 1 MB
    threshold. Once per migration, waiting for nobody (busy timeout 0 for the checkpoint: a
    reader elsewhere leaves the WAL as it is); never fatal."""
    try:
        conn.execute("PRAGMA busy_timeout = 0")
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        finally:
            conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000):d}")
    except sqlite3.Error:
        pass  # the next commit's auto-checkpoint, or a closing exit, folds it in later


SIDE_FILES = ("-wal", "-shm", "-journal")


def _create_private(path):
    """Create the database file 0600, or tighten an existing one; SQLite follows symlinks, so
    a link at the path or one of its side files is refused first and nothing is chmod'ed
    through it (docs/security.md "Files and modes")."""
    paths.ensure_dir(os.path.dirname(path))
    safefs.check_not_link(*(path + suffix for suffix in ("",) + SIDE_FILES))
    try:
        fd = safefs.open_file(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        os.close(fd)
    except FileExistsError:
        fd = safefs.open_file(path, os.O_RDONLY)
        try:
            if os.fstat(fd).st_mode & 0o077:
                os.fchmod(fd, 0o600)
        finally:
            os.close(fd)
