#!/usr/bin/env python3
"""Team mode benchmark (not a test): sync throughput, `report --team`, and what team mode
costs a call. Starts a private PostgreSQL like tests/team/conftest.py.

  .venv/bin/python tests/bench/team_sync.py [--rows 20000] [--calls 7] [--pause 1.0]

Prints: rows/s pushed by one sync (fresh store) and the time of a no-op sync; the monthly
report by model from the store vs the local one (in-process); the wall time of a one-shot
call through a real shim (fake claude) without team mode, with team mode (detached push), with
a local hard budget, and with a team hard budget (reservation in PostgreSQL), medians.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)

from tests.support import fakes  # noqa: E402
from tests.support.launchers import write_launcher  # noqa: E402
from tests.support.postgres import DIME_CALL, DIME_MODEL, Server, pg_bin  # noqa: E402


def seed(count):
    from shim.telemetry import record, store

    conn = store.connect()
    base = time.time() - 80 * 86400
    rows = []
    for i in range(count):
        started = base + i * (80 * 86400 / count)
        rows.append({"invocation_id": record.new_invocation_id(), "attempt": 1,
                     "started_at": started, "ended_at": started + 2, "duration_ms": 2000.0,
                     "host": "bench", "agent": ("a", "b", "c")[i % 3], "tool": "claude",
                     "model": ("m1", "m2", "m3", "m4")[i % 4], "provider": "anthropic",
                     "input_tokens": 1000, "output_tokens": 200, "cost_usd": 0.0123 * (i % 7),
                     "baseline_cost_usd": 0.02, "cost_source": "computed", "exit_code": 0,
                     "reasons": ["bench"], "project": "/src/x"})
    store.insert_attempts(conn, rows)
    return conn


def timed(fn):
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def call_times(env, calls, pause):
    """Median wall time of a call; `pause` between calls lets the detached push finish, so
    it does not compete with the next call for the CPU."""
    out = []
    for _ in range(calls):
        t0 = time.perf_counter()
        subprocess.run(DIME_CALL, env=env, capture_output=True, stdin=subprocess.DEVNULL)
        out.append(time.perf_counter() - t0)
        time.sleep(pause)
    return statistics.median(out)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--calls", type=int, default=7)
    parser.add_argument("--pause", type=float, default=1.0)
    args = parser.parse_args()
    bindir = pg_bin()
    if bindir is None:
        sys.exit("no PostgreSQL binaries (install/test-deps.sh)")
    server = Server(bindir)
    server.init()
    try:
        with tempfile.TemporaryDirectory(prefix="llm-shim-team-bench-") as work:
            os.environ["LLM_SHIM_HOME"] = os.path.join(work, "home")
            import yaml

            from shim import team
            from shim.report import api
            from shim.team import pg, report, sync

            dsn = server.dsn(server.create_database())
            settings = team.settings({"team": {"dsn": dsn, "name": "bench", "timeout": 30}})
            conn = seed(args.rows)
            seconds, stats = timed(lambda: sync.push(conn, settings))
            print(f"sync of {stats['sent']} rows into a fresh store: {seconds:.2f}s "
                  f"({stats['sent'] / seconds:,.0f} rows/s)")
            seconds, _ = timed(lambda: sync.push(conn, settings))
            print(f"sync with nothing new: {seconds * 1000:.1f} ms")
            if hasattr(sync, "GONE"):  # the outbox queues updates (not on older code)
                # What a machine pays once after upgrading: every row re-sent, none changed.
                conn.execute("UPDATE team_sync_state SET value = '' WHERE key = 'shape'")
                seconds, stats = timed(lambda: sync.push(conn, settings))
                print(f"re-send of {stats['sent']} unchanged rows (once after an upgrade): "
                      f"{seconds:.2f}s, {stats['updated']} updated")
                conn.execute("UPDATE attempts SET output_tokens = output_tokens + 1 "
                             "WHERE rowid % 100 = 0")
                seconds, stats = timed(lambda: sync.push(conn, settings))
                print(f"sync of {stats['updated']} changed rows: {seconds * 1000:.1f} ms")
            pgc = pg.connect(settings)
            for label, fn in (
                    ("local report --monthly --by model",
                     lambda: api.compute(conn, granularity="month", group_by=["model"],
                                         timezone="UTC")),
                    ("team  report --monthly --by model",
                     lambda: report.compute(pgc, "bench", granularity="month",
                                            group_by=["model"], timezone="UTC"))):
                best = min(timed(fn)[0] for _ in range(3))
                print(f"{label} over {args.rows} rows (in-process): {best * 1000:.0f} ms")
            pgc.close()
            conn.close()

            shims, fake_bin = os.path.join(work, "shims"), os.path.join(work, "fake-bin")
            os.makedirs(shims)
            os.makedirs(fake_bin)
            import pathlib

            write_launcher(pathlib.Path(shims) / "claude")
            with open(os.path.join(fake_bin, "claude"), "w") as fh:
                fh.write(fakes.script("claude", os.path.join(work, "argv.jsonl")))
            os.chmod(os.path.join(fake_bin, "claude"), 0o755)
            budget = {"scope": "global", "period": "day", "limit": {"usd": 1e9}}
            variants = {
                "plain": {"models": {"dime-model": DIME_MODEL}},
                "team mode": {"models": {"dime-model": DIME_MODEL},
                              "team": {"dsn": dsn, "name": "calls"}},
                "local hard budget": {"models": {"dime-model": DIME_MODEL},
                                      "policies": {"budgets": {"b": budget}}},
                "team hard budget": {"models": {"dime-model": DIME_MODEL},
                                     "team": {"dsn": dsn, "name": "calls"},
                                     "policies": {"budgets": {"b": dict(budget,
                                                                        scope="team")}}},
            }
            for label, cfg in variants.items():
                home = os.path.join(work, label.replace(" ", "-"))
                os.makedirs(home)
                with open(os.path.join(home, "config.yaml"), "w") as fh:
                    yaml.safe_dump(cfg, fh)
                env = dict(os.environ, LLM_SHIM_HOME=home, HOME=work,
                           PATH=os.pathsep.join([shims, fake_bin, "/usr/bin", "/bin"]))
                call_times(env, 1, args.pause)  # warm the config cache
                print(f"one call, {label}: "
                      f"{call_times(env, args.calls, args.pause) * 1000:.0f} ms")
    finally:
        server.destroy()


if __name__ == "__main__":
    main()
