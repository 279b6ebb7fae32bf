"""A real PostgreSQL server started from the distribution's binaries, for the team tests and
the team sync benchmark (tests/team/conftest.py describes how and when it skips), and the
$0.10 call both use.
"""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid

# A model whose flat estimate (1000 output tokens) is exactly $0.10, like the fakes' cost.
DIME_MODEL = {
    "provider": "anthropic", "tier": "standard",
    "prices": {"input": 0.0, "output": 100.0, "cache_read": 0.0, "cache_write": 0.0},
    "context_window": 200000, "aliases": [],
}
DIME_CALL = ["claude", "-p", "hi", "--model", "dime-model", "--output-format", "json"]


def pg_bin():
    """The directory of initdb and pg_ctl, or None."""
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
        import psycopg  # the [team] extra: only the team tests and benchmark get here

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return name

    def destroy(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
