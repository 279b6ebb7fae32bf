"""The policy gate's connection to the telemetry database: one per process, opened on first use
and kept from admission to settlement (and for the cooldown reads of the attempt loop), and
usually never closed: a shim ends with os._exit (shim.entry.end_process, `may_skip_close`)."""

import os

_shared = {"conn": None, "path": None}
# A WAL left at exit is recovered (read) by the next process's first statement: 200 KB
# measured no slower than no WAL at all. Past this size the exit closes the connection instead,
# which checkpoints and deletes the WAL (a gated call writes ~25 KB: one call in forty).
EXIT_CHECKPOINT_BYTES = 1024 * 1024


def connect():
    """The process's connection to the telemetry database, opened once and kept between
    admit and finish: when no other shim has the file open, every close checkpoints the
    WAL (~7 ms here). Callers must not close it (see may_skip_close)."""
    from shim import paths
    from shim.telemetry import database

    path = paths.database_file()
    if _shared["conn"] is not None and _shared["path"] == path:
        return _shared["conn"]
    if _shared["conn"] is not None:
        _shared["conn"].close()
    _shared["conn"] = database.connect(path)
    _shared["path"] = path
    return _shared["conn"]


def may_skip_close():
    """True when the shim may end without closing the connection (shim.entry ends a shim's
    process with os._exit): nothing is open, or what is open is committed and its WAL small.

    Closing the last connection to a WAL database checkpoints it: copies the WAL into the
    database, syncs both and deletes the WAL (four fdatasync calls, ~9 ms, on every gated
    call; Python 3.11 cannot turn that off per connection). Every transaction of ours is
    committed by then (autocommit; `BEGIN IMMEDIATE ... COMMIT`), and with `synchronous =
    NORMAL` a commit in WAL mode is durable against a crash of the process, not of the
    machine: the checkpoint at close never promised more than that, and the next connection
    (or the auto-checkpoint of a later commit) reads and folds in the WAL as it stands.
    The WAL left behind is recovered by the next process, so once it has grown past
    EXIT_CHECKPOINT_BYTES the connection is closed as before (False).
    """
    conn = _shared["conn"]
    if conn is None:
        return True
    if conn.in_transaction:  # never: every caller commits or rolls back; but never lose it
        return False
    try:
        return os.stat(_shared["path"] + "-wal").st_size < EXIT_CHECKPOINT_BYTES
    except OSError:
        return True
