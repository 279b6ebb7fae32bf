"""The automatic import before `report`, `logs`, `budget`, `watch` and budget admission.

It must never be the reason a command fails: whatever goes wrong (a hostile transcript, a
locked database, a bug) is one warning line and the command answers from what is stored. What
it could not do is said, once per command: files it could not read, entries it skipped,
another import holding the lock. Budget admission runs on every shim call, so its "not
imported yet" line is printed at most once per WARN_EVERY_SECONDS (a stamp file's mtime).
"""

import os
import time

from shim import errors, paths

WARN_EVERY_SECONDS = 3600
SLICE_STAMP = "import-slice-warned"


def refresh(conn, cfg=None, environ=None, *, bounded=False, what="report", quiet=False):
    from shim.telemetry import importstamp, imports
    from shim.telemetry.imports import sources

    environ = os.environ if environ is None else environ
    if importstamp.auto_off(environ):
        return None
    try:
        with imports.lock(blocking=False) as locked:
            if not locked:
                if not bounded and not quiet:
                    errors.warn(what, "another llm-shim import is running: its usage is "
                                "not in this answer yet (skipped the automatic import)",
                                "run the command again when it has finished")
                return None
            before, visited = importstamp.snapshot(environ), []
            found = sources.scan(sources.roots(environ), visited)
            if bounded:
                summary = imports.run(conn, cfg, environ,
                                      deadline=time.monotonic() + imports.ADMISSION_SECONDS,
                                      max_bytes=imports.ADMISSION_BYTES, found=found)
            else:
                summary = imports.run(conn, cfg, environ, found=found)
            imports.write_stamp(conn, before, visited, found)
    except Exception as exc:  # noqa: BLE001 - never raise into report/logs/budget/admission
        if errors.debug_enabled():
            raise
        errors.warn(what, f"could not import the tools' own logs: {type(exc).__name__}: {exc}",
                    "run `llm-shim import` to see why")
        return None
    if not quiet and not bounded:
        from shim.telemetry.imports import problems

        for reason, count in problems.by_reason(summary):
            errors.warn(what, f"{count} log files could not be read ({reason})",
                        "usage in them is missing from this answer; `llm-shim import` lists "
                        "them")
        if summary.get("malformed"):
            errors.warn(what, f"{summary['malformed']} entries skipped: malformed",
                        "a transcript line with a field of the wrong type or range")
    if bounded and summary["remaining"] and not quiet and _due(SLICE_STAMP):
        errors.warn("budget", f"{summary['remaining']} changed log files not imported yet "
                    "(the budget check imports a small slice per call)",
                    "run `llm-shim import` to catch up, so budgets count all usage outside "
                    "the shim")
    return summary


def _due(name, every=WARN_EVERY_SECONDS):
    """True (and the stamp touched) when the stamp `name` is older than `every` seconds or
    missing; False when it is fresh. An unwritable stamp says "due": a warning too often is
    better than none."""
    path = os.path.join(paths.data_dir(), name)
    now = time.time()
    try:
        if now - os.stat(path).st_mtime < every:
            return False
    except OSError:
        pass
    try:
        with open(path, "a", encoding="utf-8"):
            pass
        os.utime(path, (now, now))
    except OSError:
        pass
    return True
