"""A real PostgreSQL server for the team tests, and simulated team members.

The server is started once per session from the Debian packages' binaries (`initdb`/`pg_ctl`
on PATH or under /usr/lib/postgresql/<version>/bin; install/test-deps.sh installs them), in a
temporary data directory, listening on 127.0.0.1 at a free port with its unix socket in that
directory. As root it runs as the `postgres` user (PostgreSQL refuses to run as root). When
no binaries are found or the server cannot start, every team test skips with the reason.

Each test gets a fresh database. A `Member` is one simulated machine: its own LLM_SHIM_HOME
(config, spool, SQLite store, machine id) and HOME, sharing the shims and fake CLIs.
"""

import glob
import json
import os
import pwd
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
import uuid

import pytest
import yaml

from tests.support import fakes
from tests.support.launchers import write_launcher

psycopg = pytest.importorskip("psycopg", reason="psycopg 3 (the [team] extra) is not installed")

# A model whose flat estimate (1000 output tokens) is exactly $0.10, like the fakes' cost.
DIME_MODEL = {
    "provider": "anthropic", "tier": "standard",
    "prices": {"input": 0.0, "output": 100.0, "cache_read": 0.0, "cache_write": 0.0},
    "context_window": 200000, "aliases": [],
}
DIME_CALL = ["claude", "-p", "hi", "--model", "dime-model", "--output-format", "json"]


def _pg_bin():
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return os.path.dirname(os.path.realpath(found))
    # Debian's, then Homebrew's keg-only versioned formulae (install/test-deps.sh on macOS).
    for candidate in (sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
                      + sorted(glob.glob("/opt/homebrew/opt/postgresql@*/bin"), reverse=True)
                      + sorted(glob.glob("/usr/local/opt/postgresql@*/bin"), reverse=True)):
        if os.path.exists(os.path.join(candidate, "pg_ctl")):
            return candidate
    return None


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One PostgreSQL cluster in a temp dir; `stop()`/`start()` for the offline tests."""

    def __init__(self, bindir):
        self.bindir = bindir
        self.port = _free_port()
        self.dir = tempfile.mkdtemp(prefix="llm-shim-pg-")
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "server.log")
        self.user = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError("running as root and there is no postgres user to run the "
                                   "server as") from None
            self.user = "postgres"
            shutil.chown(self.dir, "postgres", "postgres")
        os.chmod(self.dir, 0o700)

    def _run(self, *argv, check=True, timeout=60):
        cmd = [os.path.join(self.bindir, argv[0]), *argv[1:]]
        if self.user:
            runuser = shutil.which("runuser") or "/usr/sbin/runuser"
            cmd = [runuser, "-u", self.user, "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              cwd=self.dir)
        if check and proc.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[:2])} failed: {proc.stderr.strip()[-800:]}")
        return proc

    def init(self):
        self._run("initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--no-sync", "--locale=C")
        self.start()

    def start(self):
        opts = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100")
        self._run("pg_ctl", "-D", self.data, "-o", opts, "-l", self.log, "-w", "-t", "30",
                  "start")

    def stop(self):
        self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop", check=False)

    def running(self):
        return self._run("pg_ctl", "-D", self.data, "status", check=False).returncode == 0

    def dsn(self, dbname="postgres"):
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def create_database(self):
        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return name

    def destroy(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server():
    bindir = _pg_bin()
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
