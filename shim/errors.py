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
    """A configuration that cannot be used. `problems` holds every `FILE:LINE: key: message`."""

    def __init__(self, what, why, hint=None, problems=()):
        super().__init__(what, why, hint)
        self.problems = list(problems)

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
    """Print a known error; the caller returns `exc.exit_code`."""
    stream = stream or sys.stderr
    for line in exc.lines():
        stream.write(line + "\n")
    stream.flush()
    return exc.exit_code


def warn(what, why, hint=None, stream=None):
    """One warning line in the same shape as errors; used where we fail open."""
    stream = stream or sys.stderr
    line = f"llm-shim: warning: {what}: {why}"
    if hint:
        line += f"; {hint}"
    try:
        stream.write(line + "\n")
        stream.flush()
    except (OSError, ValueError):
        pass
