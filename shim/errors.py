"""Every error a user can see, and the one place that prints them.

Library code raises `ShimError` subclasses; only the CLI's `main` and the proxy catch them and
call `report`. Kept free of heavy imports because the hot path raises these too.
"""

import os
import sys

from shim import exitcodes


class ShimError(Exception):
    """A known failure: printed as one line `llm-shim: <what>: <why>; <hint>`, never a traceback."""

    exit_code = exitcodes.ERROR

    def __init__(self, what, why, hint=None, exit_code=None):
        super().__init__(f"{what}: {why}")
        self.what = what
        self.why = why
        self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code

    def lines(self):
        line = f"llm-shim: {self.what}: {self.why}"
        if self.hint:
            line += f"; {self.hint}"
        return [line]


class UsageError(ShimError):
    exit_code = exitcodes.USAGE


class ConfigError(ShimError):
    """A configuration that cannot be used. `problems` holds every `FILE:LINE: key: message`.

    `on_error` is `policies.on_error` as the layers that did parse set it (highest precedence
    wins), or None: the proxy must honour `block` even when the merged config is unusable.
    """

    def __init__(self, what, why, hint=None, problems=(), on_error=None):
        super().__init__(what, why, hint)
        self.problems = list(problems)
        self.on_error = on_error

    def lines(self):
        if not self.problems:
            return super().lines()
        return [f"llm-shim: {p}" for p in self.problems] + super().lines()


class RealBinaryNotFound(ShimError):
    exit_code = exitcodes.NOT_FOUND


class RecursionDetected(ShimError):
    exit_code = exitcodes.RECURSION


class Blocked(ShimError):
    """A policy (budget, rate limit) refused the call before the real tool started."""

    exit_code = exitcodes.BLOCKED


class TelemetryError(ShimError):
    """The store could not be read or written; telemetry then goes to the spool."""


def debug_enabled(environ=None):
    return (environ if environ is not None else os.environ).get("LLM_SHIM_DEBUG") == "1"


def report(exc, stream=None):
    """Print a known error; the caller returns `exc.exit_code`. A closed or broken stderr
    (`2>&-`) loses the line but never raises: the exit code still says it."""
    stream = stream or sys.stderr
    try:
        for line in exc.lines():
            stream.write(line + "\n")
        stream.flush()
    except (OSError, ValueError, AttributeError):
        pass
    return exc.exit_code


# stdout. What llm-shim itself prints (a dry run, `llm-shim version`...) is flushed before we
# return, so a failure is ours to handle rather than the interpreter's at exit, which would
# print `Exception ignored ... BrokenPipeError` and exit 120. After a failure fd 1 points at
# /dev/null, so that final flush of what is left in the buffer is quiet (the recipe of the
# Python docs, "Note on SIGPIPE"). A stdout closed before we started (`>&-`: sys.stdout is
# None) discards the output, as print() does.

def write_stdout(text):
    """Write `text` to stdout and flush it. None when done (or discarded), else the OSError."""
    stream = sys.stdout
    if stream is None:
        return None
    try:
        stream.write(text)
    except (OSError, ValueError) as exc:  # ValueError: the stream was closed
        stdout_to_devnull()
        return exc if isinstance(exc, OSError) else None
    return flush_stdout()


def flush_stdout():
    """Flush stdout now. None when flushed (or there is none), else the OSError."""
    stream = sys.stdout
    if stream is None:
        return None
    try:
        stream.flush()
    except (OSError, ValueError) as exc:
        stdout_to_devnull()
        return exc if isinstance(exc, OSError) else None
    return None


def stdout_to_devnull():
    """Point fd 1 at /dev/null, so nothing more written there can fail."""
    try:
        fd = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    try:
        if fd != 1:  # with fd 1 closed, open() may have returned 1 itself
            os.dup2(fd, 1)
    except OSError:
        pass
    finally:
        if fd != 1:
            os.close(fd)


def run_detached(what, work):
    """The body of a detached helper process (`python -m shim.telemetry.ingest`, the team
    sync): nobody waits for it, so it must never leave a traceback behind, only one warning
    line (LLM_SHIM_DEBUG=1 shows the traceback). Returns the exit code."""
    try:
        work()
    except Exception as exc:
        if debug_enabled():
            raise
        warn(what, f"{type(exc).__name__}: {exc}")
        return 1
    return 0


def warn(what, why, hint=None, stream=None):
    """One warning line in the same shape as errors; used where we fail open."""
    stream = stream or sys.stderr
    line = f"llm-shim: warning: {what}: {why}"
    if hint:
        line += f"; {hint}"
    try:
        stream.write(line + "\n")
        stream.flush()
    except (OSError, ValueError, AttributeError):  # AttributeError: stderr closed (`2>&-`)
        pass
