"""`llm-shim doctor [--json]`: check the install, PATH, real tools, config, telemetry, cache.

Exits 1 when any check fails (warnings do not); the checks live in `shim.doctor.checks`.
"""

import sys

from shim import exitcodes


def add_parser(subparsers, common):
    from shim.cli.common import add_command

    p = add_command(
        subparsers, common, "doctor",
        help="check that the shims are installed, first on PATH and working; print fixes",
        description=(
            "Run every check and print one line each, ✓ ok, ✗ failed, ! warning, with the fix\n"
            "under anything that needs one: the shims dir and its shims, their version, PATH\n"
            "order against every real tool, the start-up file blocks, each real tool (path and\n"
            "`--version`, no shim recursion), the config, the telemetry database and the cache.\n"
            "Exit status 1 when a check failed. See docs/install.md \"doctor checks\"."),
        examples=[
            "llm-shim doctor",
            "llm-shim doctor --json | jq '.checks[] | select(.status != \"ok\")'",
            "llm-shim doctor --timeout 15     # slow first start of a real tool",
        ])
    p.add_argument("--json", action="store_true",
                   help='print {"version", "ok", "checks": [...]} as JSON')
    p.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help="how long each real tool may take to answer --version (default 5)")
    p.set_defaults(func=lambda args: cmd_doctor(as_json=args.json, timeout=args.timeout))


def cmd_doctor(as_json=False, timeout=None, stream=None, environ=None, cwd=None):
    """Run the checks, print them; returns 1 if any failed, else 0."""
    from shim.doctor import checks, render

    stream = stream or sys.stdout
    results = checks.run_all(environ=environ, cwd=cwd, timeout=timeout)
    encoding = getattr(stream, "encoding", None) or "utf-8"
    output = render.as_json(results) if as_json else render.text(results, encoding)
    write(stream, output, encoding)
    return exitcodes.ERROR if checks.failed(results) else exitcodes.OK


def write(stream, output, encoding):
    """Write `output`; characters the stream cannot encode (odd bytes in a path) are escaped."""
    try:
        stream.write(output)
    except UnicodeEncodeError:
        stream.write(output.encode(encoding, "backslashreplace").decode(encoding))
    stream.flush()
