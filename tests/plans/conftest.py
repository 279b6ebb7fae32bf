"""Fixtures for the plan tests (the policy tests' `shim_env`, shims in front of fake CLIs, comes
from tests/support/shim_env.py)."""

import time

import pytest


@pytest.fixture
def snapshot(isolated_env):
    """snapshot(window, used_pct, resets_in=3600, tool="claude"): store one plan snapshot."""
    def put(window, used_pct, resets_in=3600.0, tool="claude", seen_ago=0.0):
        from shim.plans import snapshots
        from shim.telemetry import store

        now = time.time()
        conn = store.connect()
        try:
            snapshots.record(conn, [{"tool": tool, "window": window, "used_pct": used_pct,
                                     "resets_at": now + resets_in, "status": None}],
                             "statusline", "test-session", now - seen_ago)
        finally:
            conn.close()
    return put
