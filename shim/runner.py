"""Run the real binary as a child and wait for it, as if the shim were not there.

Spawn-and-wait rather than exec, because telemetry needs the exit code and the duration. The
signal rules follow uv's `run_to_completion`:

- SIGINT: when stdin is a terminal, the terminal already delivered Ctrl-C to the whole
  foreground process group, child included; the shim ignores it so it is not doubled.
  Otherwise (e.g. `kill -INT <shim>`) it is forwarded.
- SIGTERM, SIGHUP, SIGQUIT, SIGWINCH, SIGUSR1, SIGUSR2 are forwarded, so `kill <shim>` does
  not leave the child running. SIGKILL cannot be caught, and it is what `subprocess.run(...,
  timeout=)` and most supervisors send on a timeout: on Linux the child is started through
  util-linux's `setpriv --pdeathsig TERM`, which sets PR_SET_PDEATHSIG and execs the real
  binary in the same process, so the kernel sends it SIGTERM when the shim dies, however it
  dies (~1 ms per call; posix_spawn runs no code between fork and exec, and ctypes costs more).
  Without setpriv (macOS) `kill -9 <shim>` leaves the child running (docs/internals.md).
- A child killed by signal N gives 128+N.

`_signal` rather than `signal`: the latter imports `enum` (~8 ms), too much for every call.
stdin, stdout and stderr are inherited unless a tap is asked for (one-shot JSON usage, or
holding a one-shot answer back while a fallback is still possible), so a TTY stays a TTY.
"""

import os
import time

import _signal

FORWARDED = ("SIGTERM", "SIGHUP", "SIGQUIT", "SIGWINCH", "SIGUSR1", "SIGUSR2")
# Python ignores these at start-up; like subprocess's restore_signals, the child gets defaults.
_RESTORED = ("SIGPIPE", "SIGXFSZ", "SIGXFZ")

_child = {"pid": None, "pending": []}


def _forward(signum, frame):
    pid = _child["pid"]
    if pid is None:
        _child["pending"].append(signum)
        return
    try:
        os.kill(pid, signum)
    except OSError:
        pass


def _install_handlers(forward_sigint):
    previous = {}
    names = FORWARDED + (("SIGINT",) if forward_sigint else ())
    for name in names:
        signum = getattr(_signal, name, None)
        if signum is None:
            continue
        current = _signal.getsignal(signum)
        if current == _signal.SIG_IGN and name != "SIGINT":
            continue  # inherited as ignored: leave it so (the child inherits that too)
        previous[signum] = _signal.signal(signum, _forward)
    if not forward_sigint and _signal.getsignal(_signal.SIGINT) != _signal.SIG_IGN:
        previous[_signal.SIGINT] = _signal.signal(_signal.SIGINT, _signal.SIG_IGN)
    return previous


def _restore_handlers(previous):
    for signum, handler in previous.items():
        try:
            _signal.signal(signum, handler if handler is not None else _signal.SIG_DFL)
        except (OSError, ValueError, TypeError):
            pass


def _sigdef(previous):
    """Signals the child must start with at their default disposition."""
    result = [getattr(_signal, n) for n in _RESTORED if hasattr(_signal, n)]
    if _signal.SIGINT in previous:
        result.append(_signal.SIGINT)
    return result


def exit_code_of(status):
    """A wait status as the shell would report it: the exit code, or 128+N for signal N."""
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


# util-linux's setpriv: sets the parent-death signal, then execs its argument in place.
SETPRIV = "/usr/bin/setpriv"
# "1": run nothing, on any path; print what would run (proxy.main, the policy gate: docs/internals.md).
DRY_RUN_ENV = "LLM_SHIM_DRY_RUN"
_guard = {"setpriv": None}


def _orphan_guard(path):
    """The argv prefix that has the kernel TERM the child when the shim dies, or ()."""
    if _guard["setpriv"] is None:
        _guard["setpriv"] = _is_linux() and os.access(SETPRIV, os.X_OK)
    if not _guard["setpriv"]:
        return ()
    try:  # setpriv execs with execvp semantics: a script without "#!" is left to _spawn's sh
        with open(path, "rb") as fh:
            magic = fh.read(4)
    except OSError:
        return ()
    if not (magic.startswith(b"#!") or magic == b"\x7fELF"):
        return ()
    return (SETPRIV, "--pdeathsig", "TERM", "--")


def _is_linux():
    return os.uname().sysname == "Linux"


def _spawn(path, argv, env, file_actions, sigdef):
    guard = _orphan_guard(path)
    if guard:
        return os.posix_spawn(guard[0], list(guard) + [path] + list(argv[1:]), env,
                              file_actions=file_actions, setsigdef=sigdef)
    try:
        return os.posix_spawn(path, argv, env, file_actions=file_actions, setsigdef=sigdef)
    except OSError as exc:
        # A script without a shebang: run it with sh, as execvp and the shells do.
        if exc.errno == 8:  # ENOEXEC
            return os.posix_spawn("/bin/sh", ["sh", path] + list(argv[1:]), env,
                                  file_actions=file_actions, setsigdef=sigdef)
        raise


# After the deadline: SIGTERM, then SIGKILL if the child is still there this much later.
KILL_GRACE_SECONDS = 3.0


def run(path, argv, env, *, tap=None, hold_stdout=False, keep_stderr=0, deadline=None):
    """Run `path` with `argv` (argv[0] included) and `env`; return the outcome dict.

    tap: an object with feed(bytes) that sees stdout as it passes (one-shot JSON usage).
    hold_stdout: keep stdout back instead of writing it (a fallback may still replace it).
    keep_stderr: pass stderr through live but keep its last N bytes (failure classification).
    deadline: a time.monotonic() value (a fallback chain's total deadline; needs a tap, held
    stdout or keep_stderr): past it the child gets SIGTERM, then SIGKILL, and the outcome says
    `timed_out`.
    """
    forward_sigint = not os.isatty(0)
    previous = _install_handlers(forward_sigint)
    out_r = err_r = None
    actions = []
    if tap is not None or hold_stdout:
        out_r, out_w = os.pipe()
        actions += [(os.POSIX_SPAWN_DUP2, out_w, 1)]
    if keep_stderr:
        err_r, err_w = os.pipe()
        actions += [(os.POSIX_SPAWN_DUP2, err_w, 2)]
    started = time.time()
    try:
        try:
            pid = _spawn(path, argv, env, actions or None, _sigdef(previous))
        finally:
            if out_r is not None:
                os.close(out_w)
            if err_r is not None:
                os.close(err_w)
        _child["pid"] = pid
        for signum in _child["pending"]:
            _forward(signum, None)
        _child["pending"] = []
        held = stderr_tail = status = None
        timer = {"deadline": deadline, "killed_at": None}
        if out_r is not None or err_r is not None:
            held, stderr_tail, status = _pump(pid, out_r, err_r, tap, hold_stdout, keep_stderr,
                                              timer)
        if status is None:
            _, status = os.waitpid(pid, 0)
    finally:
        _child["pid"] = None
        _restore_handlers(previous)
        for fd in (out_r, err_r):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
    return {
        "exit_code": exit_code_of(status),
        "started_at": started,
        "ended_at": time.time(),
        "pid": pid,
        "stdout": held,
        "stderr_tail": stderr_tail,
        "timed_out": timer["killed_at"] is not None,
    }


def _write_all(fd, data):
    while data:
        try:
            n = os.write(fd, data)
        except BrokenPipeError:
            return False
        data = data[n:]
    return True


def _enforce(pid, timer):
    """SIGTERM once the deadline has passed, SIGKILL after the grace period."""
    deadline = timer.get("deadline") if timer else None
    if deadline is None:
        return
    now = time.monotonic()
    try:
        if timer["killed_at"] is None and now >= deadline:
            timer["killed_at"] = now
            os.kill(pid, _signal.SIGTERM)
        elif timer["killed_at"] is not None and now - timer["killed_at"] >= KILL_GRACE_SECONDS:
            os.kill(pid, _signal.SIGKILL)
    except ProcessLookupError:
        pass


def _pump(pid, out_r, err_r, tap, hold_stdout, keep_stderr, timer=None):
    """Copy the child's piped stdout/stderr to ours unchanged and unbuffered, watching them."""
    import select

    poller = select.poll()
    open_fds = {}
    for fd, dest in ((out_r, 1), (err_r, 2)):
        if fd is not None:
            poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
            open_fds[fd] = dest
    held = [] if hold_stdout else None
    tail = b""
    writable = {1: True, 2: True}
    status = None
    while open_fds:
        events = poller.poll(200)
        if status is None:
            _enforce(pid, timer)
        if not events:
            # A grandchild may hold the pipe open after the child exits (a daemon): once the
            # child is gone and the pipes stay quiet, stop copying.
            if status is None:
                reaped, st = os.waitpid(pid, os.WNOHANG)
                if reaped:
                    status = st
            else:
                break
            continue
        for fd, _ev in events:
            chunk = os.read(fd, 65536)
            if not chunk:
                poller.unregister(fd)
                del open_fds[fd]
                continue
            if fd == out_r:
                if tap is not None:
                    tap.feed(chunk)
                if held is not None:
                    held.append(chunk)
                elif writable[1]:
                    writable[1] = _write_all(1, chunk)
            else:
                if writable[2]:
                    writable[2] = _write_all(2, chunk)
                tail = (tail + chunk)[-keep_stderr:]
    return ((b"".join(held) if held is not None else None),
            (tail if err_r is not None else None), status)
