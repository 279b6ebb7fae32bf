"""The policy gate's connection to the telemetry database: one per process, opened on first use
and kept from admission to settlement (and for the cooldown reads of the attempt loop)."""

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
