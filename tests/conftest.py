"""Test isolation: every test gets its own HOME, LLM_SHIM_HOME and a PATH it controls.

Like pyenv's test_helper and llm's autouse fixture, nothing a test does can touch the developer's
real configuration, telemetry or tools.
"""

import json
import os
import stat
import sys
import textwrap

import pytest

# Fixtures more than one test folder uses, defined once in tests/support and registered here for
# the whole tree (a test folder never imports another folder's conftest or test module;
# tests/test_tree.py checks).
pytest_plugins = [
    "tests.support.install",     # cli, prebuilt_lib, snapshot, require_shell, run_shell, zipapp
    "tests.support.launchers",   # shims, run_shim
    "tests.support.shim_env",    # shim_env
]

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Environment variables that would leak the developer's setup into a test.
_LEAKY_PREFIXES = ("LLM_SHIM_", "ANTHROPIC_", "OPENAI_", "CLAUDE_", "CODEX_", "LLM_", "XDG_")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """A private HOME and LLM_SHIM_HOME; the leaky variables removed."""
    for name in list(os.environ):
        if name.startswith(_LEAKY_PREFIXES):
            monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    shim_home = tmp_path / "shim-home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("LLM_SHIM_HOME", str(shim_home))
    # Fake CLIs record every run: no background grammar relearn running them with --help
    # (tests/adapters/test_learned.py turns it back on where it is the subject).
    monkeypatch.setenv("LLM_SHIM_LEARN", "0")
    monkeypatch.chdir(tmp_path)
    return {"home": home, "shim_home": shim_home, "tmp": tmp_path}


FAKE_CLI = r'''#!{python} -S
"""A fake {name}: records argv, env and isatty of fds 0-2 as JSON, then exits as told."""
import json, os, sys
out = os.environ.get("FAKE_RECORD") or {record!r}
rec = {{
    "name": {name!r},
    "argv": [os.fsencode(a).hex() for a in sys.argv[1:]],
    "argv_text": sys.argv[1:],
    "env": dict(os.environ),
    "isatty": [os.isatty(0), os.isatty(1), os.isatty(2)],
    "cwd": os.getcwd(),
}}
if os.environ.get("FAKE_READ_STDIN") == "1":
    data = sys.stdin.buffer.read()
    rec["stdin_len"] = len(data)
    import hashlib
    rec["stdin_sha256"] = hashlib.sha256(data).hexdigest()
with open(out, "a") as fh:
    fh.write(json.dumps(rec) + "\n")
sys.stdout.write(os.environ.get("FAKE_STDOUT", ""))
sys.stderr.write(os.environ.get("FAKE_STDERR", ""))
sys.stdout.flush(); sys.stderr.flush()
sig = os.environ.get("FAKE_KILL_SELF")
if sig:
    os.kill(os.getpid(), int(sig))
sleep = os.environ.get("FAKE_SLEEP")
if sleep:
    import time
    time.sleep(float(sleep))
sys.exit(int(os.environ.get("FAKE_EXIT", "0")))
'''


@pytest.fixture
def fake_cli(tmp_path):
    """Factory: fake_cli("claude") writes an executable fake into tmp/fake-bin; returns a handle.

    The handle's `.calls()` returns every recorded call (argv decoded from hex, so non-UTF-8
    bytes survive).
    """
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir(exist_ok=True)

    class Fake:
        def __init__(self, name, record):
            self.name = name
            self.path = bin_dir / name
            self.record = record

        def calls(self):
            if not self.record.exists():
                return []
            calls = []
            for line in self.record.read_text().splitlines():
                rec = json.loads(line)
                rec["argv_bytes"] = [bytes.fromhex(a) for a in rec["argv"]]
                calls.append(rec)
            return calls

    def make(name, script=None):
        record = tmp_path / f"{name}.calls.jsonl"
        path = bin_dir / name
        body = script if script is not None else FAKE_CLI.format(
            python=sys.executable, name=name, record=str(record))
        path.write_text(textwrap.dedent(body) if script else body)
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        return Fake(name, record)

    make.bin_dir = bin_dir
    return make


@pytest.fixture
def trust_project():
    """trust_project(path) -> path: `llm-shim trust` a project .llm-shim.yaml (a file or its
    directory), as a user would before it applies (docs/security.md)."""
    from shim.config import trust

    def do(path):
        path = str(path)
        if os.path.isdir(path):
            path = os.path.join(path, ".llm-shim.yaml")
        trust.trust(path)
        return path

    return do
