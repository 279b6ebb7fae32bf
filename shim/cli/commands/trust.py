"""`llm-shim trust [PATH]`, `trust --list`, `untrust [PATH]`: which project files apply.

A project `.llm-shim.yaml` applies only once trusted, and then only as far as it narrows your
configuration (docs/security.md). Trust pins the file's resolved path and sha256; an edit
makes it untrusted again.
"""

import os
import sys

from shim import exitcodes, safefs
from shim.errors import ShimError, UsageError


def add_parser(subparsers, common):
    from shim.cli.common import add_command

    p = add_command(
        subparsers, common, "trust", help="apply a project .llm-shim.yaml (pinned by its hash)",
        description="Trust a project .llm-shim.yaml: it then applies to calls made in its "
                    "directory and below, as long as its content does not change, and only as "
                    "far as it narrows your configuration. PATH is the file or its directory "
                    "(default: the .llm-shim.yaml that applies here).",
        examples=["llm-shim trust", "llm-shim trust ~/src/repo", "llm-shim trust --list"])
    p.add_argument("path", nargs="?", metavar="PATH", help="the file or its directory")
    p.add_argument("--list", action="store_true", help="list the trusted files and their state")
    p.set_defaults(func=lambda args: cmd_list() if args.list else cmd_trust(args.path))

    u = add_command(
        subparsers, common, "untrust", help="stop applying a project .llm-shim.yaml",
        description="Forget a trusted project .llm-shim.yaml; it is ignored again. PATH is the "
                    "file or its directory (default: the .llm-shim.yaml that applies here).",
        examples=["llm-shim untrust", "llm-shim untrust ~/src/repo/.llm-shim.yaml"])
    u.add_argument("path", nargs="?", metavar="PATH", help="the file or its directory")
    u.set_defaults(func=lambda args: cmd_untrust(args.path))


def project_file(path, must_exist=True):
    """The project file PATH names (a file, or a directory holding one), or the one that
    applies in the current directory."""
    from shim.config import compiled

    if path is None:
        found = compiled.find_project_file()
        if found is None:
            raise UsageError("trust", f"no {compiled.PROJECT_FILE} here or in a parent directory",
                             "pass its PATH")
        return found
    path = os.path.abspath(os.path.expanduser(path))
    if os.path.isdir(path):
        path = os.path.join(path, compiled.PROJECT_FILE)
    if must_exist and not os.path.isfile(path):
        raise UsageError(f"trust {path}", "no such file", "pass a .llm-shim.yaml or its directory")
    return path


def cmd_trust(path=None, stdout=None):
    from shim.config import trust

    stdout = stdout or sys.stdout
    target = project_file(path)
    try:
        real, sha = trust.trust(target)
    except safefs.Refused as exc:
        raise ShimError(exc.path, f"{exc.why}, so nothing was trusted", exc.hint) from None
    except (OSError, ValueError) as exc:
        raise ShimError(f"trust {target}", getattr(exc, "strerror", None) or str(exc),
                        "check the file and the data dir (`llm-shim doctor`)") from None
    stdout.write(f"trusted {real} (sha256 {sha[:16]}); an edit makes it untrusted again\n")
    _show_refusals(target, stdout)
    return exitcodes.OK


def _show_refusals(target, stdout):
    """Say which of its keys will be refused, so trusting is an informed step."""
    from shim.config import build, compiled

    sources = [(p, layer) for p, layer in compiled.discover(os.path.dirname(target))
               if layer != "project" or p == target]
    problems = [line for line in build.check_sources(sources) if line.startswith(target + ":")]
    if problems:
        stdout.write("these keys will not apply (a project file may only narrow your config):\n")
        stdout.write("".join(f"  {line}\n" for line in problems))


def cmd_untrust(path=None, stdout=None):
    from shim.config import trust

    stdout = stdout or sys.stdout
    target = project_file(path, must_exist=False)
    try:
        removed = trust.untrust(target)
    except safefs.Refused as exc:
        raise ShimError(exc.path, f"{exc.why}, so nothing was untrusted", exc.hint) from None
    except OSError as exc:
        raise ShimError(f"untrust {target}", exc.strerror or str(exc),
                        "check the data dir (`llm-shim doctor`)") from None
    stdout.write(f"untrusted {trust.resolved(target)}\n" if removed
                 else f"{trust.resolved(target)} was not trusted\n")
    return exitcodes.OK


def cmd_list(stdout=None):
    from shim.config import trust

    stdout = stdout or sys.stdout
    try:
        rows = trust.entries()
    except safefs.Refused as exc:
        raise ShimError(exc.path, f"{exc.why}, so it was not read", exc.hint) from None
    if not rows:
        stdout.write("no trusted project files (`llm-shim trust` in a project adds one)\n")
    for path, sha, state in rows:
        note = {"trusted": "trusted", "changed": "changed since trusted: ignored",
                "missing": "missing"}[state]
        stdout.write(f"{path}  sha256 {sha[:16]}  {note}\n")
    return exitcodes.OK
