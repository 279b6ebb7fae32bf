"""The shim's hot path imports nothing heavy (checked with `python -X importtime`): the whole
call, the telemetry modules while recording, and adapters + routing deciding. One file for
every hot-path import check.

A warm call (config cache built by an earlier call) must not import yaml, tabulate, psutil,
argparse or importlib.metadata (the issue's list), nor the modules our own budget rules out:
signal/enum, re, json, subprocess, sqlite3, dataclasses, typing, pathlib, platformdirs.
"""

import marshal
import os
import subprocess
import sys
import textwrap

import pytest

from tests.support import REPO
from tests.support.configs import make_config
from tests.support.launchers import write_launcher

FORBIDDEN = {"yaml", "tabulate", "psutil", "argparse", "importlib.metadata"}
OUR_BUDGET = {"signal", "enum", "re", "json", "subprocess", "sqlite3", "dataclasses", "typing",
              "pathlib", "platformdirs", "datetime", "inspect", "logging"}


def _imported(launcher, args, env):
    cmd = [os.path.realpath(sys.executable), "-I", "-S", "-X", "importtime", str(launcher)] + args
    proc = subprocess.run(cmd, env=env, capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    names = set()
    for line in proc.stderr.decode().splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    return names


def _claude_shim(tmp_path, fake_cli):
    """A claude launcher shaped like an installed shim, in front of the fake claude, and the
    environment that calls it."""
    shims = tmp_path / "shims"
    shims.mkdir()
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(shims), str(fake_cli.bin_dir), "/usr/bin", "/bin"])
    return write_launcher(shims / "claude"), env


@pytest.mark.parametrize("args, agent", [
    (["--version"], None),
    ([], None),
    (["-p", "rename the variable x to count"], "auto"),
])
def test_warm_shim_call_imports_nothing_heavy(tmp_path, fake_cli, args, agent):
    fake_cli("claude")
    launcher, env = _claude_shim(tmp_path, fake_cli)
    if agent:
        env["LLM_SHIM_AGENT"] = agent
    subprocess.run([str(launcher)] + args, env=env, capture_output=True, timeout=60)  # warm
    names = _imported(launcher, args, env)
    assert "shim.proxy" in names, "the call did not go through the proxy"
    heavy = {n for n in names if n in FORBIDDEN or n.split(".")[0] in FORBIDDEN}
    assert not heavy, f"hot path imported {sorted(heavy)}"
    over_budget = {n for n in names if n in OUR_BUDGET}
    assert not over_budget, f"hot path imported {sorted(over_budget)}"


GATE_HEAVY = {"hashlib", "_hashlib", "socket", "functools", "collections",
              "shim.telemetry.imports", "shim.telemetry.ingest", "shim.telemetry.prices"}


def test_warm_gated_call_imports_nothing_heavy(tmp_path, fake_cli, isolated_env):
    """One hard budget and one rate limit (issue 16): the gate admits, reserves and settles in
    SQLite (the C module only) and, with the tools' logs unchanged since the last import
    (shim.telemetry.importstamp), does not load the import package."""
    import json

    fake_cli("claude")
    launcher, env = _claude_shim(tmp_path, fake_cli)
    isolated_env["shim_home"].mkdir(exist_ok=True)
    (isolated_env["shim_home"] / "config.yaml").write_text(json.dumps({"policies": {
        "budgets": {"b": {"scope": "global", "period": "day",
                          "limit": {"usd": 1000.0, "type": "hard"}, "reserve_usd": 0.01}},
        "rate_limits": {"r": {"scope": "global", "calls_per_minute": 100000}}}}))
    subprocess.run([str(launcher)], env=env, capture_output=True, timeout=60)  # warm
    names = _imported(launcher, [], env)
    assert {"shim.proxy", "shim.policy.engine", "shim.policy.settle",
            "shim.telemetry.database"} <= names
    assert not {n for n in names if n in FORBIDDEN or n.split(".")[0] in FORBIDDEN}
    assert not {n for n in names if n in OUR_BUDGET}, sorted(n for n in names if n in OUR_BUDGET)
    assert not names & GATE_HEAVY, sorted(names & GATE_HEAVY)
    # Loaded only when the call needs them (issue 16, fourth round): the database is current
    # (no migrations) and only opened (shim.telemetry.database, not the store), the spool
    # fresh, the call interactive (nothing to cap, score or route by cost).
    assert not names & GATE_LAZY, sorted(names & GATE_LAZY)


GATE_LAZY = {"shim.policy.stale_spool", "shim.policy.cap", "shim.telemetry.migrations",
             "shim.telemetry.store", "shim.routing.router", "shim.routing.classify"}


def test_a_call_under_a_budget_alone_loads_no_rate_limits(tmp_path, fake_cli, isolated_env):
    """shim.policy.ratelimit only for a call a rate limit could apply to (issue 16, fifth
    round): with a budget and no `rate_limits:` the gate admits and settles without it."""
    import json

    fake_cli("claude")
    launcher, env = _claude_shim(tmp_path, fake_cli)
    isolated_env["shim_home"].mkdir(exist_ok=True)
    (isolated_env["shim_home"] / "config.yaml").write_text(json.dumps({"policies": {
        "budgets": {"b": {"scope": "global", "period": "day",
                          "limit": {"usd": 1000.0, "type": "hard"}, "reserve_usd": 0.01}}}}))
    subprocess.run([str(launcher)], env=env, capture_output=True, timeout=60)  # warm
    names = _imported(launcher, [], env)
    assert {"shim.policy.engine", "shim.policy.settle"} <= names
    assert "shim.policy.ratelimit" not in names


def test_interactive_call_loads_no_scorer(tmp_path, fake_cli):
    """The keyword score and the learned router only for a one-shot prompt they score."""
    fake_cli("claude")
    launcher, env = _claude_shim(tmp_path, fake_cli)
    env["LLM_SHIM_AGENT"] = "auto"
    subprocess.run([str(launcher)], env=env, capture_output=True, timeout=60)  # warm
    names = _imported(launcher, [], env)
    assert "shim.routing.decide" in names
    assert not names & {"shim.routing.router", "shim.routing.classify",
                        "shim.telemetry.migrations"}
    names = _imported(launcher, ["-p", "rename the variable x to count"], env)
    assert {"shim.routing.router", "shim.routing.classify"} <= names


def test_learned_grammar_is_read_without_heavy_imports(tmp_path, fake_cli):
    """A learned table (shim.adapters.learned) is read on the hot path as the compiled config
    is: marshal only, and the flag it adds makes the call understood (routed)."""
    import time

    from shim.adapters import learned

    fake = fake_cli("claude")
    key = learned.identity(str(fake.path))
    learned.write(learned.cache_file("claude", key[0]), {
        "tool": "claude", "key": key, "version": "9.9.9", "learned_at": time.time(),
        "commands": {"": {"flags": {"--brandnew": 1}, "subcommands": []}}})
    launcher, env = _claude_shim(tmp_path, fake_cli)
    env.pop("LLM_SHIM_LEARN", None)
    env["LLM_SHIM_AGENT"] = "auto"
    args = ["-p", "rename x", "--brandnew", "v"]
    subprocess.run([str(launcher)] + args, env=env, capture_output=True, timeout=60)  # warm
    names = _imported(launcher, args, env)
    assert "shim.adapters.learned" in names
    assert not {n for n in names if n in FORBIDDEN or n.split(".")[0] in FORBIDDEN}
    assert not {n for n in names if n in OUR_BUDGET}, sorted(n for n in names if n in OUR_BUDGET)
    assert "shim.grammar.learn" not in names and "shim.detach" not in names


# Recording a call (tests/telemetry's modules): the same budget, plus a few more.
HEAVY = {"yaml", "tabulate", "psutil", "argparse", "importlib.metadata", "signal", "enum", "re",
         "json", "subprocess", "sqlite3", "dataclasses", "typing", "pathlib", "platformdirs",
         "datetime", "inspect", "logging", "hashlib", "ast", "fnmatch", "glob"}

RECORD_SCRIPT = textwrap.dedent("""
    import os, sys, time
    sys.path.insert(0, {repo!r})
    from shim.telemetry import record, spool, usage
    cfg = {{"policies": {{"privacy": "metadata", "project": "hash"}},
           "tools": {{"claude": {{"adapter": "claude"}}}}, "agents": {{}}}}
    decision = {{"agent": "default", "tool": "claude", "tool_requested": "claude",
                "mode": "oneshot", "reasons": ["x"], "prompt_chars": 5}}
    use = None
    if {tap!r}:
        tap = usage.tap_for("claude", "json")
        tap.feed(open({sample!r}, "rb").read())
        use = tap.result()
    now = time.time()
    rec = record.make_attempt(decision, {{"exit_code": 0, "started_at": now, "ended_at": now,
                              "usage": use, "prompt_text": "hello"}}, cfg,
                              invocation_id=record.new_invocation_id(), attempt=1,
                              cwd=os.getcwd(), environ=os.environ)
    assert rec["prompt_hash"] and rec["project"].startswith("sha256:")
    assert spool.append(rec)
""")


def imported_modules(tmp_path, tap):
    script = tmp_path / "hot.py"
    sample = os.path.join(REPO, "tests", "telemetry", "data", "claude-json-ok.json")
    script.write_text(RECORD_SCRIPT.format(repo=REPO, tap=tap, sample=sample))
    names = _imported(script, [], dict(os.environ))
    assert "shim.telemetry.spool" in names
    return names


@pytest.mark.parametrize("tap", [False, True], ids=["plain", "one-shot-json-tap"])
def test_recording_a_call_imports_nothing_heavy(tmp_path, tap):
    names = imported_modules(tmp_path, tap=tap)
    assert not {n for n in names if n in HEAVY or n.split(".")[0] in HEAVY}
    if tap:
        assert "_json" in names  # the C scanner, not json (which imports re and enum)


# adapters/* and routing/*: parse + identify + decide (with the classifier and a redirect)
# import nothing outside the hot-path budget, and no psutil/fnmatch without rules.
ALLOWED_STDLIB = {"os", "sys", "time", "marshal", "_signal", "zlib", "fcntl", "errno",
                  # what `import os` itself loads (python -S skips site, which normally does)
                  "os.path", "posixpath", "genericpath", "stat", "_stat", "_collections_abc"}
BANNED = {"re", "json", "fnmatch", "glob", "psutil", "yaml", "dataclasses", "typing", "enum",
          "signal", "subprocess", "pathlib", "argparse", "inspect", "logging", "datetime",
          "sqlite3", "bisect", "collections", "functools", "shlex"}

ROUTING_SCRIPT = r"""
import marshal, sys
before = set(sys.modules)
from shim import adapters, routing
from shim.routing import agents
cfg = marshal.load(open(sys.argv[1], "rb"))
for tool, args in [("claude", ["-p", "Design the architecture of a distributed cache"]),
                   ("codex", ["exec", "-m", "gpt-5.5", "--json", "fix src/app.py"]),
                   ("llm", ["hello"]), ("claude", ["mcp", "list"]), ("gemini", ["-p", "x"])]:
    request = adapters.parse(tool, args, cfg)
    agent, why = agents.identify(tool, cfg, {}, "/tmp")
    routing.decide(request, cfg, "auto")
    routing.decide(request, cfg, "redirect")
    adapters.match_failure(tool, "Error: 429", cfg)
print(" ".join(sorted(set(sys.modules) - before)))
"""


def test_adapters_and_routing_import_nothing_outside_the_budget(tmp_path):
    from tests.support.configs import GEMINI

    cfg = make_config({"tools": {"gemini": GEMINI},
                       "agents": {"redirect": {"tool": "codex", "cost_optimization": True}},
                       "policies": {"fallback": {"chains": {"claude": [{"tool": "llm"}]}}}})
    path = tmp_path / "cfg.marshal"
    path.write_bytes(marshal.dumps(cfg))
    proc = subprocess.run([sys.executable, "-E", "-s", "-S", "-c", ROUTING_SCRIPT, str(path)], cwd=REPO,
                          capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    loaded = set(proc.stdout.split())
    ours = {name for name in loaded if name == "shim" or name.startswith("shim.")}
    foreign = loaded - ours - ALLOWED_STDLIB
    assert not (foreign & BANNED), sorted(foreign & BANNED)
    assert not foreign, "unexpected imports on the hot path: %s" % sorted(foreign)
    assert {"shim.adapters.claude", "shim.adapters.codex", "shim.adapters.llm",
            "shim.adapters.generic", "shim.routing.classify"} <= ours
