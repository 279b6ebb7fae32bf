#!/usr/bin/env python3
"""Rollup trigger cost on writes (not a test): microseconds per row to insert, update and
delete attempts with m012's triggers, m014's and the latest schema's, in one run, best of --runs.
The triggers are also what SQLite parses on every connection's first statement; this says
what a change to their shape costs the writers (ingestion, import, reprice, prune). Usage:
  .venv/bin/python tests/bench/rollup_writes.py [--rows 20000] [--runs 3]
"""

import argparse
import os
import random
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from shim.telemetry import migrations  # noqa: E402

OLD_TRIGGERS = 12  # the long per-level, per-source triggers
COMPACT = 14  # the view of signed rows with an add and a subtract trigger (m015 made them one)
COLUMNS = ("invocation_id", "attempt", "started_at", "agent", "model", "tool", "cost_usd",
           "input_tokens", "duration_ms")


def _rows(count):
    rnd = random.Random(1)
    return [(f"{i:032x}", 1, 1.77e9 + rnd.uniform(0, 30 * 86400), rnd.choice(["a", "b"]),
             rnd.choice(["m1", "m2", "m3"]), "claude", rnd.uniform(0, 1), rnd.randint(0, 1000),
             rnd.uniform(0, 9000)) for i in range(count)]


def _once(schema, rows):
    conn = sqlite3.connect(":memory:", isolation_level=None)
    migrations.migrate(conn, target=schema)
    insert = (f"INSERT INTO attempts ({', '.join(COLUMNS)}) "
              f"VALUES ({', '.join('?' * len(COLUMNS))})")
    t0 = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(insert, rows)
    conn.execute("COMMIT")
    t1 = time.perf_counter()
    conn.execute("UPDATE attempts SET cost_usd = cost_usd * 2")
    t2 = time.perf_counter()
    conn.execute("DELETE FROM attempts")
    t3 = time.perf_counter()
    assert conn.execute("SELECT COUNT(*) FROM report_rollup_15m").fetchone() == (0,)
    conn.close()
    return {"insert": t1 - t0, "update": t2 - t1, "delete": t3 - t2}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=3)
    opts = parser.parse_args()
    rows = _rows(opts.rows)
    schemas = {f"m{version:03d} triggers": version for version in (OLD_TRIGGERS, COMPACT)}
    schemas[f"schema {migrations.LATEST}"] = migrations.LATEST
    best = {}
    for _ in range(opts.runs):  # interleaved
        for name, schema in schemas.items():
            for op, seconds in _once(schema, rows).items():
                best[name, op] = min(best.get((name, op), seconds), seconds)
    for name in schemas:
        print(f"{name:14} " + "  ".join(f"{op} {best[name, op] * 1e6 / opts.rows:5.1f} us/row"
                                         for op in ("insert", "update", "delete")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
