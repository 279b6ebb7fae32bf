"""What this platform cannot do for llm-shim, and Windows binaries seen through WSL2 interop.

The Linux-only parts of llm-shim and their fallbacks (docs/install.md "Platforms"):

- the parent-death signal: `shim.runner` starts the real tool through util-linux's
  `setpriv --pdeathsig TERM`, so a shim killed with SIGKILL takes it along. Without it (macOS,
  images without util-linux) the catchable signals are still forwarded, and SIGKILL leaves the
  real tool running (the budget keeps counting its estimate, `shim.policy.state.expire`);
- a pid's start time (`/proc/<pid>/stat`, `shim.policy.state.process_start`), which tells a
  reused pid from the shim that made a budget reservation. Without it a reservation of a
  killed shim is held while its pid is in use, at most `IN_FLIGHT_TTL`.

Everything else (flock, posix_spawn, the paths) works the same on macOS.
"""

import os
import re

from shim import runner

# Where WSL mounts the Windows drives: /mnt/c/..., one letter.
_WINDOWS_DRIVE = re.compile(r"^/mnt/[A-Za-z](/|$)")


def system():
    """`uname -s`: Linux, Darwin, ... (one place, so tests can play another system)."""
    return os.uname().sysname


def parent_death_guard(sysname=None):
    """True when a shim killed with SIGKILL also stops the real tool (Linux with setpriv)."""
    sysname = sysname or system()
    return sysname == "Linux" and os.access(runner.SETPRIV, os.X_OK)


def pid_start_times(pid=None):
    """True when /proc tells when a process started (Linux)."""
    return os.path.exists(f"/proc/{pid or os.getpid()}/stat")


def is_wsl(environ, osrelease="/proc/sys/kernel/osrelease"):
    """True under WSL (1 or 2): its kernel release names Microsoft; WSL sets WSL_DISTRO_NAME."""
    if environ.get("WSL_DISTRO_NAME"):
        return True
    try:
        with open(osrelease, encoding="utf-8", errors="replace") as fh:
            return "microsoft" in fh.read().lower()
    except OSError:
        return False


def windows_binary(path):
    """True when `path` is a Windows program reached through WSL interop: on a Windows drive
    (/mnt/c/...), or a PE file (`MZ`) named *.exe. npm's Linux claude is an ELF named
    claude.exe, so the name alone does not count."""
    real = os.path.realpath(path)
    if _WINDOWS_DRIVE.match(path) or _WINDOWS_DRIVE.match(real):
        return True
    if not real.lower().endswith(".exe"):
        return False
    try:
        with open(real, "rb") as fh:
            return fh.read(2) == b"MZ"
    except OSError:
        return False


def limits(sysname=None, guard=None, proc=None):
    """(ok, [what this platform lacks, in words]): ok is False only where a fix exists (Linux
    without setpriv); macOS's limits are the platform's, not a fault."""
    sysname = sysname or system()
    guard = parent_death_guard(sysname) if guard is None else guard
    proc = pid_start_times() if proc is None else proc
    lacks = []
    if not guard:
        lacks.append("kill -9 of a shim leaves the real tool running (no parent-death "
                     "signal; other signals are forwarded)")
    if not proc:
        lacks.append("no /proc: a budget reservation of a shim killed with SIGKILL is held "
                     "while its pid is reused, at most 24 h")
    return not (sysname == "Linux" and not guard), lacks
