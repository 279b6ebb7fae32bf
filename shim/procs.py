"""Is a process still the one we saw? The host name, liveness and start time of a pid: what
reservations (shim.policy.state) and start lines (shim.telemetry.starts) use to tell a shim
that died from one still running. Standard library only."""

import os


def host():
    try:
        return os.uname().nodename
    except (AttributeError, OSError):
        return None


def pid_alive(pid, started=None):
    """True when `pid` runs and, where /proc tells, is the process that started at `started`
    (a reused pid is not the shim that made the reservation)."""
    if not pid:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    except (OSError, ValueError, OverflowError):
        return False
    if started is not None:
        now_started = process_start(pid)
        if now_started is not None and now_started != started:
            return False
    return True


def process_start(pid):
    """The start time of `pid` in clock ticks since boot (Linux /proc), or None."""
    try:
        with open(f"/proc/{int(pid)}/stat", "rb") as fh:
            data = fh.read()
        return int(data[data.rindex(b")") + 2:].split()[19])
    except (OSError, ValueError, IndexError):
        return None
