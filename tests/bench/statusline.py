#!/usr/bin/env python3
"""Status line benchmark (not a test): `llm-shim statusline` warm, against a bare Python.

  (a) `python -I -S -m shim statusline < sample.json`, the figures cache warm (the case after
      every assistant message while nothing new was recorded), median over N runs
  (b) the same with the cache removed before each run (SQLite opened, figures recomputed)
  (c) `python -I -S -c pass`
  ratio (a)/(c): goal <= 2.5 (docs/benchmarks.md)

Usage: .venv/bin/python tests/bench/statusline.py [--runs 40] [--json]
Runs in a private LLM_SHIM_HOME with a budget configured and a few hundred recorded calls.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)

SAMPLE = {"session_id": "bench", "model": {"id": "claude-opus-4-6", "display_name": "Opus 4.6"},
          "workspace": {"current_dir": None, "project_dir": None},
          "cost": {"total_cost_usd": 0.42},
          "rate_limits": {"five_hour": {"used_percentage": 42, "resets_at": 4102444800},
                          "seven_day": {"used_percentage": 12, "resets_at": 4102444800}}}


def _ms(samples):
    return round(statistics.median(samples) * 1000, 3)


def _time(argv, env, stdin, runs, before=None):
    out = []
    for _ in range(runs):
        if before:
            before()
        t0 = time.perf_counter()
        subprocess.run(argv, input=stdin, env=env, stdout=subprocess.DEVNULL, check=True)
        out.append(time.perf_counter() - t0)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--json", action="store_true")
    opts = parser.parse_args()

    home = tempfile.mkdtemp(prefix="llm-shim-bench-")
    env = dict(os.environ, LLM_SHIM_HOME=home, PYTHONPATH=REPO)
    env.pop("LLM_SHIM_AGENT", None)
    with open(os.path.join(home, "config.yaml"), "w") as fh:
        fh.write("schema_version: 1\npolicies:\n  budgets:\n    day: {period: day, "
                 "limit: {usd: 10.0, type: hard}}\n")
    SAMPLE["workspace"]["current_dir"] = SAMPLE["workspace"]["project_dir"] = home
    os.environ["LLM_SHIM_HOME"] = home
    from shim.telemetry import store

    conn = store.connect()
    now = time.time()
    with store.transaction(conn):
        store.insert_attempts(conn, [
            {"invocation_id": f"i{n}", "attempt": 1, "started_at": now - 60 * n, "tool": "claude",
             "agent": "default", "model": "claude-opus-4-6", "input_tokens": 100,
             "output_tokens": 50, "cost_usd": 0.01, "cost_source": "computed"}
            for n in range(300)])
    conn.close()
    stdin = json.dumps(SAMPLE).encode()
    py = sys.executable
    # As an installed shim starts: `python -I -S`, the code and its dependencies on sys.path.
    paths = [REPO] + [p for p in sys.path if p.endswith("site-packages")]
    cmd = [py, "-I", "-S", "-c", "import sys; sys.path[:0] = %r; from shim.entry import "
           "main; sys.exit(main(['llm-shim', 'statusline']))" % paths]
    cache = os.path.join(home, "cache", "statusline.marshal")

    def drop_cache():
        try:
            os.unlink(cache)
        except FileNotFoundError:
            pass

    _time(cmd, env, stdin, 3)  # warm the config cache, the .pyc files and the figures
    # Interleaved, so a load change on a shared machine hits both series alike.
    warm, bare = [], []
    for _ in range(opts.runs):
        warm += _time(cmd, env, stdin, 1)
        bare += _time([py, "-I", "-S", "-c", "pass"], env, b"", 1)
    cold = _time(cmd, env, stdin, max(5, opts.runs // 4), before=drop_cache)
    result = {"warm_ms": _ms(warm), "cache_miss_ms": _ms(cold), "python_pass_ms": _ms(bare),
              "ratio_warm": round(_ms(warm) / _ms(bare), 2),
              "ratio_cache_miss": round(_ms(cold) / _ms(bare), 2), "runs": opts.runs,
              "python": sys.version.split()[0]}
    if opts.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:18} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
