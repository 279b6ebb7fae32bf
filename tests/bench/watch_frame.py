#!/usr/bin/env python3
"""Benchmark (not a test): one `llm-shim watch` frame with 1,000,000 rows in the store.

Generates the history of tests/bench/report_1m.py (~90 days ending now) into a temporary
LLM_SHIM_HOME with three budgets (day, week, rolling 5h), two quotas (a snapshot's, an
estimate's: the worst case, it sums the block's rows), a plan snapshot, and two start lines in
the spool (one running, one whose shim died), then times `shim.cli.commands.watch.frame` (collect the data)
and the plain and rich renderings, in-process, and prints medians.

    .venv/bin/python tests/bench/watch_frame.py                  # 1M rows, 20 frames
    .venv/bin/python tests/bench/watch_frame.py --rows 200000 --runs 10
    .venv/bin/python tests/bench/watch_frame.py --keep /tmp/watch-home   # reuse the data
"""

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)

from tests.bench import report_1m  # noqa: E402

CONFIG = """\
policies:
  budgets:
    daily: {scope: global, period: day, limit: {usd: 500.0, type: soft}}
    claude-week: {scope: tool, match: claude, period: week, limit: {usd: 5000.0}}
    five-hours: {scope: global, period: rolling, window: 5h, limit: {usd: 200.0}}
  quotas:
    claude-5h: {tool: claude, window: five_hour, at: 0.85, action: redirect, to: {tool: codex}}
    codex-5h: {tool: codex, window: five_hour, at: 0.9, action: warn, estimate: {tokens: 50000000}}
"""


TOP_UP = 20_000


def prepare(home, rows):
    os.environ["LLM_SHIM_HOME"] = home
    with open(os.path.join(home, "config.yaml"), "w") as fh:
        fh.write(CONFIG)
    from shim.telemetry import store

    conn = store.connect()
    try:
        have = conn.execute("SELECT COUNT(*) FROM attempts").fetchone()[0]
        if have < rows:
            took = report_1m.generate(conn, rows - have)
            print(f"generated {rows - have} rows in {took:.0f}s", file=sys.stderr)
        # the generator's history can end hours ago: give today and the current block their
        # share (a busy day, more than the ~11,000 rows a day of the 90-day history)
        recent = conn.execute("SELECT COUNT(*) FROM attempts WHERE started_at > ?",
                              (time.time() - 3 * 3600,)).fetchone()[0]
        if recent < 1000:
            took = report_1m.generate(conn, TOP_UP, days=1, seed=int(time.time()))
            print(f"added {TOP_UP} rows for the last 24 hours in {took:.0f}s", file=sys.stderr)
    finally:
        conn.close()
    _spool_starts()
    _snapshot()


def _snapshot():
    """A current claude 5-hour snapshot (the plan windows and the snapshot quota read it)."""
    from shim.plans import snapshots
    from shim.telemetry import store

    conn = store.connect()
    try:
        snapshots.record(conn, [{"tool": "claude", "window": "five_hour", "used_pct": 42.0,
                                 "resets_at": time.time() + 3 * 3600, "status": None}],
                         "statusline")
    finally:
        conn.close()


def _spool_starts():
    from shim import paths
    from shim.telemetry import spool

    import shutil

    shutil.rmtree(paths.spool_dir(), ignore_errors=True)  # start lines of an earlier run
    now = time.time()
    for pid, age in ((os.getpid(), 0.0), (2 ** 22 + 17, 20.0)):  # alive, and gone
        rec = {"invocation_id": f"bench{pid}-{now:.0f}", "attempt": 1, "started_at": now - age,
               "tool": "claude", "model": "claude-sonnet-5", "agent": "bench", "mode": "oneshot"}
        spool.append({"v": 1, "kind": "start", "invocation_id": rec["invocation_id"],
                      "attempt": 1, "started_at": now - age, "host": os.uname().nodename,
                      "pid": pid, "record": rec})
    # start lines alone do not trigger ingestion: the frame reads them in place
    assert os.path.getsize(spool.spool_file()) > 0, paths.spool_dir()


def timed(func, runs):
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        func()
        times.append(time.perf_counter() - began)
    return round(statistics.median(times) * 1000, 1), round(max(times) * 1000, 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--keep", metavar="DIR", help="keep (and reuse) the data in DIR")
    parser.add_argument("--json", action="store_true")
    opts = parser.parse_args()
    home = opts.keep or tempfile.mkdtemp(prefix="llm-shim-watch-")
    os.makedirs(home, exist_ok=True)
    prepare(home, opts.rows)

    from shim.cli.commands import watch
    from shim.config import compiled
    from shim.telemetry import store
    from shim.watch import render

    cfg = compiled.load()
    conn = store.connect()
    data = watch.frame(conn, cfg)  # warm: imports, page cache
    assert data["problems"] == [], data["problems"]
    assert [c["state"] for c in data["running"]] == ["died", "running"], data["running"]
    assert data["budgets"] and data["today"]["rows"] and data["blocks"], data
    assert data["plan_windows"] and len(data["quotas"]) == 2, data
    result = {"rows": conn.execute("SELECT COUNT(*) FROM attempts").fetchone()[0]}
    from shim.watch import blocks
    from shim.watch import frame as frame_mod

    # a first frame (`--once`, or the live view's first): a week of the rollup for the blocks
    result["first_frame_ms"] = timed(lambda: watch.frame(conn, cfg), opts.runs)
    # the live view's later frames: the blocks continue from the starts found before
    tracker = blocks.Tracker()
    watch.frame(conn, cfg, tracker=tracker)
    result["frame_ms"] = timed(lambda: watch.frame(conn, cfg, tracker=tracker), opts.runs)
    parts = {}
    for name in ("running", "blocks (first)", "blocks (later)", "plan windows", "quotas",
                 "today", "budgets", "events"):
        part = {"running": lambda: frame_mod.running.running(conn, time.time()),
                "blocks (first)": lambda: blocks.current(conn, time.time()),
                "blocks (later)": lambda: tracker.current(conn, time.time()),
                "plan windows": lambda: frame_mod.plan_windows(conn, time.time()),
                "quotas": lambda: frame_mod.quota_states(conn, cfg, time.time()),
                "today": lambda: frame_mod.today(conn, cfg, time.time()),
                "budgets": lambda: frame_mod.budgets(conn, cfg, time.time()),
                "events": lambda: frame_mod.recent_events(conn, time.time())}[name]
        parts[name] = timed(part, opts.runs)[0]
    result["parts_ms"] = parts
    result["plain_ms"] = timed(lambda: render.plain(data), opts.runs)[0]
    try:
        from rich.console import Console

        sink = io.StringIO()
        console = Console(file=sink, force_terminal=True, width=120)
        result["rich_ms"] = timed(lambda: console.print(render.rich_view(data)), opts.runs)[0]
    except ImportError:
        result["rich_ms"] = None
    conn.close()
    result["load_1min"] = round(os.getloadavg()[0], 2)
    if opts.json:
        print(json.dumps(result, indent=1))
    else:
        print(f"{result['rows']:,} rows: first frame median {result['first_frame_ms'][0]} ms "
              f"(max {result['first_frame_ms'][1]} ms); later frames median "
              f"{result['frame_ms'][0]} ms (max {result['frame_ms'][1]} ms); "
              f"parts {parts}; plain render "
              f"{result['plain_ms']} ms; rich render {result['rich_ms']} ms; "
              f"load {result['load_1min']}")
    if not opts.keep:
        import shutil

        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
