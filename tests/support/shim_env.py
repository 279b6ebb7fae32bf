"""Real shims (launchers shaped like the installed ones) in front of fake CLIs that answer or
fail like the real ones, and a user config per test: the policy tests' world, also used by the
plan, security and watch tests. `shim_env` is registered for the whole tree by tests/conftest.py.

The autouse `isolated_env` of tests/conftest.py gives every test its own LLM_SHIM_HOME, so the
config, spool, database and cooldowns are private to the test.
"""

import json
import os
import sqlite3
import subprocess

import pytest
import yaml

from tests.support import fakes
from tests.support.launchers import write_launcher

# A model whose flat estimate (1000 output tokens) is exactly $0.10, like the fakes' cost.
TEN_CENTS_MODEL = {
    "provider": "anthropic", "tier": "standard",
    "prices": {"input": 0.0, "output": 100.0, "cache_read": 0.0, "cache_write": 0.0},
    "context_window": 200000, "aliases": ["dime"],
}


class ShimEnv:
    def __init__(self, tmp_path, fake_cli, shim_home):
        self.tmp = tmp_path
        self.fake_cli = fake_cli
        self.shim_home = shim_home
        self.shims = tmp_path / "shims"
        self.shims.mkdir(exist_ok=True)
        for name in ("claude", "codex", "llm", "llm-shim"):
            write_launcher(self.shims / name)

    def install(self, *names):
        for name in names:
            self.fake_cli(name, script=fakes.script(name, self.record(name)))

    def record(self, name):
        return self.tmp / f"{name}.argv.jsonl"

    def calls(self, name):
        path = self.record(name)
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    def config(self, data):
        self.shim_home.mkdir(parents=True, exist_ok=True)
        (self.shim_home / "config.yaml").write_text(yaml.safe_dump(data))

    def env(self, extra=None):
        env = dict(os.environ)
        env["PATH"] = os.pathsep.join(
            [str(self.shims), str(self.fake_cli.bin_dir), "/usr/bin", "/bin"])
        env.update(extra or {})
        return env

    def run(self, argv, env=None, timeout=60):
        return subprocess.run(argv, env=self.env(env), capture_output=True,
                              stdin=subprocess.DEVNULL, timeout=timeout)

    def popen(self, argv, env=None):
        return subprocess.Popen(argv, env=self.env(env), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)

    def attempts(self):
        """Every attempt row, after ingesting the spool, oldest first."""
        from shim.telemetry import ingest, store

        conn = store.connect()
        try:
            ingest.ingest(conn)
            conn.row_factory = sqlite3.Row
            return [dict(r) for r in conn.execute(
                "SELECT * FROM attempts ORDER BY started_at, attempt")]
        finally:
            conn.close()

    def db(self):
        from shim.telemetry import store

        return store.connect()


@pytest.fixture
def shim_env(tmp_path, fake_cli, isolated_env):
    return ShimEnv(tmp_path, fake_cli, isolated_env["shim_home"])
