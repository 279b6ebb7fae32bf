"""`spool.is_stale`: whether a record has waited longer than the gate allows before it ingests.
The spool's format is read in the telemetry package only."""

import os

from shim import paths
from shim.telemetry import spool


def _record(started_at):
    return {"v": 1, "invocation_id": "a" * 32, "attempt": 1, "started_at": started_at,
            "ended_at": started_at + 1.0, "tool": "llm"}


def test_no_spool_is_not_stale():
    assert spool.is_stale(30.0, 1_700_000_000.0) is False


def test_the_first_record_decides():
    now = 1_700_000_000.0
    assert spool.append(_record(now - 10.0))
    assert spool.is_stale(30.0, now) is False
    assert spool.is_stale(5.0, now) is True


def test_an_unreadable_first_record_counts_as_old():
    os.makedirs(paths.spool_dir(), exist_ok=True)
    with open(spool.spool_file(), "wb") as fh:
        fh.write(b"not a record\n")
    assert spool.is_stale(30.0, 1_700_000_000.0) is True


def test_a_claimed_file_left_behind_is_stale_once_old():
    os.makedirs(paths.spool_dir(), exist_ok=True)
    left = os.path.join(paths.spool_dir(), spool.CLAIM_PREFIX + "1-ab" + spool.CLAIM_SUFFIX)
    with open(left, "wb") as fh:
        fh.write(repr(_record(1.0)).encode() + b"\n")
    mtime = os.stat(left).st_mtime
    assert spool.is_stale(30.0, mtime + 10.0) is False
    assert spool.is_stale(30.0, mtime + 60.0) is True
