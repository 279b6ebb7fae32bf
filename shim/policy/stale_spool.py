"""Ingest-before-admit: when the gate finds a stale spool, it has it brought into the database
(detached), so spend the gate never saw counts too. See `catch_up`. The gate imports this module
only when the spool is stale (shim.telemetry.spool.STALE_AFTER), which most calls' is not."""

import os

from shim import errors

REQUEST_MARKER = ".ingest-requested"  # in the spool directory: when an ingester was last asked for


def catch_up(cfg, now):
    """Have a stale spool ingested, in a detached process; never fatal, never waited for.

    Not needed for the calls the gate admitted: their reservations carry their cost until
    ingestion (shim.policy.state). It is for spend the gate never saw (calls made before the
    budget existed) and for costs only ingestion learns (usage harvested from a tool's logs
    after a text-mode call, where the estimate stands in meanwhile). That spend counts from
    the next admission on. Ingesting here, inline, cost the call ~40 ms whenever the spool's
    oldest record was older than spool.STALE_AFTER seconds (most calls of a user who calls now
    and then); a marker file keeps a burst of calls from starting one ingester each.
    """
    try:
        from shim.telemetry import spool

        if not spool.is_stale(spool.STALE_AFTER, now) or not _claim_request(spool, now):
            return
        from shim import attempt

        attempt.ingest_in_background("shim.team.sync" if (cfg or {}).get("team")
                                     else "shim.telemetry.ingest")
    except Exception as exc:
        if errors.debug_enabled():
            raise
        errors.warn("budget", f"could not read the spool: {type(exc).__name__}: {exc}",
                    "spend from calls not yet ingested is not counted")


def _claim_request(spool, now):
    """True for the one caller that should start the ingester: none was requested in the last
    spool.STALE_AFTER seconds (a marker file in the spool directory, O_EXCL)."""
    from shim import safefs

    marker = os.path.join(os.path.dirname(spool.spool_file()), REQUEST_MARKER)
    try:
        if os.stat(marker).st_mtime >= now - spool.STALE_AFTER:
            return False
        os.unlink(marker)
    except FileNotFoundError:
        pass
    try:
        os.close(safefs.open_file(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        return False  # another shim just claimed it
    return True
