"""The shim on a system without util-linux's setpriv (macOS, minimal images), played here by
pointing `shim.runner.SETPRIV` at nothing: what docs/troubleshooting.md promises then.

- SIGTERM (and the other catchable signals) still reach the real tool: `kill <shim>` stops both.
- SIGKILL of the shim leaves the real tool running, re-parented: no process can forward it.
- Killing the process group, the documented way out, stops both.
"""

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.support.launchers import LAUNCHER, REPO, SITE

NO_SETPRIV_LAUNCHER = LAUNCHER.replace(
    "from shim.entry import main\n",
    "import shim.runner\nshim.runner.SETPRIV = '/nonexistent/setpriv'\n"
    "from shim.entry import main\n")


@pytest.fixture
def claude_without_setpriv(tmp_path, fake_cli):
    """A claude shim that cannot find setpriv, and a real claude that sleeps; returns
    start() -> (shim process, real tool's pid)."""
    shims = tmp_path / "shims-no-setpriv"
    shims.mkdir()
    shim = shims / "claude"
    assert "shim.runner.SETPRIV" in NO_SETPRIV_LAUNCHER
    shim.write_text(NO_SETPRIV_LAUNCHER.format(python=os.path.realpath(sys.executable),
                                               paths=[REPO] + SITE))
    shim.chmod(0o755)
    pidfile = tmp_path / "real.pid"
    fake_cli("claude", script=f"#!/bin/sh\necho $$ > {pidfile}\necho ready\nexec sleep 30\n")
    env = dict(os.environ, PATH=os.pathsep.join([str(shims), str(fake_cli.bin_dir),
                                                 "/usr/bin", "/bin"]))
    started = []

    def start():
        proc = subprocess.Popen([str(shim)], env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True)  # its own process group
        started.append(proc)
        assert b"ready" in proc.stdout.readline()
        return proc, int(pidfile.read_text())

    yield start
    for proc in started:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.stdout.close()
        proc.stderr.close()


def _running(pid):
    """True while `pid` exists and is not a zombie (/proc on Linux, ps elsewhere)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    if os.path.exists(f"/proc/{pid}/stat"):
        try:
            with open(f"/proc/{pid}/stat") as fh:
                return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
        except FileNotFoundError:
            return False
    out = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True)
    return bool(out.stdout.strip()) and not out.stdout.strip().startswith("Z")


def _gone_within(pid, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _running(pid):
            return True
        time.sleep(0.05)
    return False


def test_sigterm_still_stops_the_real_tool(claude_without_setpriv):
    proc, child = claude_without_setpriv()
    proc.terminate()
    proc.wait(timeout=20)
    assert proc.returncode == 128 + signal.SIGTERM
    assert _gone_within(child, 10)


def test_sigkill_leaves_the_real_tool_running_until_its_group_is_killed(
        claude_without_setpriv):
    proc, child = claude_without_setpriv()
    proc.kill()
    proc.wait(timeout=20)
    assert proc.returncode == -signal.SIGKILL
    time.sleep(1.0)
    assert _running(child), "without setpriv the real tool outlives a SIGKILLed shim"
    os.killpg(proc.pid, signal.SIGKILL)  # docs: kill -9 -<pgid>
    assert _gone_within(child, 10)
