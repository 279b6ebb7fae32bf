"""`llm-shim`: build the parser from the command modules, run the handler, funnel errors.

Errors reach the user in one place (`main`): a `ShimError` prints one line and exits with its
code; anything else is a bug, shown as one line unless LLM_SHIM_DEBUG=1 asks for the traceback.
"""

import argparse
import importlib
import os
import sys

from shim import __version__, errors, exitcodes
from shim.cli.common import print_help

# Each entry is a module in shim.cli.commands exposing add_parser(subparsers, common).
# Commands appear in --help in this order. Add a command here only once it works.
COMMAND_MODULES = (
    "version",
    "config",
    "trust",
    "install",
    "uninstall",
    "shell_init",
    "doctor",
    "which",
    "logs",
    "report",
    "imports",
    "statusline",
    "dashboard",
    "prices",
    "route",
    "exec",
    "budget",
    "watch",
    "alerts",
    "sync",
    "completion",
)

EPILOG = """examples:
  llm-shim version
  llm-shim config validate
  LLM_SHIM_AGENT=auto claude -p "rename this variable"   # through an installed shim

docs: docs/quickstart.md; LLM_SHIM_DEBUG=1 shows tracebacks."""


class Parser(argparse.ArgumentParser):
    """Usage errors as one `llm-shim: usage: ...` line plus a pointer to --help, exit 2."""

    def error(self, message):
        self.exit(exitcodes.USAGE, f"llm-shim: usage: {message}; see `{self.prog} --help`\n")


def build_parser(only=None):
    """The parser of every command, or of the command module `only` alone (its subcommand's
    parsing, help and errors are the same; argparse's parsers take ~40 ms to build in all)."""
    parser = Parser(
        prog="llm-shim",
        description="Route, budget and record every call to claude, codex and llm.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"llm-shim {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name in COMMAND_MODULES if only is None else (only,):
        module = importlib.import_module(f"shim.cli.commands.{name}")
        module.add_parser(subparsers, common)
    parser.set_defaults(func=lambda args: print_help(parser))
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    _discard_closed_streams()
    try:
        parser = _parser_for(argv)
        args, extra = parser.parse_known_args(argv)
        if extra:  # say which --help to read: the subcommand's, not the top level's
            _subparser_for(parser, argv).error(f"unrecognized arguments: {' '.join(extra)}")
        code = int(args.func(args) or 0)
    except errors.ShimError as exc:
        if errors.debug_enabled():
            raise
        return errors.report(exc)
    except KeyboardInterrupt:
        return exitcodes.CTRL_C
    except BrokenPipeError:
        # `llm-shim report | head`: the reader went away; that is not our error.
        errors.stdout_to_devnull()
        return exitcodes.OK
    except Exception as exc:  # a bug: one line, unless debugging
        if errors.debug_enabled():
            raise
        if isinstance(exc, OSError):  # a write to stdout that failed mid-command?
            failed = errors.flush_stdout()
            if failed is not None:
                return _stdout_failed(failed)
        _write_stderr(
            f"llm-shim: internal error: {type(exc).__name__}: {exc}; "
            "rerun with LLM_SHIM_DEBUG=1 for the traceback and report it\n")
        return exitcodes.ERROR
    # Flush now: a failure at the interpreter's exit would print `Exception ignored` and exit 120.
    failed = errors.flush_stdout()
    if failed is not None:
        return _stdout_failed(failed, code)
    return code


def _parser_for(argv):
    """The parser for `argv`: of its command alone when argv starts with a command's name
    (`llm-shim import`, `llm-shim report --json`), else of every command."""
    word = argv[0] if argv else ""
    module = _MODULE_OF.get(word, word.replace("-", "_"))
    if module in COMMAND_MODULES:
        parser = build_parser(only=module)
        if word in _subcommands(parser):
            return parser
    return build_parser()


# A command whose module is not its name with `-` as `_` (`import` is a Python keyword; a
# module may add more than one command).
_MODULE_OF = {"import": "imports", "untrust": "trust", "stats": "report"}


def _subcommands(parser):
    """{name: parser} of the subcommands `parser` has ({} when it has none)."""
    sub = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
    return {} if sub is None else sub.choices


def _discard_closed_streams():
    """A stream closed before we started (`llm-shim version >&-`) is None in sys; what we print
    there is discarded, as print() does, instead of failing on None.write."""
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            try:
                setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))
            except OSError:
                pass


def _stdout_failed(exc, code=exitcodes.OK):
    if isinstance(exc, BrokenPipeError):  # the reader went away: not our error
        return code
    return errors.report(errors.ShimError(
        "stdout", f"cannot write: {exc.strerror or exc}",
        "check where stdout goes (a full disk, a closed file)"))


def _write_stderr(text):
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass


def _subparser_for(parser, argv):
    """The deepest subcommand parser the words of argv select (`config validate`)."""
    current = parser
    for word in argv:
        if word.startswith("-"):
            continue
        choices = _subcommands(current)
        if word not in choices:
            break
        current = choices[word]
    return current
