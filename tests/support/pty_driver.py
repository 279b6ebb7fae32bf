"""Drive a real interactive TUI (Claude Code) under a pseudo-terminal, hermetically.

The shim must keep a TTY a TTY: an interactive `claude` behind it has to render its TUI and
answer. `interactive_claude()` is that scenario in one call, for the real binary today and for
our shim tomorrow (pass the shim's path and its dir in `path_prefix`). A pty pair, pty-style
fork (new session, controlling terminal) via `pty.fork`, and pyte, a VT100 emulator, to render
what the TUI drew: Ink redraws by moving the cursor and rewriting only the cells that changed
(a spinner's text under the answer), so stripping escape sequences alone can garble a line
("H ll  from stub."); `expect` looks at the rendered screen, and at the stripped stream for
text that has scrolled away.
"""

import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import termios
import time
from pathlib import Path

import pyte

# Ink moves the cursor instead of printing spaces: CSI n C (forward n) becomes n spaces and
# CSI n G (to column n) one space, so words stay apart; every other escape sequence is dropped.
_CURSOR_FORWARD = re.compile(rb"\x1b\[(\d*)C")
_TO_COLUMN = re.compile(rb"\x1b\[\d*G")
_ESCAPES = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()][A-Za-z0-9]|\x1b[=>78cDEHM]")


def screen_text(raw):
    """The printable text of a terminal byte stream, escape sequences removed."""
    raw = _CURSOR_FORWARD.sub(lambda m: b" " * int(m.group(1) or 1), raw)
    raw = _TO_COLUMN.sub(b" ", raw)
    return _ESCAPES.sub(b"", raw).replace(b"\r", b"").decode("utf-8", errors="replace")


def seed_claude_onboarding(config_dir, api_key, cwd):
    """Mark onboarding done, the API key approved and `cwd` trusted (REAL_CLIS.md section 4).

    Without it the TUI starts onboarding, which needs api.anthropic.com.
    """
    path = Path(config_dir) / ".claude.json"
    state = json.loads(path.read_text()) if path.exists() else {}
    state["hasCompletedOnboarding"] = True
    state.setdefault("theme", "dark")
    state["customApiKeyResponses"] = {"approved": [api_key[-20:]], "rejected": []}
    state.setdefault("projects", {})[str(cwd)] = {"hasTrustDialogAccepted": True}
    path.write_text(json.dumps(state))
    return path


class PtySession:
    """One child process on a pty: send() keystrokes, expect() text, close() it."""

    def __init__(self, argv, env, cwd, rows=40, cols=120):
        self.raw = bytearray()
        self.returncode = None
        self._terminal = pyte.Screen(cols, rows)
        self._stream = pyte.ByteStream(self._terminal)
        pid, fd = pty.fork()
        if pid == 0:  # child: pty.fork already made the pty our controlling terminal
            try:
                os.chdir(cwd)
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def _pump(self, timeout):
        """Read what the child printed within `timeout` seconds; False once it is gone."""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            return False
        self.raw.extend(data)
        self._stream.feed(data)
        return bool(data)

    def screen(self):
        """What the terminal shows now (rendered), then the whole stream's text (stripped)."""
        return "\n".join(self._terminal.display) + "\n" + screen_text(bytes(self.raw))

    def expect(self, text, timeout):
        """Wait until `text` appears on the screen; True if it did."""
        deadline = time.monotonic() + timeout
        while text not in self.screen():
            left = deadline - time.monotonic()
            if left <= 0 or not self._pump(min(left, 0.2)):
                return text in self.screen()
        return True

    def settle(self, quiet=0.5, timeout=10):
        """Wait until the child has printed nothing for `quiet` seconds (the TUI is idle)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            before = len(self.raw)
            if not self._pump(quiet) or len(self.raw) == before:
                return

    def send(self, data, pause=0.0):
        os.write(self.fd, data.encode() if isinstance(data, str) else data)
        if pause:
            self.settle(quiet=pause, timeout=pause * 4)

    def wait(self, timeout):
        """Wait for the exit; returns the exit code (128+n for signal n) or None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
                if self.returncode < 0:
                    self.returncode = 128 - self.returncode
                return self.returncode
            self._pump(0.1)
        return None

    def close(self):
        if self.returncode is None:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(self.pid, sig)
                except ProcessLookupError:
                    break
                if self.wait(2) is not None:
                    break
        os.close(self.fd)


class InteractiveResult:
    """What happened: did the answer appear, how did it exit, and the screen text."""

    def __init__(self, answered, returncode, screen, raw):
        self.answered, self.returncode, self.screen, self.raw = answered, returncode, screen, raw

    def __repr__(self):
        return (f"InteractiveResult(answered={self.answered}, returncode={self.returncode}, "
                f"screen=...{self.screen[-2000:]!r})")


def interactive_claude(run_env, binary_path, prompt="Say hi", expect="Hello from stub.",
                       args=(), extra_env=None, path_prefix=(), timeout=60, ready="shortcuts"):
    """Start `binary_path` (the real claude or our shim) interactively under a pty, inside the
    stub's network namespace with the hermetic env; wait for the input box (`ready` on screen,
    the "? for shortcuts" hint), type `prompt`, wait for `expect` on the screen, then /exit.
    Returns an InteractiveResult (answered=True when `expect` appeared)."""
    env = run_env.env(dict({"TERM": "xterm-256color"}, **(extra_env or {})), path_prefix)
    seed_claude_onboarding(env["CLAUDE_CONFIG_DIR"], env["ANTHROPIC_API_KEY"], run_env.work_dir)
    argv = run_env.command([str(binary_path), *args])
    session = PtySession(argv, env, str(run_env.work_dir))
    try:
        session.expect(ready, min(30, timeout))
        session.settle(quiet=0.5, timeout=5)
        session.send(prompt, pause=0.3)  # a pause before Enter, or it may read as a paste
        session.expect(prompt, 10)        # on a loaded machine the box may echo it late
        session.settle(quiet=0.3, timeout=3)
        session.send("\r")
        answered = session.expect(expect, min(15, timeout))
        if not answered:  # the Enter was taken before the box was ready: press it once more
            session.send("\r")
            answered = session.expect(expect, timeout)
        session.settle(quiet=0.3, timeout=3)
        session.send("/exit", pause=0.3)
        session.send("\r")
        session.wait(10)
    finally:
        session.close()
    return InteractiveResult(answered, session.returncode, session.screen(), bytes(session.raw))
