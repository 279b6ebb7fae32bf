"""The documented exit statuses of llm-shim, as an IntEnum (httpie's `ExitStatus`)."""

from enum import IntEnum

from shim import exitcodes

ExitStatus = IntEnum("ExitStatus", {name: getattr(exitcodes, name) for name in exitcodes.NAMES})
ExitStatus.__doc__ = "Exit statuses; a forwarded call exits with the real tool's own code instead."
