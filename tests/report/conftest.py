"""Fixtures for the report tests: the real store (store.connect) in the test's LLM_SHIM_HOME,
a row factory with local wall-clock times, and the CLI run in-process.

`store` is parametrised over "rows" (the attempts table summed directly) and "rollup" (the
rollup tables installed as the migration would), so every test checks both paths.
"""

import datetime as dt
import json
import zoneinfo

import pytest

from shim.cli.main import main
from shim.report import rollup
from shim.telemetry import store as store_mod

BASE = {
    "attempt": 1, "duration_ms": 1000.0, "host": "test", "agent": "alice",
    "tool_requested": "claude", "tool": "claude", "model": "claude-sonnet-5",
    "provider": "anthropic", "tier": "standard", "mode": "oneshot", "reasons": [],
    "exit_code": 0, "input_tokens": 0, "output_tokens": 0, "cache_read_tokens": 0,
    "cache_write_tokens": 0, "cost_usd": 0.0, "cost_source": "computed",
    "baseline_model": None, "baseline_cost_usd": None, "project": "/p", "blocked": 0,
    "budget_override": 0, "shim_version": "test",
}


def at(local, zone="UTC"):
    """Epoch seconds of a local wall-clock time 'YYYY-MM-DD HH:MM' in `zone`."""
    stamp = dt.datetime.strptime(local, "%Y-%m-%d %H:%M")
    return stamp.replace(tzinfo=zoneinfo.ZoneInfo(zone)).timestamp()


class Store:
    def __init__(self, conn, kind):
        self.conn = conn
        self.kind = kind
        self.count = 0

    def add(self, when, zone="UTC", **fields):
        """Insert one attempt started at local time `when` in `zone`; returns its record."""
        self.count += 1
        record = dict(BASE)
        record["invocation_id"] = fields.pop("invocation_id", f"{self.count:032x}")
        record["started_at"] = at(when, zone) if isinstance(when, str) else when
        record["ended_at"] = record["started_at"] + 1
        record.update(fields)
        store_mod.insert_attempts(self.conn, [record])
        return record


@pytest.fixture(params=["rows", "rollup"])
def store(request):
    conn = store_mod.connect()  # migration m005 installs the rollup
    if request.param == "rows":
        with store_mod.transaction(conn):
            rollup.drop(conn)
    else:
        assert rollup.exists(conn)
    yield Store(conn, request.param)
    conn.close()


@pytest.fixture
def report(capsys):
    """report("--json", ...) -> (exit code, stdout, stderr); JSON output is parsed."""

    def run(*args):
        code = main(["report", *args])
        out, err = capsys.readouterr()
        if "--json" in args and out:
            out = json.loads(out)
        return code, out, err

    return run
