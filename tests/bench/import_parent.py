"""Benchmark: the CPU of a first `llm-shim import` split between the importing process (the
parent: checking, summing and writing) and its parsing workers, for this checkout and others,
interleaved (docs/benchmarks.md "Import against ccusage").

    python tests/bench/import_parent.py [--dir DIR] [--repeat 5] [--base CHECKOUT ...]

DIR is the set tests/bench/import_vs_ccusage.py generates (default: its default, reused).
Each round runs, per checkout, one process that calls the CLI's main() with `import` on a
fresh store and reports resource.getrusage: SELF (the parent) and CHILDREN (the workers).
Prints the medians per checkout, and the parent's ratio to the first --base.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

CHILD = r"""
import contextlib, io, json, os, resource, sys, time
from shim.cli import main
sys.argv = ["llm-shim", "import"]
before = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
start = time.perf_counter()
with contextlib.redirect_stdout(io.StringIO()):
    code = main.main()
wall = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = [(b.ru_utime - a.ru_utime) + (b.ru_stime - a.ru_stime) for a, b in zip(before, after)]
print(json.dumps({"code": code, "parent_cpu_s": cpu[0], "workers_cpu_s": cpu[1], "wall_s": wall}))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=os.path.join(tempfile.gettempdir(),
                                                      "llm-shim-bench-logs"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--base", action="append", default=[],
                        help="another llm-shim checkout to time in the same rounds")
    args = parser.parse_args()
    if not os.path.isdir(os.path.join(args.dir, "claude")):
        raise SystemExit(f"no generated set in {args.dir}: run tests/bench/import_vs_ccusage.py")
    trees = [REPO] + [os.path.abspath(b) for b in args.base]
    work = tempfile.mkdtemp(prefix="llm-shim-bench-parent-")
    runs = {tree: [] for tree in trees}
    try:
        for n in range(args.repeat):
            for i, tree in enumerate(trees):
                home = os.path.join(work, f"{i}-{n}")
                env = {"PATH": os.environ.get("PATH", ""), "HOME": os.path.join(home, "home"),
                       "TZ": "UTC", "NO_COLOR": "1", "PYTHONPATH": tree,
                       "LLM_SHIM_HOME": os.path.join(home, "store"),
                       "CLAUDE_CONFIG_DIR": os.path.join(args.dir, "claude"),
                       "CODEX_HOME": os.path.join(args.dir, "codex")}
                os.makedirs(env["HOME"])
                out = subprocess.run([sys.executable, "-c", CHILD], env=env, cwd=work,
                                     capture_output=True, text=True, check=True).stdout
                runs[tree].append(json.loads(out.splitlines()[-1]))
                shutil.rmtree(home, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result = {"repeat": args.repeat, "load_average": os.getloadavg()[0], "trees": {}}
    for tree, taken in runs.items():
        result["trees"][tree] = {k: round(statistics.median(r[k] for r in taken), 3)
                                 for k in ("parent_cpu_s", "workers_cpu_s", "wall_s")}
    if args.base:
        ours, base = (result["trees"][t]["parent_cpu_s"] for t in (REPO, trees[1]))
        result["parent_cpu_ratio_to_base"] = round(ours / base, 2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
