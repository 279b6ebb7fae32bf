"""Benchmark: `llm-shim report --monthly --by model` over 1,000,000 attempt rows.

Generates a realistic ~90-day history into a temporary LLM_SHIM_HOME (one transaction of
`executemany`, rows in time order as ingestion appends them), then times the report in-process
and as a subprocess, with and without the rollup table of shim/report/rollup.py, and prints
medians plus the query plans. The figures in docs/report.md come from this script.

    .venv/bin/python tests/bench/report_1m.py                 # 1M rows, 5 runs each
    .venv/bin/python tests/bench/report_1m.py --rows 200000 --runs 3
    .venv/bin/python tests/bench/report_1m.py --keep /tmp/bench-home   # reuse the data next time
"""

import argparse
import contextlib
import io
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)

# USD per million tokens: input, output, cache read, cache write (config/default.yaml).
PRICES = {
    "claude-opus-4-8": (5.0, 25.0, 0.5, 6.25),
    "claude-sonnet-5": (3.0, 15.0, 0.3, 3.75),
    "claude-haiku-4-5-20251001": (1.0, 5.0, 0.1, 1.25),
    "gpt-6.1-sol": (5.0, 40.0, 0.5, 0.0),
    "gpt-5.5": (1.25, 10.0, 0.125, 0.0),
    "gpt-5-mini": (0.25, 2.0, 0.025, 0.0),
    "gpt-4o-mini": (0.15, 0.6, 0.075, 0.0),
    "gpt-4o": (2.5, 10.0, 1.25, 0.0),
}
PROVIDER = {m: ("anthropic" if m.startswith("claude") else "openai") for m in PRICES}
TIER = {"claude-opus-4-8": "premium", "claude-sonnet-5": "standard",
        "claude-haiku-4-5-20251001": "cheap", "gpt-6.1-sol": "premium", "gpt-5.5": "standard",
        "gpt-5-mini": "cheap", "gpt-4o-mini": "cheap", "gpt-4o": "standard"}
PREMIUM = {"claude": "claude-opus-4-8", "codex": "gpt-6.1-sol", "llm": "gpt-4o"}

# (agent, share of calls, hours active (UTC) or None = all day, [(tool, model, weight)],
#  projects, routes by complexity?)
AGENTS = [
    ("alice", 0.20, (7, 19), [("claude", "claude-sonnet-5", 6), ("claude", "claude-opus-4-8", 3),
                              ("claude", "claude-haiku-4-5-20251001", 1)],
     ["/home/alice/src/api", "/home/alice/src/web", "/home/alice/notes"], False),
    ("bob", 0.15, (13, 23), [("codex", "gpt-5.5", 7), ("codex", "gpt-6.1-sol", 2),
                             ("codex", "gpt-5-mini", 1)],
     ["/home/bob/infra", "/home/bob/api"], False),
    ("auto", 0.30, None, [("claude", "claude-haiku-4-5-20251001", 5),
                          ("claude", "claude-sonnet-5", 3), ("claude", "claude-opus-4-8", 1),
                          ("codex", "gpt-5-mini", 2), ("codex", "gpt-5.5", 1)],
     ["/srv/agents/triage", "/srv/agents/docs", "/srv/agents/tests", "/srv/agents/deps"], True),
    ("reviewer", 0.20, None, [("claude", "claude-sonnet-5", 1)], ["/srv/ci/app"], False),
    ("nightly", 0.10, (0, 6), [("llm", "gpt-4o-mini", 4), ("llm", "gpt-4o", 1)],
     ["/srv/batch/summaries"], False),
    ("default", 0.05, None, [("llm", "gpt-4o-mini", 1), ("claude", "claude-sonnet-5", 1)],
     ["/home/alice/src/api", "/tmp"], False),
]


def _columns():
    from shim.telemetry.migrations import ATTEMPT_COLUMNS
    return ATTEMPT_COLUMNS


def _cost(model, inp, out, cr, cw):
    p = PRICES[model]
    return (inp * p[0] + out * p[1] + cr * p[2] + cw * p[3]) / 1e6


def rows(count, days=90, end=None, seed=7):
    """`count` attempt rows as dicts of the columns the report reads, in time order."""
    rnd = random.Random(seed)
    end = end if end is not None else time.time()
    start = end - days * 86400
    step = days * 86400 / (count / 1.03)  # ~3% of invocations have a second attempt
    shares = [a[1] for a in AGENTS]
    made = 0
    t = start
    while made < count:
        t += rnd.expovariate(1.0 / step)
        agent, _, hours, choices, projects, routed = rnd.choices(AGENTS, shares)[0]
        if hours is not None and not (hours[0] <= (t % 86400) / 3600 < hours[1]):
            # outside its hours a human's slot goes to the CI bot, which runs around the clock
            agent, _, hours, choices, projects, routed = AGENTS[3]
        tool, model, _ = rnd.choices(choices, [c[2] for c in choices])[0]
        project = rnd.choice(projects)
        invocation = rnd.getrandbits(128).to_bytes(16, "big").hex()
        attempts = 2 if rnd.random() < 0.03 else 1
        begin = t
        for attempt in range(1, attempts + 1):
            if attempt == 2:  # fallback to the other vendor
                tool, model = (("codex", "gpt-5.5") if tool != "codex"
                               else ("claude", "claude-sonnet-5"))
            blocked = 1 if rnd.random() < 0.01 else 0
            failed = attempt < attempts or (not blocked and rnd.random() < 0.04)
            inp = int(rnd.lognormvariate(8.5, 1.0)) if not blocked else 0
            out = int(rnd.lognormvariate(6.5, 1.0)) if not blocked else 0
            cr = int(inp * rnd.random() * 4) if tool == "claude" and not blocked else 0
            cw = int(inp * rnd.random() * 0.3) if tool == "claude" and not blocked else 0
            cost = _cost(model, inp, out, cr, cw)
            baseline_model = PREMIUM[tool] if routed else model
            baseline = _cost(baseline_model, inp, out, cr, cw) if rnd.random() < 0.9 else None
            duration = 0.0 if blocked else rnd.lognormvariate(9.0, 0.8)
            yield {
                "invocation_id": invocation, "attempt": attempt, "started_at": begin,
                "ended_at": begin + duration / 1000, "duration_ms": duration, "host": "bench",
                "agent": agent, "tool_requested": tool, "tool": tool, "model_requested": None,
                "model": model, "provider": PROVIDER[model], "tier": TIER[model],
                "complexity": "standard", "mode": "oneshot", "reasons": "[]",
                "exit_code": 75 if blocked else (1 if failed else 0),
                "failure_class": "rate_limited" if failed else None,
                "input_tokens": inp, "output_tokens": out, "cache_read_tokens": cr,
                "cache_write_tokens": cw, "reasoning_tokens": 0, "cost_usd": cost,
                "cost_source": "computed", "computed_cost_usd": cost, "price_version": "bench",
                "baseline_model": baseline_model, "baseline_cost_usd": baseline,
                "project": project, "blocked": blocked, "budget_override": 0,
                "prompt_chars": 800, "prompt_hash": "0" * 16, "shim_version": "bench",
            }
            begin += duration / 1000 + 0.5
            made += 1
            if made >= count:
                break


def generate(conn, count, days=90, end=None, seed=7):
    """Insert `count` rows in one transaction; returns seconds taken."""
    columns = _columns()
    sql = f"INSERT INTO attempts ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    began = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(sql, (tuple(r.get(c) for c in columns) for r in rows(count, days, end, seed)))
    conn.execute("COMMIT")
    return time.perf_counter() - began


# --- timing -------------------------------------------------------------------------------------

COMMAND = ["report", "--monthly", "--by", "model"]


def in_process(args):
    """Seconds for one `llm-shim <args>` run through shim.cli.main.main, output discarded."""
    from shim.cli.main import main

    sink = io.StringIO()
    began = time.perf_counter()
    with contextlib.redirect_stdout(sink):
        code = main(list(args))
    elapsed = time.perf_counter() - began
    assert code == 0, sink.getvalue()[-500:]
    return elapsed


def as_subprocess(args):
    """Seconds for one `llm-shim <args>` process (interpreter start-up and imports included)."""
    script = os.path.join(os.path.dirname(sys.executable), "llm-shim")
    cmd = [script] if os.path.exists(script) else [sys.executable, "-m", "shim"]
    began = time.perf_counter()
    proc = subprocess.run(cmd + list(args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - began
    assert proc.returncode == 0, proc.stderr.decode()[-500:]
    return elapsed


def median_of(func, args, runs):
    times = [func(args) for _ in range(runs)]
    return statistics.median(times), times


def drop_rollup(conn):
    from shim.report import rollup

    rollup.drop(conn)


def insert_cost(conn, count=20000):
    """(seconds to insert, seconds to delete) `count` extra rows; they are removed again."""
    top = conn.execute("SELECT COALESCE(MAX(rowid), 0) FROM attempts").fetchone()[0]
    took = generate(conn, count, days=1, seed=99)
    began = time.perf_counter()
    conn.execute("BEGIN")
    conn.execute("DELETE FROM attempts WHERE rowid > ?", (top,))
    conn.execute("COMMIT")
    return took, time.perf_counter() - began


def plans(conn, args_zone):
    from shim.report import api

    doc, periods, filters = api.compute(conn, granularity="month", group_by=["model"],
                                        timezone=args_zone)
    from shim.report import query

    return query.explain(conn, periods, ["model"], filters)[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5, help="timed runs with the rollup")
    parser.add_argument("--raw-runs", type=int, default=3, help="timed runs without it")
    parser.add_argument("--keep", metavar="DIR", help="LLM_SHIM_HOME to create or reuse")
    parser.add_argument("--zones", default="local,Europe/Berlin,Asia/Kolkata",
                        help="--tz values to time the command with")
    opts = parser.parse_args()

    home = opts.keep or tempfile.mkdtemp(prefix="llm-shim-bench-")
    os.environ["LLM_SHIM_HOME"] = os.path.abspath(home)
    from shim.telemetry import store
    from shim.report import rollup

    conn = store.connect()
    have = conn.execute("SELECT COUNT(*) FROM attempts").fetchone()[0]
    if have != opts.rows:
        drop_rollup(conn)
        conn.execute("DELETE FROM attempts")
        print(f"generating {opts.rows:,} rows into {home} ...", flush=True)
        print(f"  insert: {generate(conn, opts.rows):.1f} s", flush=True)
    print(f"rows: {conn.execute('SELECT COUNT(*) FROM attempts').fetchone()[0]:,}; "
          f"database: {os.path.getsize(store.paths.database_file()) / 1e6:.0f} MB; "
          f"python {sys.version.split()[0]}, SQLite {store.sqlite3.sqlite_version}")
    drop_rollup(conn)
    zones = [z for z in opts.zones.split(",") if z]

    print("\n== without the rollup (indexes of shim/telemetry/migrations.py only)")
    plain_insert = insert_cost(conn)
    for line in sorted(set(plans(conn, None))):
        print("  plan:", line)
    for zone in zones:
        args = COMMAND + (["--tz", zone] if zone != "local" else [])
        med, times = median_of(in_process, args, opts.raw_runs)
        print(f"  {' '.join(args)}: in-process median {med:.3f} s  "
              f"({', '.join(f'{t:.2f}' for t in times)})", flush=True)

    print("\n== with the rollup (shim/report/rollup.py)")
    began = time.perf_counter()
    with store.transaction(conn):
        rollup.install(conn)
    print(f"  install + backfill: {time.perf_counter() - began:.1f} s; rows: " + ", ".join(
        f"{t} {conn.execute(f'SELECT COUNT(*) FROM {t}').fetchone()[0]:,}"
        for t, _ in rollup.LEVELS))
    rolled_insert = insert_cost(conn)
    for line in sorted(set(plans(conn, None))):
        print("  plan:", line)
    for zone in zones:
        args = COMMAND + (["--tz", zone] if zone != "local" else [])
        med, times = median_of(in_process, args, opts.runs)
        print(f"  {' '.join(args)}: in-process median {med:.3f} s  "
              f"({', '.join(f'{t:.2f}' for t in times)})", flush=True)
        med, times = median_of(as_subprocess, args, opts.runs)
        print(f"  {' '.join(args)}: subprocess median {med:.3f} s  "
              f"({', '.join(f'{t:.2f}' for t in times)})", flush=True)
    for args in (["report"], ["report", "--weekly", "--by", "agent,project"]):
        med, _ = median_of(as_subprocess, args, opts.runs)
        print(f"  {' '.join(args)}: subprocess median {med:.3f} s", flush=True)
    print(f"\n== ingest cost of 20,000 rows: insert {plain_insert[0]:.2f} s / delete "
          f"{plain_insert[1]:.2f} s without the triggers; insert {rolled_insert[0]:.2f} s / "
          f"delete {rolled_insert[1]:.2f} s with them")
    conn.close()
    if not opts.keep:
        import shutil

        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
