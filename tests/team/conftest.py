"""A real PostgreSQL server for the team tests, and simulated team members.

The server is started once per session from the Debian packages' binaries (`initdb`/`pg_ctl`
on PATH or under /usr/lib/postgresql/<version>/bin; install/test-deps.sh installs them), in a
temporary data directory, listening on 127.0.0.1 at a free port with its unix socket in that
directory. As root it runs as the `postgres` user (PostgreSQL refuses to run as root). When
no binaries are found or the server cannot start, every team test skips with the reason.

Each test gets a fresh database. A `Member` is one simulated machine: its own LLM_SHIM_HOME
(config, spool, SQLite store, machine id) and HOME, sharing the shims and fake CLIs.
"""

import json
import os
import sqlite3
import subprocess
import time

import pytest
import yaml

from tests.support import fakes
from tests.support.launchers import write_launcher
from tests.support.postgres import DIME_CALL, DIME_MODEL, Server, pg_bin  # noqa: F401

psycopg = pytest.importorskip("psycopg", reason="psycopg 3 (the [team] extra) is not installed")


@pytest.fixture(scope="session")
def pg_server():
    bindir = pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found; "
                    "install/test-deps.sh installs them (apt-get install postgresql)")
    try:
        server = Server(bindir)
        server.init()
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"could not start PostgreSQL: {exc}")
    yield server
    server.destroy()


@pytest.fixture
def pg_db(pg_server):
    """A fresh database; the server is started again if a test left it stopped."""
    if not pg_server.running():
        pg_server.start()
    name = pg_server.create_database()
    yield pg_server.dsn(name)
    if not pg_server.running():
        pg_server.start()


@pytest.fixture
def pg(pg_db):
    with psycopg.connect(pg_db, autocommit=True) as conn:
        yield conn


class Member:
    """One simulated team member's machine."""

    def __init__(self, root, name, shims, fake_bin, dsn, team="core", extra=None):
        self.name = name
        self.root = root / name
        self.home = self.root / "shim-home"
        self.user_home = self.root / "home"
        for d in (self.home, self.user_home):
            d.mkdir(parents=True, exist_ok=True)
        self.shims = shims
        self.fake_bin = fake_bin
        self.record = self.root / "claude.argv.jsonl"
        self.cfg = {"team": {"dsn": dsn, "name": team}, "models": {"dime-model": DIME_MODEL}}
        for key, value in (extra or {}).items():
            self.cfg[key] = value
        self.write_config()

    def write_config(self):
        (self.home / "config.yaml").write_text(yaml.safe_dump(self.cfg))

    def env(self, extra=None):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LLM_SHIM_", "FAKE_"))}
        env.update(LLM_SHIM_HOME=str(self.home), HOME=str(self.user_home),
                   PATH=os.pathsep.join([str(self.shims), str(self.fake_bin), "/usr/bin",
                                         "/bin"]),
                   FAKE_CLAUDE_RECORD=str(self.record))
        env.update(extra or {})
        return env

    def popen(self, argv, env=None):
        return subprocess.Popen(argv, env=self.env(env), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                cwd=str(self.root))

    def run(self, argv, env=None, timeout=60):
        return subprocess.run(argv, env=self.env(env), capture_output=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, cwd=str(self.root))

    def cli(self, *args, env=None, check=True):
        proc = self.run(["llm-shim", *args], env=env)
        if check and proc.returncode != 0:
            raise AssertionError(f"llm-shim {' '.join(args)} exited {proc.returncode}: "
                                 f"{proc.stderr.decode()}")
        return proc

    def cli_json(self, *args, env=None):
        return json.loads(self.cli(*args, env=env).stdout)

    def db(self):
        return sqlite3.connect(str(self.home / "telemetry.db"))

    def local_rows(self, table="attempts"):
        conn = self.db()
        try:
            return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        finally:
            conn.close()

    def use(self, monkeypatch):
        """Point this test process at the member (for in-process calls)."""
        monkeypatch.setenv("LLM_SHIM_HOME", str(self.home))
        monkeypatch.setenv("HOME", str(self.user_home))


@pytest.fixture
def team(tmp_path, pg_db):
    """Factory: team(3) -> three Members of team 'core' on the test's database."""
    shims = tmp_path / "shims"
    fake_bin = tmp_path / "fake-bin"
    for d in (shims, fake_bin):
        d.mkdir(exist_ok=True)
    for name in ("claude", "llm-shim"):
        write_launcher(shims / name)
    fake = fake_bin / "claude"
    fake.write_text(fakes.script("claude", tmp_path / "claude.argv.jsonl"))
    fake.chmod(0o755)

    def make(count, team_name="core", extra=None):
        return [Member(tmp_path, f"m{i}", shims, fake_bin, pg_db, team_name, extra)
                for i in range(1, count + 1)]

    make.dsn = pg_db
    return make


def wait_for(predicate, timeout=20.0, step=0.05):
    """Poll until predicate() is truthy (background syncs are detached processes)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)
