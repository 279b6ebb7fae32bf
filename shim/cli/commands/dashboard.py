"""`llm-shim dashboard`: the report as a local web page on 127.0.0.1 that refreshes itself.

The server is shim/report/dashboard.py (standard library only); docs/report.md, "Dashboard".
"""


def add_parser(subparsers, common):
    from shim.cli.common import add_command

    p = add_command(
        subparsers, common, "dashboard",
        help="a local, read-only web page with the report, budgets and latest calls",
        description="Serve the report on http://127.0.0.1:PORT/ (this machine only, read-only) "
                    "with controls for period, grouping, agent, tool and model, the budgets "
                    "with their headroom and the latest calls; the page refreshes itself every "
                    "few seconds. Ctrl-C stops it.",
        examples=["llm-shim dashboard", "llm-shim dashboard --port 8377"])
    p.add_argument("--port", type=int, default=0, metavar="N",
                   help="the port on 127.0.0.1 (default: a free one, printed)")
    p.set_defaults(func=_run)


def _run(args):
    from shim import errors
    from shim.report import dashboard

    if not 0 <= args.port <= 65535:
        raise errors.UsageError("dashboard", f"port {args.port} is out of range",
                                "use 1-65535, or leave --port out for a free one")
    return dashboard.serve(args.port)
