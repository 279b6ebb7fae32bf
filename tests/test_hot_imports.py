"""The shim's hot path imports nothing heavy (checked with `python -X importtime`).

A warm call (config cache built by an earlier call) must not import yaml, tabulate, psutil,
argparse or importlib.metadata (the issue's list), nor the modules our own budget rules out:
signal/enum, re, json, subprocess, sqlite3, dataclasses, typing, pathlib, platformdirs.
"""

import os
import subprocess
import sys

import pytest

from tests.proxy.conftest import write_launcher

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


@pytest.mark.parametrize("args, agent", [
    (["--version"], None),
    ([], None),
    (["-p", "rename the variable x to count"], "auto"),
])
def test_warm_shim_call_imports_nothing_heavy(tmp_path, fake_cli, args, agent):
    fake_cli("claude")
    shims = tmp_path / "shims"
    shims.mkdir()
    launcher = write_launcher(shims / "claude")
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(shims), str(fake_cli.bin_dir), "/usr/bin", "/bin"])
    if agent:
        env["LLM_SHIM_AGENT"] = agent
    subprocess.run([str(launcher)] + args, env=env, capture_output=True, timeout=60)  # warm
    names = _imported(launcher, args, env)
    assert "shim.proxy" in names, "the call did not go through the proxy"
    heavy = {n for n in names if n in FORBIDDEN or n.split(".")[0] in FORBIDDEN}
    assert not heavy, f"hot path imported {sorted(heavy)}"
    over_budget = {n for n in names if n in OUR_BUDGET}
    assert not over_budget, f"hot path imported {sorted(over_budget)}"


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
    shims = tmp_path / "shims"
    shims.mkdir()
    launcher = write_launcher(shims / "claude")
    env = dict(os.environ)
    env.pop("LLM_SHIM_LEARN", None)
    env["PATH"] = os.pathsep.join([str(shims), str(fake_cli.bin_dir), "/usr/bin", "/bin"])
    env["LLM_SHIM_AGENT"] = "auto"
    args = ["-p", "rename x", "--brandnew", "v"]
    subprocess.run([str(launcher)] + args, env=env, capture_output=True, timeout=60)  # warm
    names = _imported(launcher, args, env)
    assert "shim.adapters.learned" in names
    assert not {n for n in names if n in FORBIDDEN or n.split(".")[0] in FORBIDDEN}
    assert not {n for n in names if n in OUR_BUDGET}, sorted(n for n in names if n in OUR_BUDGET)
    assert "shim.grammar.learn" not in names and "shim.detach" not in names
