"""`llm-shim report` (alias `stats`): cost, savings and usage per day, week or month.

The spool is imported first, so the report includes calls made a moment ago. Formats and the
`--json` schema are documented in docs/report.md.
"""

import argparse
import sqlite3
import sys

from shim import errors, paths
from shim.cli.common import open_store, store_error

EXAMPLES = [
    "llm-shim report                          # last 30 days, one row per day",
    "llm-shim report --monthly --by model",
    "llm-shim report --weekly --by agent,tool --since 8w",
    "llm-shim report --since 2026-04-01 --until 2026-04-30 --agent reviewer",
    "llm-shim report --tz Asia/Kolkata --by provider --json",
    "llm-shim report --by hour                # today, one row per hour",
    "llm-shim report --csv --output spend.csv",
    "llm-shim stats --monthly --html report.html",
    "llm-shim report --team --monthly --by agent   # every member's calls (team: in the config)",
]


def add_parser(subparsers, common):
    from shim.cli.common import add_command

    p = add_command(
        subparsers, common, "report", aliases=["stats"],
        help="cost, savings and usage per day, week or month",
        description="Sum the recorded calls per local day, week or month (and per agent, model, "
                    "tool, provider or project): invocations, failures, tokens, cost, latency "
                    "and the savings of routing. Dates are local to --tz.",
        examples=EXAMPLES)
    period = p.add_mutually_exclusive_group()
    period.add_argument("--hourly", dest="granularity", action="store_const", const="hour",
                        help="one row per local hour (default range: today); also --by hour")
    period.add_argument("--daily", dest="granularity", action="store_const", const="day",
                        help="one row per day (default; default range: the last 30 days)")
    period.add_argument("--weekly", dest="granularity", action="store_const", const="week",
                        help="one row per week (policies.week_starts; default: last 12 weeks)")
    period.add_argument("--monthly", dest="granularity", action="store_const", const="month",
                        help="one row per calendar month (default: last 12 months)")
    p.add_argument("--since", metavar="DATE",
                   help="first day: YYYY-MM-DD, today, yesterday, or 7d / 4w / 3m "
                        "(the last 7 days; the current week or month and the 3 or 2 before it)")
    p.add_argument("--until", metavar="DATE",
                   help="last day, included (as in `logs --until`): YYYY-MM-DD, today, "
                        "yesterday, or 7d (7 days ago)")
    p.add_argument("--by", metavar="KEYS", default="",
                   help="group by a comma list of agent, model, tool, provider, project, "
                        "session, branch, source; `hour` shows one row per hour (the day view)")
    p.add_argument("--source", choices=("shim", "import", "all"), default="all",
                   help="calls made through a shim, usage `llm-shim import` read from the "
                        "tools' own logs, or both (default)")
    p.add_argument("--agent", action="append", metavar="NAME",
                   help="only these agents (repeat or comma list)")
    p.add_argument("--tool", action="append", metavar="NAME",
                   help="only these tools: claude, codex, llm, ...")
    p.add_argument("--model", action="append", metavar="NAME",
                   help="only these models (an alias also matches its model id)")
    p.add_argument("--tz", metavar="ZONE",
                   help="IANA time zone for the periods (default: policies.timezone, else local)")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", dest="fmt", action="store_const", const="json",
                     help="print the report as JSON (schema in docs/report.md)")
    fmt.add_argument("--csv", dest="fmt", action="store_const", const="csv",
                     help="print the rows as CSV (RFC 4180, no totals line)")
    p.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE")
    p.add_argument("--html", metavar="FILE",
                   help="also write a self-contained HTML page with charts to FILE")
    p.add_argument("--chart", action=argparse.BooleanOptionalAction, default=None,
                   help="show or hide the spend bar chart under the table "
                        "(default: shown when printing the table to a terminal)")
    p.add_argument("--wide", action="store_true",
                   help="every column, whatever the terminal width (default: columns are "
                        "dropped in a documented order to fit)")
    p.add_argument("--blocks", action="store_true",
                   help="5-hour blocks per tool, as ccusage cuts them, with burn rate, "
                        "projection and the plan's used %% (docs/plans.md)")
    p.add_argument("--team", action="store_true",
                   help="report every team member's calls from the team store (team: in the "
                        "config; docs/team.md), after pushing this machine's new ones")
    p.set_defaults(func=_run, granularity="day", fmt="table")


def _run(args):
    if args.blocks:  # shim/report/blocks.py
        from shim.report import blocks

        text = blocks.run(since=args.since, tools=_split(args.tool), timezone=args.tz,
                          fmt=args.fmt)
        if args.output:
            _write(args.output, text)
        else:
            sys.stdout.write(text)
        return 0
    return run_report(
        granularity=args.granularity, since=args.since, until=args.until, by=args.by,
        agents=args.agent, tools=args.tool, models=args.model, timezone=args.tz,
        fmt=args.fmt, output=args.output, html_file=args.html, chart=args.chart,
        team=args.team, wide=args.wide, source=args.source)


def run_report(*, granularity="day", since=None, until=None, by="", agents=(), tools=(),
               models=(), timezone=None, fmt="table", output=None, html_file=None, chart=None,
               stream=None, err=None, db_path=None, team=False, wide=False, source="all"):
    """Compute the report and print or write it. Returns the exit code."""
    from shim.report import api, export, fit, render

    stream = stream or sys.stdout
    err = err or sys.stderr
    granularity, by = api.hour_view(granularity, by)
    group_by = api.parse_keys(by)
    filters = {"agent": api.split_values(agents), "tool": api.split_values(tools),
               "model": api.split_values(models),
               "source": [source] if source in ("shim", "import") else []}
    compute = _compute_team if team else _compute
    doc, by_model, by_agent, per_period, database_empty = compute(
        db_path, granularity, since, until, group_by, filters, timezone, html_file is not None)
    unpriced_notes, why = _unpriced_notes(doc)
    message = render.empty_message(doc, database_empty) if not doc["rows"] else None
    if html_file:
        from shim.report import html

        _write(html_file, html.page(dict(doc, _why_unpriced=why), by_model, by_agent, message,
                                    per_period))
        err.write(f"llm-shim: wrote the HTML report to {html_file}\n")
    if fmt == "json":
        text = export.to_json(doc)
    elif fmt == "csv":
        text = export.to_csv(doc)
    elif message:
        text = message + "\n"
    else:
        width = None if output else fit.width_for(stream, wide)
        text = render.table(doc, width=width, why=why)
        if unpriced_notes:
            text += fit.wrap(unpriced_notes, width)
        if doc.get("sessions"):
            from shim.report import sessions

            text += sessions.table(doc["sessions"])
        if chart if chart is not None else (output is None and _isatty(stream)):
            text += "\n" + render.bar_chart(doc)
    if message and (fmt != "table" or output):
        err.write(f"llm-shim: {message}\n")
    if output:
        _write(output, text)
        err.write(f"llm-shim: wrote the report to {output}\n")
    else:
        stream.write(text)
    return 0


def _split(values):
    return [v.strip() for value in values or () for v in value.split(",") if v.strip()] or None


def _unpriced_notes(doc):
    """(footnotes on what the unpriced attempts need, {model: why}) for the table (the --json
    and --csv documents keep their schema: `unknown_cost_attempts` counts these rows). The
    price table is loaded only when some attempt is unpriced."""
    from shim.report import unpriced

    found = doc.pop("_unpriced", None)
    if not found:
        return [], {}
    from shim.telemetry import ingest, prices

    table = prices.load_table(ingest.load_config())
    return unpriced.notes(found, table), unpriced.reasons(found, table)


def _compute(db_path, granularity, since, until, group_by, filters, timezone, with_charts):
    from shim.report import api, query, unpriced
    from shim.telemetry import imports, ingest

    path = db_path or paths.database_file()
    conn = open_store("report", path)
    try:
        ingest.ingest(conn, db_path=path)
        imports.refresh(conn, what="report")
        doc, periods, query_filters = api.compute(
            conn, granularity=granularity, since=since, until=until, group_by=group_by,
            filters=filters, timezone=timezone)
        by_model = by_agent = per_period = ()
        if with_charts and doc["rows"]:
            by_model, per_period = api.models(conn, periods, query_filters)
            by_agent = api.breakdown(conn, periods, "agent", query_filters)
        database_empty = not doc["rows"] and not query.has_rows(conn)
        if "session" in group_by:
            from shim.report import sessions

            doc["sessions"] = sessions.collect(conn, periods, query_filters)
        # A scan of the rows in the range: only when the sums say some attempt is unpriced,
        # so a fully priced report keeps reading the rollup alone (docs/report.md, "Scale").
        doc["_unpriced"] = unpriced.models(conn, periods, query_filters) \
            if doc["totals"]["unpriced_attempts"] else []
    except sqlite3.Error as exc:
        raise store_error("report", exc, path) from None
    finally:
        conn.close()
    return doc, by_model, by_agent, per_period, database_empty


def _compute_team(db_path, granularity, since, until, group_by, filters, timezone,
                  with_charts):
    """The same document from the team store (shim/team/report.py)."""
    from shim import team
    from shim.team import report as team_report

    settings, cfg = team.require_settings("report --team")
    doc, by_model, by_agent, empty = team_report.team_report(
        settings, cfg, granularity=granularity, since=since, until=until, group_by=group_by,
        filters=filters, timezone=timezone, with_charts=with_charts)
    return doc, by_model, by_agent, (), empty


def _write(path, text):
    try:
        with open(path, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
    except OSError as exc:
        raise errors.ShimError("report", f"cannot write {path}: {exc.strerror or exc}",
                               "check the directory exists and is writable") from None


def _isatty(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
