"""The policy gate's connection to the telemetry database: one per process, opened on first use
and kept from admission to settlement (and for the cooldown reads of the attempt loop), and
never closed: a shim that used it ends with `exit_open` (docs/internals.md "Call path")."""

import os
import sys

_shared = {"conn": None, "path": None}


def connect():
    """The process's connection to the telemetry database, opened once and kept between
    admit and finish: when no other shim has the file open, every close checkpoints the
    WAL (~7 ms here). Callers must not close it; SQLite closes it at exit."""
    from shim import paths
    from shim.telemetry import store

    path = paths.database_file()
    if _shared["conn"] is not None and _shared["path"] == path:
        return _shared["conn"]
    if _shared["conn"] is not None:
        _shared["conn"].close()
    _shared["conn"] = store.connect(path)
    _shared["path"] = path
    return _shared["conn"]


def exit_open(code):
    """End the shim process with `code` without closing the connection, when one is open.

    Closing the last connection to a WAL database checkpoints it: copies the WAL into the
    database, syncs both and deletes the WAL (four fdatasync calls, ~9 ms, on every gated
    call; Python 3.11 cannot turn that off per connection). Every transaction of ours is
    committed by now (autocommit; `BEGIN IMMEDIATE ... COMMIT`), and with `synchronous =
    NORMAL` a commit in WAL mode is durable against a crash of the process, not of the
    machine: the checkpoint at close never promised more than that, and the next connection
    (or the auto-checkpoint of a later commit) reads and folds in the WAL as it stands.
    Returns (and the caller exits as usual) when no connection is open, the code is not an
    exit status, or stdout/stderr cannot be flushed (the normal exit reports that).
    """
    conn = _shared["conn"]
    if conn is None or not isinstance(code, int) or not 0 <= code <= 255:
        return
    if conn.in_transaction:  # never: every caller commits or rolls back; but never lose it
        return
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        return
    os._exit(code)
