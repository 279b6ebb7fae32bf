"""Ingest-before-admit: bring a stale spool into the database just before the gate judges a
call, so spend the gate never saw counts too. Most gated calls skip it (see `catch_up`)."""

import os

from shim import errors

# The spool is ingested before admitting once its oldest record is this old (see catch_up).
INGEST_AFTER = 30.0


def catch_up(connect, cfg, now):
    """Bring a stale spool into the database; never fatal.

    Not needed for the calls the gate admitted: their reservations carry their cost until
    ingestion (shim.policy.state). It is for spend the gate never saw (calls made before the
    budget existed) and for costs only ingestion learns (usage harvested from a tool's logs
    after a text-mode call, where the estimate stands in meanwhile). So the spool is ingested
    only when its oldest record is older than INGEST_AFTER seconds: most gated calls skip the
    import and parse of ingestion (~40 ms).
    """
    try:
        from shim.telemetry import spool

        if not _spool_is_stale(spool, now):
            return
        from shim.telemetry import ingest

        ingest.ingest(connect(), cfg=cfg)
    except Exception as exc:
        if errors.debug_enabled():
            raise
        errors.warn("budget", f"could not read the spool: {type(exc).__name__}: {exc}",
                    "spend from calls not yet ingested is not counted")


def _spool_is_stale(spool, now):
    directory = os.path.dirname(spool.spool_file())
    try:
        names = os.listdir(directory)
    except OSError:
        return False
    for name in names:
        path = os.path.join(directory, name)
        try:
            if name == spool.SPOOL_NAME:
                with open(path, "rb") as fh:
                    head = fh.read(4096)
                if head and _first_started_at(head, now) < now - INGEST_AFTER:
                    return True
            elif name.startswith(spool.CLAIM_PREFIX) and name.endswith(spool.CLAIM_SUFFIX):
                if os.stat(path).st_mtime < now - INGEST_AFTER:
                    return True  # left by an ingester that failed
        except OSError:
            pass
    return False


def _first_started_at(head, now):
    """`started_at` of the spool's first record (a repr() line), or 0 when unreadable."""
    key = b"'started_at': "
    at = head.find(key)
    if at < 0:
        return 0.0
    end = at + len(key)
    stop = end
    while stop < len(head) and head[stop:stop + 1] in b"0123456789.e+-":
        stop += 1
    try:
        return float(head[end:stop])
    except ValueError:
        return 0.0
