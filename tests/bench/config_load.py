#!/usr/bin/env python3
"""Config load benchmark (not a test): warm `compiled.load()` against a cold compile.

  (a) in-process warm load (cache hit): median over N calls
  (b) in-process cold load (cache removed before each call; yaml already imported)
  (c) a fresh `python -I -S` process doing a warm load, against (d) `python -I -S -c pass`
  (e) a fresh process doing a cold load (imports yaml and the builder)

Usage: .venv/bin/python tests/bench/config_load.py [--runs 30] [--json]
Runs in a private LLM_SHIM_HOME with a small user config, like a fresh install.
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


def _ms(samples):
    return round(statistics.median(samples) * 1000, 3)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    opts = parser.parse_args()

    home = tempfile.mkdtemp(prefix="llm-shim-bench-")
    os.environ["LLM_SHIM_HOME"] = home
    with open(os.path.join(home, "config.yaml"), "w") as fh:
        fh.write("schema_version: 1\ndefault_agent: auto\npolicies: {fallback: {max_attempts: 2}}\n")
    os.chdir(home)
    from shim.config import compiled

    compiled.load()
    target = compiled.cache_file(compiled.discover())
    warm, cold = [], []
    for _ in range(opts.runs):
        t0 = time.perf_counter()
        compiled.load()
        warm.append(time.perf_counter() - t0)
    for _ in range(max(5, opts.runs // 3)):
        os.unlink(target)
        t0 = time.perf_counter()
        compiled.load()
        cold.append(time.perf_counter() - t0)

    python = os.path.realpath(sys.executable)
    site = [p for p in sys.path if p.endswith("site-packages")]
    probe = (f"import sys; sys.path[:0] = {[REPO] + site!r}; "
             "from shim.config import compiled; compiled.load()")

    def spawn(code, before=None):
        samples = []
        for _ in range(opts.runs):
            if before:
                before()
            t0 = time.perf_counter()
            subprocess.run([python, "-I", "-S", "-c", code], check=True)
            samples.append(time.perf_counter() - t0)
        return samples

    compiled.load()
    results = {
        "warm_load_in_process_ms": _ms(warm),
        "cold_load_in_process_ms": _ms(cold),
        "process_warm_load_ms": _ms(spawn(probe)),
        "process_pass_ms": _ms(spawn("pass")),
        "process_cold_load_ms": _ms(spawn(probe, before=lambda: os.path.exists(target) and os.unlink(target))),
        "cache_bytes": os.path.getsize(target),
    }
    if opts.json:
        print(json.dumps(results))
    else:
        for key, value in results.items():
            print(f"{key:<28} {value}")


if __name__ == "__main__":
    main()
