#!/usr/bin/env python3
"""Shim overhead benchmark (not a test): medians of N runs, all measured in the same run.

  (a) the trivial real binary called directly
  (b) through our shim, routing on (embedded default config), telemetry recorded
  (c) through a pyenv-style bash shim: exec "$(command -v real)" "$@"
  (d) python3 -I -S -c pass, the floor for any Python shim
  (e) as (b), with one hard budget and one rate limit configured (never reached): the policy
      gate admits, reserves and settles every call in SQLite (issue 16)

Targets: (b) <= 2.5 x (d) (issue 3); (e) <= 2.5 x (d) (issue 16). Usage:
  .venv/bin/python tests/bench/overhead.py [--runs 40] [--agent auto] [--prompt TEXT] [--json]
                                           [--base ../main]   (base vs this tree, interleaved)
                                           [--instructions]   (valgrind callgrind, see below)
                                           [--reservations N] (see below)
Without --prompt the calls carry no arguments (an interactive call: nothing to classify);
`--prompt TEXT` makes them one-shot `-p TEXT` calls, which the router scores (issue 18).
The shim launcher has the installed shape (#!<python> -IS, package dir on sys.path, the hot
modules from their archive: shim/hotcode.py); the config cache and that archive are warmed
first, as they are after the first call of a real install.
`--instructions` counts instead the instructions each case's process executes (valgrind's
callgrind, children not traced, so the tool the shim runs is not counted; median of --runs,
3 is plenty): the same on any load, which a shared machine's timings are not.
`--reservations N` first puts N settled reservations whose calls ended without a known cost
(they count at their estimate for 40 days) into (e)'s store, spread over the last 39 days:
what a month of such calls leaves, and what admission must not visit one by one (m017).
"""

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)


def _spawn_wait(argv, env):
    """(wall seconds, CPU seconds): CPU is user + system of the process and the children it
    waited for (os.wait4), less sensitive to the load of a shared machine than wall time."""
    t0 = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, env)
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"benchmark: {argv} failed with {os.waitstatus_to_exitcode(status)}")
    return elapsed, usage.ru_utime + usage.ru_stime


def _instructions(argv, env, work):
    """Instructions executed by the process `argv` starts (valgrind callgrind), children not
    traced."""
    out = os.path.join(work, "callgrind.out")
    done = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                           "--trace-children=no", *argv], env=env, capture_output=True,
                          text=True, check=True)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if not found:
        raise SystemExit(f"benchmark: no count from valgrind for {argv}:\n{done.stderr}")
    return int(found.group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--agent", default=None, help="LLM_SHIM_AGENT for case (b)")
    parser.add_argument("--prompt", default=None,
                        help="call with -p PROMPT (a one-shot call the router scores)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--instructions", action="store_true",
                        help="count instructions under valgrind instead of timing")
    parser.add_argument("--reservations", type=int, default=0, metavar="N",
                        help="N leftover settled reservations in (e)'s store first")
    parser.add_argument("--base", default=None, metavar="CHECKOUT",
                        help="also (b) and (e) through another checkout's code (say main's "
                             "worktree), interleaved with these: b_base, e_base")
    opts = parser.parse_args()
    extra = ["-p", opts.prompt] if opts.prompt is not None else []

    python = os.path.realpath(sys.executable)
    site = [p for p in sys.path if p.endswith("site-packages")]
    work = tempfile.mkdtemp(prefix="llm-shim-bench-")
    try:
        real_dir = os.path.join(work, "real")
        shim_dir = os.path.join(work, "shims")
        bash_dir = os.path.join(work, "bashshim")
        for d in (real_dir, shim_dir, bash_dir):
            os.makedirs(d)
        real = os.path.join(real_dir, "claude")
        with open(real, "w") as fh:
            fh.write("#!/bin/sh\nexit 0\n")
        shim = _launcher(shim_dir, python, [REPO] + site)
        bash_shim = os.path.join(bash_dir, "claude")
        with open(bash_shim, "w") as fh:
            fh.write('#!/usr/bin/env bash\nPATH="${PATH#*:}" exec "$(command -v claude)" "$@"\n')
        for path in (real, shim, bash_shim):
            os.chmod(path, 0o755)

        env = {"PATH": os.pathsep.join([shim_dir, real_dir, "/usr/bin", "/bin"]),
               "HOME": os.path.join(work, "home"), "LLM_SHIM_HOME": os.path.join(work, "lsh")}
        if opts.agent:
            env["LLM_SHIM_AGENT"] = opts.agent
        bash_env = dict(env, PATH=os.pathsep.join([bash_dir, real_dir, "/usr/bin", "/bin"]))
        gated_env = dict(env, LLM_SHIM_HOME=os.path.join(work, "lsh-gated"))
        os.makedirs(gated_env["LLM_SHIM_HOME"])
        with open(os.path.join(gated_env["LLM_SHIM_HOME"], "config.yaml"), "w") as fh:
            json.dump({"policies": {  # JSON is YAML
                "budgets": {"bench": {"scope": "global", "period": "day",
                                      "limit": {"usd": 1000000, "type": "hard"},
                                      "reserve_usd": 0.01}},
                "rate_limits": {"bench": {"scope": "global", "calls_per_minute": 1000000}}}},
                fh)
        cases = {
            "a_direct": ([real] + extra, env),
            "b_shim": ([shim] + extra, env),
            "c_bash_shim": ([bash_shim] + extra, bash_env),
            "d_python_floor": ([python, "-I", "-S", "-c", "pass"], env),
            "e_shim_gated": ([shim] + extra, gated_env),
        }
        if opts.base:  # the same cases through another checkout, each with its own state
            base_dir = os.path.join(work, "shims-base")
            os.makedirs(base_dir)
            base_shim = _launcher(base_dir, python, [os.path.abspath(opts.base)] + site)
            base_env = dict(env, PATH=os.pathsep.join([base_dir, real_dir, "/usr/bin", "/bin"]),
                            LLM_SHIM_HOME=os.path.join(work, "lsh-base"))
            base_gated = dict(base_env, LLM_SHIM_HOME=os.path.join(work, "lsh-base-gated"))
            shutil.copytree(gated_env["LLM_SHIM_HOME"], base_gated["LLM_SHIM_HOME"])
            cases["b_base"] = ([base_shim] + extra, base_env)
            cases["e_base"] = ([base_shim] + extra, base_gated)
        for argv, e in cases.values():  # warm caches (config cache, page cache)
            _spawn_wait(argv, e)
            _spawn_wait(argv, e)
        if opts.reservations:
            for name in ("e_shim_gated", "e_base"):
                if name in cases:
                    _leftover_reservations(cases[name][1]["LLM_SHIM_HOME"], opts.reservations)
        if opts.instructions:
            counts = {name: statistics.median(_instructions(argv, e, work)
                                              for _ in range(opts.runs))
                      for name, (argv, e) in cases.items()
                      if name not in ("a_direct", "c_bash_shim")}  # these two exec at once
            floor = counts["d_python_floor"]
            for name, count in counts.items():
                print(f"{name:16} {count / 1e6:8.2f} M instructions   {count / floor:5.2f} x (d)")
            return 0
        times = {name: [] for name in cases}
        cpu = {name: [] for name in cases}
        order = list(cases)
        for _ in range(opts.runs):  # interleaved, so load changes hit every case alike, in an
            random.shuffle(order)   # order shuffled each round (the one before a case matters)
            for name in order:
                argv, e = cases[name]
                wall, used = _spawn_wait(argv, e)
                times[name].append(wall)
                cpu[name].append(used)
        med = {name: statistics.median(ts) * 1000 for name, ts in times.items()}
        med_cpu = {name: statistics.median(ts) * 1000 for name, ts in cpu.items()}
        spool = os.path.join(env["LLM_SHIM_HOME"], "spool", "spool.log")
        recorded = sum(1 for _ in open(spool)) if os.path.exists(spool) else 0
        result = {
            "runs": opts.runs,
            "median_ms": {k: round(v, 2) for k, v in med.items()},
            "cpu_median_ms": {k: round(v, 2) for k, v in med_cpu.items()},
            "cpu_ratio_b_over_d": round(med_cpu["b_shim"] / med_cpu["d_python_floor"], 2),
            "cpu_ratio_e_over_d": round(med_cpu["e_shim_gated"] / med_cpu["d_python_floor"], 2),
            "load": _load(),
            "ratio_b_over_d": round(med["b_shim"] / med["d_python_floor"], 2),
            "ratio_e_over_d": round(med["e_shim_gated"] / med["d_python_floor"], 2),
            "gate_added_ms": round(med["e_shim_gated"] - med["b_shim"], 2),
            **({"base": opts.base,
                "base_ratio_b_over_d": round(med["b_base"] / med["d_python_floor"], 2),
                "base_ratio_e_over_d": round(med["e_base"] / med["d_python_floor"], 2),
                "base_cpu_ratio_b_over_d": round(med_cpu["b_base"] / med_cpu["d_python_floor"], 2),
                "base_cpu_ratio_e_over_d": round(med_cpu["e_base"] / med_cpu["d_python_floor"],
                                                 2)} if opts.base else {}),
            "shim_added_ms": round(med["b_shim"] - med["a_direct"], 2),
            "telemetry_lines_recorded": recorded,
            "python": python,
            "agent": opts.agent,
            "prompt_chars": None if opts.prompt is None else len(opts.prompt),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if opts.json:
        print(json.dumps(result, indent=2))
    else:
        for name, value in result["median_ms"].items():
            print(f"{name:16} {value:8.2f} ms   CPU {result['cpu_median_ms'][name]:8.2f} ms")
        print(f"(b)/(d) = {result['ratio_b_over_d']}  (target <= 2.5); shim adds "
              f"{result['shim_added_ms']} ms; telemetry lines recorded: {recorded}")
        print(f"(e)/(d) = {result['ratio_e_over_d']}  (target <= 2.5); the gate adds "
              f"{result['gate_added_ms']} ms")
        print(f"CPU: (b)/(d) = {result['cpu_ratio_b_over_d']}, (e)/(d) = "
              f"{result['cpu_ratio_e_over_d']}; load average {result['load']}")
        if opts.base:
            print(f"base {opts.base}: (b)/(d) = {result['base_ratio_b_over_d']}, (e)/(d) = "
                  f"{result['base_ratio_e_over_d']}; CPU {result['base_cpu_ratio_b_over_d']}, "
                  f"{result['base_cpu_ratio_e_over_d']}")
    return 0


def _launcher(directory, python, path):
    """A `claude` shim shaped like the installed ones (#!python -IS, the hot modules from
    their archive), running the code in `path` (a checkout first, then the site-packages)."""
    shim = os.path.join(directory, "claude")
    # As shim.install.shimscript.BOOT: a checkout from before shim/hotcode.py has none.
    boot = ("from shim import hotcode\nhotcode.install()\n"
            if os.path.exists(os.path.join(path[0], "shim", "hotcode.py")) else "")
    with open(shim, "w") as fh:
        fh.write(f"#!{python} -IS\n# llm-shim shim (benchmark)\nimport sys\n"
                 f"sys.path[:0] = {path!r}\n{boot}"
                 "from shim.entry import main\nsys.exit(main())\n")
    os.chmod(shim, 0o755)
    return shim


def _leftover_reservations(home, count):
    """`count` settled reservations of calls that ended without a known cost, spread over the
    last 39 days, into the store under `home` (made by the warm-up calls, so at its code's
    schema: a settled row ends SETTLED_TTL after it was made, m017)."""
    import sqlite3

    from shim.policy.state import SETTLED_TTL

    now = time.time()
    rng = random.Random(count)
    conn = sqlite3.connect(os.path.join(home, "telemetry.db"))
    try:
        with conn:
            conn.executemany(
                "INSERT INTO policy_reservations (invocation_id, attempt, created_at, "
                "expires_at, host, tool, provider, model, cost_usd, tokens, settled) "
                "VALUES (?, 1, ?, ?, 'bench', 'claude', 'anthropic', 'm', 0.01, 10, 1)",
                [(f"leftover-{i}", at, at + SETTLED_TTL) for i, at in
                 ((i, now - rng.random() * 39 * 86400) for i in range(count))])
    finally:
        conn.close()


def _load():
    try:
        with open("/proc/loadavg") as fh:
            return " ".join(fh.read().split()[:3])
    except OSError:
        return None


if __name__ == "__main__":
    sys.exit(main())
