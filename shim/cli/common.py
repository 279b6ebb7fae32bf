"""What every management command shares: its parser conventions, opening the telemetry store
with one error line, printing help, and JSON timestamps. Commands parse and format; the work
they show lives in its package (telemetry, report, policy, team).

Management CLI only: never imported on a shim's path.
"""

import argparse
import sqlite3

from shim import errors, exitcodes, paths
from shim.isotime import iso_utc  # noqa: F401  (the commands' JSON timestamps)


def add_command(subparsers, common, name, *, help, description=None, examples=(), aliases=()):
    """Create a subcommand parser with our conventions: a description and an examples epilog."""
    epilog = "examples:\n" + "\n".join(f"  {e}" for e in examples) if examples else None
    return subparsers.add_parser(
        name,
        help=help,
        description=description or help,
        epilog=epilog,
        parents=[common],
        aliases=list(aliases),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def print_help(parser):
    """The handler of a command group called without its subcommand (`llm-shim config`)."""
    parser.print_help()
    return exitcodes.OK


def open_store(command, path=None):
    """The telemetry store (`path`, default the data dir's database), or a TelemetryError in
    the words of `command` with the hint for what went wrong."""
    from shim.telemetry import store

    shown = path or paths.database_file()
    try:
        return store.connect(path)
    except sqlite3.Error as exc:
        raise store_error(command, exc, shown) from None
    except OSError as exc:
        hint = ("check the permissions of its directory" if path
                else "check that the llm-shim data directory is writable")
        raise errors.TelemetryError(command, f"{shown}: {exc.strerror or exc}", hint) from None


def store_error(command, exc, path=None):
    """The one line for an SQLite error on the store: what failed, and the fix for its kind."""
    from shim.telemetry import store

    path = path or paths.database_file()
    kind = store.classify(exc)
    return errors.TelemetryError(command, f"{path}: {exc}", store.HINTS[kind].format(path=path))
