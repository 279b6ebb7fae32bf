"""Benchmark (not a test): what telemetry adds to one shim call.

    .venv/bin/python tests/telemetry/bench_hot_path.py

Prints the median import time of the hot telemetry modules (fresh interpreters, -I -S), the
median cost of make_attempt + spool.append in-process, and of ingesting 1000 spooled records.
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)


def import_cost(runs=15):
    # os, time and the shim's base modules are imported by every shim call anyway.
    code = ("import os, sys, time; from shim import errors, paths, exitcodes; "
            "t = time.perf_counter(); "
            "from shim.telemetry import record, spool, usage; "
            "print((time.perf_counter() - t) * 1000)")
    env = dict(os.environ, PYTHONPATH=REPO)
    samples = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-S", "-c", code], env=env, capture_output=True,
                             text=True, check=True).stdout
        samples.append(float(out))
    return statistics.median(samples)


def record_and_append_cost(runs=500):
    from shim.telemetry import record, spool

    cfg = {"policies": {"privacy": "metadata", "project": "full"},
           "tools": {"claude": {"adapter": "claude"}}, "agents": {}}
    decision = {"agent": "default", "tool": "claude", "tool_requested": "claude",
                "mode": "oneshot", "reasons": ["no agent rule matched"], "prompt_chars": 30,
                "baseline_model": "claude-opus-4-8"}
    samples = []
    for _ in range(runs):
        now = time.time()
        t = time.perf_counter()
        rec = record.make_attempt(decision, {"exit_code": 0, "started_at": now, "ended_at": now,
                                             "usage": None, "prompt_text": "rename x to count"},
                                  cfg, invocation_id=record.new_invocation_id(), attempt=1,
                                  cwd=os.getcwd(), environ=os.environ)
        spool.append(rec)
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


def ingest_cost(n=1000):
    from shim.telemetry import ingest

    t = time.perf_counter()
    rows = ingest.ingest(cfg=ingest.embedded_config())
    return rows, (time.perf_counter() - t) * 1000


def main():
    with tempfile.TemporaryDirectory() as home:
        os.environ["LLM_SHIM_HOME"] = home
        print(f"import record+spool+usage (on top of os/time/shim.errors/shim.paths): "
              f"{import_cost():.2f} ms (median, fresh interpreter)")
        print(f"make_attempt + spool.append: {record_and_append_cost():.3f} ms (median)")
        for _ in range(500):  # 1000 records in the spool in total
            record_and_append_cost(runs=1)
        rows, ms = ingest_cost()
        print(f"ingest {rows} records: {ms:.0f} ms ({ms / max(rows, 1):.3f} ms/record)")


if __name__ == "__main__":
    main()
