"""Signals and terminals behave as if the shim were not there."""

import os
import pty
import select
import signal
import subprocess
import sys
import time

import pytest

SIGNAL_FAKE = r'''#!{python} -S
import os, signal, sys, time
got = []
def on(sig, frame):
    got.append(sig)
    os.write(1, ("got %d\n" % sig).encode())
for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1):
    signal.signal(s, on)
with open({pidfile!r}, "w") as fh:
    fh.write(str(os.getpid()))
os.write(1, ("ready tty=%s%s%s\n" % tuple(int(os.isatty(i)) for i in range(3))).encode())
deadline = time.time() + 20
first = None
while time.time() < deadline:
    time.sleep(0.05)
    if got and first is None:
        first = time.time()
    if first is not None and time.time() > first + 0.5:  # wait for a doubled signal
        break
sys.exit(100 + len(got))
'''


@pytest.fixture
def sig_claude(fake_cli, tmp_path):
    pidfile = tmp_path / "child.pid"
    fake = fake_cli("claude", script=SIGNAL_FAKE.format(python=sys.executable,
                                                         pidfile=str(pidfile)))
    fake.pidfile = pidfile
    return fake


def _env(shims, fake_cli):
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(shims), str(fake_cli.bin_dir), "/usr/bin", "/bin"])
    env["LLM_SHIM_DISABLE"] = "0"
    return env


def _read_until(fd, marker, timeout=20):
    buf = b""
    end = time.time() + timeout
    while marker not in buf and time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
    return buf


def _drain(fd, timeout=3):
    return _read_until(fd, b"\0never\0", timeout)


def test_tty_stays_a_tty_and_ctrl_c_is_delivered_once(shims, fake_cli, sig_claude):
    env = _env(shims, fake_cli)
    pid, master = pty.fork()
    if pid == 0:
        os.execvpe("claude", ["claude"], env)
    out = _read_until(master, b"ready")
    assert b"ready tty=111" in out, out
    os.write(master, b"\x03")  # Ctrl-C: the terminal signals the whole foreground group
    out += _drain(master)
    _, status = os.waitpid(pid, 0)
    # The fake exits 100 + number of signals it received: exactly one SIGINT.
    assert out.count(b"got 2") == 1, out
    assert os.waitstatus_to_exitcode(status) == 101, out


def test_sigint_sent_to_the_shim_alone_is_forwarded(shims, fake_cli, sig_claude):
    proc = subprocess.Popen(["claude"], env=_env(shims, fake_cli), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert b"ready" in proc.stdout.readline()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 101, (out, err)
    assert out.count(b"got 2") == 1


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1])
def test_signals_to_the_shim_are_forwarded(shims, fake_cli, sig_claude, signum):
    proc = subprocess.Popen(["claude"], env=_env(shims, fake_cli), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert b"ready" in proc.stdout.readline()
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=20)
    assert f"got {int(signum)}".encode() in out, (out, err)
    assert proc.returncode == 101


def test_killing_the_shim_with_sigterm_leaves_no_orphan(shims, fake_cli, tmp_path):
    pidfile = tmp_path / "sleeper.pid"
    fake_cli("claude", script=f"#!/bin/sh\necho $$ > {pidfile}\necho ready\nexec sleep 30\n")
    proc = subprocess.Popen(["claude"], env=_env(shims, fake_cli), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert b"ready" in proc.stdout.readline()
    child = int(pidfile.read_text())
    proc.terminate()
    proc.communicate(timeout=20)
    assert proc.returncode == 128 + signal.SIGTERM
    for _ in range(50):
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"child {child} outlived the shim")


@pytest.mark.skipif(not os.access("/usr/bin/setpriv", os.X_OK) or os.uname().sysname != "Linux",
                    reason="the parent-death signal needs Linux and util-linux's setpriv")
def test_sigkill_of_the_shim_stops_the_child_too(shims, fake_cli, tmp_path):
    """`subprocess.run(["claude", ...], timeout=...)` kills with SIGKILL on a timeout, which no
    process can catch: the kernel's parent-death signal (setpriv --pdeathsig) stops the real
    tool instead of leaving it running, and spending, re-parented to init."""
    pidfile = tmp_path / "sleeper.pid"
    fake_cli("claude", script=f"#!/bin/sh\necho $$ > {pidfile}\necho ready\nexec sleep 30\n")
    proc = subprocess.Popen(["claude"], env=_env(shims, fake_cli), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert b"ready" in proc.stdout.readline()
    child = int(pidfile.read_text())
    try:
        proc.kill()
        proc.wait(timeout=20)  # not communicate(): an orphan would hold the pipes open
        assert proc.returncode == -signal.SIGKILL
        assert _gone_within(child, 10), f"child {child} outlived the shim's SIGKILL"
    finally:
        proc.stdout.close()
        proc.stderr.close()
        try:
            os.kill(child, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _gone_within(pid, seconds):
    """True once `pid` has exited (a zombie of init counts as gone: /proc says so)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                if fh.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False
