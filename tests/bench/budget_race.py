#!/usr/bin/env python3
"""Budget race benchmark (not a test): N parallel shims against one hard budget.

Each call goes through a real shim to a fake `claude` whose JSON result reports a cost of
--cost USD (the model is priced so that the flat estimate equals that cost). Prints how many
ran, how many were refused (exit 75), the spend recorded after ingestion, and the time one
call spends in the gate (admit + settle) compared with the same call without a budget.

  .venv/bin/python tests/bench/budget_race.py [--calls 20] [--limit 1.0] [--cost 0.10]
                                              [--sleep 0.5] [--rounds 3] [--json]
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

from tests.support import fakes  # noqa: E402
from tests.support.launchers import write_launcher  # noqa: E402


def setup(work, limit, cost):
    import pathlib

    import yaml

    work = pathlib.Path(work)
    home, shims, fake_bin = work / "shim-home", work / "shims", work / "fake-bin"
    for d in (home, shims, fake_bin):
        d.mkdir(parents=True, exist_ok=True)
    for name in ("claude", "llm-shim"):
        write_launcher(shims / name)
    fake = fake_bin / "claude"
    fake.write_text(fakes.script("claude", work / "claude.argv.jsonl"))
    fake.chmod(0o755)
    per_million = cost / 1000 * 1_000_000  # 1000 expected output tokens cost `cost`
    cfg = {"models": {"bench-model": {"provider": "anthropic", "tier": "standard",
                                      "prices": {"input": 0.0, "output": per_million,
                                                 "cache_read": 0.0, "cache_write": 0.0},
                                      "aliases": []}},
           "policies": {"budgets": {"race": {"scope": "global", "period": "day",
                                             "limit": {"usd": limit, "type": "hard"}}}}}
    (home / "config.yaml").write_text(yaml.safe_dump(cfg))
    env = dict(os.environ, LLM_SHIM_HOME=str(home), HOME=str(work),
               PATH=os.pathsep.join([str(shims), str(fake_bin), "/usr/bin", "/bin"]),
               FAKE_CLAUDE_COST=str(cost))
    return env, home


ARGV = ["claude", "-p", "hi", "--model", "bench-model", "--output-format", "json"]


def race(calls, limit, cost, sleep):
    with tempfile.TemporaryDirectory(prefix="llm-shim-race-") as work:
        env, home = setup(work, limit, cost)
        env["FAKE_CLAUDE_SLEEP"] = str(sleep)
        subprocess.run(["llm-shim", "budget"], env=env, capture_output=True)  # warm caches
        t0 = time.perf_counter()
        procs = [subprocess.Popen(ARGV, env=env, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for _ in range(calls)]
        codes = [p.wait() for p in procs]
        wall = time.perf_counter() - t0
        os.environ["LLM_SHIM_HOME"] = str(home)
        from shim.telemetry import ingest, store

        conn = store.connect()
        try:
            ingest.ingest(conn)
            spend = conn.execute("SELECT TOTAL(cost_usd) FROM attempts WHERE blocked = 0"
                                 ).fetchone()[0]
        finally:
            conn.close()
    return {"ran": codes.count(0), "blocked": codes.count(75),
            "other": len(codes) - codes.count(0) - codes.count(75),
            "spend_usd": round(spend, 6), "wall_s": round(wall, 3)}


def gate_cost(runs):
    """Median wall time of one sequential call with and without a (never full) budget,
    the two cases interleaved so that machine noise hits both alike."""
    import yaml

    times = {"no budget": [], "with budget": []}
    with tempfile.TemporaryDirectory(prefix="llm-shim-gate-") as a, \
            tempfile.TemporaryDirectory(prefix="llm-shim-gate-") as b:
        plain_env, plain_home = setup(a, 1.0, 0.0)
        cfg = yaml.safe_load((plain_home / "config.yaml").read_text())
        cfg["policies"] = {}
        (plain_home / "config.yaml").write_text(yaml.safe_dump(cfg))
        gated_env, _ = setup(b, 1e9, 0.10)  # priced: a $0 reservation cannot be capped (refused)
        for i in range(runs + 2):
            for label, env in (("no budget", plain_env), ("with budget", gated_env)):
                t0 = time.perf_counter()
                subprocess.run(ARGV, env=env, stdin=subprocess.DEVNULL, capture_output=True)
                if i >= 2:
                    times[label].append(time.perf_counter() - t0)
    return {k: round(statistics.median(v) * 1000, 1) for k, v in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--limit", type=float, default=1.0)
    parser.add_argument("--cost", type=float, default=0.10)
    parser.add_argument("--sleep", type=float, default=0.5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    opts = parser.parse_args()
    rounds = [race(opts.calls, opts.limit, opts.cost, opts.sleep) for _ in range(opts.rounds)]
    result = {"rounds": rounds, "gate_ms": gate_cost(25)}
    if opts.json:
        print(json.dumps(result, indent=1))
        return
    for r in rounds:
        print(f"{opts.calls} calls, ${opts.limit:.2f} hard budget, ${opts.cost:.2f} each: "
              f"{r['ran']} ran, {r['blocked']} refused (75), {r['other']} other; "
              f"recorded spend ${r['spend_usd']:.2f}; {r['wall_s']}s wall")
    g = result["gate_ms"]
    print(f"one call, median: {g['no budget']} ms without a budget, "
          f"{g['with budget']} ms with one")


if __name__ == "__main__":
    main()
