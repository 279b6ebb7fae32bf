"""`llm-shim logs`: recent attempts with their decisions; `logs prune`, `logs repair`.

Every form imports the spool first, so what is shown includes the calls made a moment ago.
The `--json` shape is documented (with a JSON Schema) in docs/telemetry.md.
"""

import json
import sqlite3
import sys
import time

from shim import errors, paths
from shim.cli.common import iso_utc, open_store, store_error

JSON_TIME_COLUMNS = ("started_at", "ended_at")


def add_parser(subparsers, common):
    from shim.cli.common import add_command

    p = add_command(
        subparsers, common, "logs",
        help="show recent calls with their decisions, tokens and cost",
        description="Show recent attempts (newest first), after importing the spool. "
                    "`logs prune` deletes old rows; `logs repair` recovers a damaged database.",
        examples=["llm-shim logs", "llm-shim logs -n 50", "llm-shim logs --json -n 5",
                  "llm-shim logs --since 2h --agent reviewer --reasons",
                  "llm-shim logs --failed --tool codex --since 7d",
                  "llm-shim logs prune --older-than 90d", "llm-shim logs repair"])
    p.add_argument("--json", action="store_true", help="print a JSON array (see docs/telemetry.md)")
    p.add_argument("-n", "--count", type=int, default=20, metavar="N",
                   help="how many attempts to show (default 20; 0 = all)")
    p.add_argument("--since", metavar="WHEN",
                   help="only attempts started since: a duration ago (30m, 2h, 7d, 2w), a "
                        "local time (2026-11-05T14:00) or a day (2026-11-05, today, yesterday)")
    p.add_argument("--until", metavar="WHEN",
                   help="only attempts started before WHEN (same forms); a day is included "
                        "whole, as in `report`: --until 2026-11-05 ends at its midnight")
    p.add_argument("--agent", action="append", metavar="NAME",
                   help="only these agents (repeat or comma list)")
    p.add_argument("--tool", action="append", metavar="NAME",
                   help="only these tools (the tool run or the one asked for)")
    p.add_argument("--model", action="append", metavar="NAME",
                   help="only these models (the model run or the one asked for)")
    p.add_argument("--failed", action="store_true", help="only attempts that ran and failed")
    p.add_argument("--blocked", action="store_true", help="only attempts a policy blocked")
    p.add_argument("--reasons", action="store_true",
                   help="print each attempt's routing reasons in full, on their own lines")
    p.add_argument("--wide", action="store_true",
                   help="every column, whatever the terminal width")
    p.set_defaults(func=_show)
    sub = p.add_subparsers(dest="logs_command", metavar="SUBCOMMAND", parser_class=type(p))

    prune = add_command(sub, common, "prune", help="delete rows older than a duration",
                        examples=["llm-shim logs prune --older-than 90d",
                                  "llm-shim logs prune --older-than 12h"])
    prune.add_argument("--older-than", required=True, metavar="AGE",
                       help="e.g. 90d, 2w, 12h (s, m, h, d, w)")
    prune.set_defaults(func=lambda args: prune_logs(args.older_than))

    repair = add_command(
        sub, common, "repair",
        help="move a damaged database aside, salvage its rows, import the spool",
        examples=["llm-shim logs repair", "llm-shim logs repair --force"])
    repair.add_argument("--force", action="store_true",
                        help="rebuild even if the integrity check passes")
    repair.set_defaults(func=lambda args: repair_logs(force=args.force))


def _show(args):
    from shim.report import api

    filters = {"since": parse_when(args.since, "--since"),
               "until": parse_when(args.until, "--until", end=True),
               "agent": api.split_values(args.agent), "tool": api.split_values(args.tool),
               "model": api.split_values(args.model), "failed": args.failed,
               "blocked": args.blocked}
    return show_logs(as_json=args.json, limit=args.count, filters=filters,
                     reasons=args.reasons, wide=args.wide)


def parse_when(text, option, now=None, end=False):
    """Epoch seconds for --since/--until (`end`): periods.parse_instant, the parser `report`
    shares, in the report's time zone (policies.timezone)."""
    if text is None:
        return None
    from shim.report import api, periods

    zone = periods.resolve_zone(api.settings()[0])
    return periods.parse_instant(text, zone, now, end=end, command="logs", option=option)


def show_logs(as_json=False, limit=20, stream=None, filters=None, reasons=False, wide=False):
    from shim.report import fit
    from shim.telemetry import imports, ingest, store

    stream = stream or sys.stdout
    conn = open_store("logs")
    try:
        ingest.ingest(conn)
        imports.refresh(conn, what="logs")
        rows = store.recent(conn, limit if limit and limit > 0 else -1, filters)
    finally:
        conn.close()
    if as_json:
        json.dump([to_json(row) for row in rows], stream, indent=1, ensure_ascii=False)
        stream.write("\n")
    else:
        filtered = any(v for v in (filters or {}).values())
        _print_table(rows, stream, width=fit.width_for(stream, wide), reasons=reasons,
                     filtered=filtered)
    return 0


def to_json(row):
    """A database row as the documented `logs --json` object (times as ISO 8601 UTC)."""
    out = dict(row)
    for column in JSON_TIME_COLUMNS:
        out[column] = iso_utc(out.get(column))
    out["blocked"] = bool(out.get("blocked"))
    out["budget_override"] = bool(out.get("budget_override"))
    return out


# Which columns a narrow terminal loses first (docs/telemetry.md, `llm-shim logs`).
DROP_ORDER = ("reasons", "tier", "id", "agent", "result", "cache wr", "cache rd")
# ... then which text columns are cut (with an ellipsis), to how narrow at most; and what
# goes when even that is too wide (with --reasons, which keeps the id).
SHRINK = {"model": 12, "agent": 8, "tool": 6}
LAST_RESORT = ("tool",)
HEADERS = ["time", "id", "agent", "tool", "model", "tier", "result", "input", "cache rd",
           "cache wr", "output", "cost", "reasons"]
LEGEND = ("cost: no mark = reported by the tool, c = computed from the price table, "
          "~ = estimated, ? = unknown (no price: see `llm-shim doctor`); output (r N): N of "
          "the output tokens were reasoning")
TIME_FORMAT, SHORT_TIME_FORMAT = "%Y-%m-%d %H:%M:%S", "%m-%d %H:%M:%S"  # the latter to fit
MODEL_WIDTH = 32  # model cells beyond this are cut (with an ellipsis) to fit a terminal


def _print_table(rows, stream, width=None, reasons=False, filtered=False):
    from shim.report import fit

    if not rows:
        stream.write("no calls match these filters\n" if filtered else "no calls recorded yet\n")
        return
    table = []
    for r in rows:
        tool = r["tool"] if r["tool"] == r["tool_requested"] or not r["tool_requested"] \
            else f"{r['tool_requested']}->{r['tool']}"
        table.append([
            time.strftime(TIME_FORMAT if width is None else SHORT_TIME_FORMAT,
                          time.localtime(r["started_at"])),
            attempt_id(r),
            r["agent"] or "",
            tool,
            fit.shorten(model_text(r), MODEL_WIDTH if width else None),
            tier_text(r),
            outcome(r),
            *token_cells(r),
            cost_text(r),
            "; ".join(r["reasons"] or ()),
        ])
    headers = HEADERS if not reasons else HEADERS[:-1]
    align = ["left"] * 7 + ["right"] * 5 + ["left"]
    if reasons:
        table = [row[:-1] for row in table]
    elif width is not None:
        _fit_reasons(table, headers, align, width)
    # With --reasons the id stays: the reason lines below are keyed by it.
    order = [name for name in DROP_ORDER if not (reasons and name == "id")]
    text, dropped = fit.render(headers, table, align, width=width, drop_order=order,
                               shrink=SHRINK, then_drop=LAST_RESORT)
    lines = [LEGEND]
    if dropped:
        lines.append(f"(not shown to fit {width} columns: {', '.join(dropped)}; --wide shows "
                     "every column, --reasons the reasons)")
    stream.write(text + "\n" + fit.wrap(lines, width))
    if reasons:
        stream.write(fit.wrap([f"{attempt_id(r)}  {reason}" for r in rows
                               for reason in r["reasons"] or ()], width))


def _fit_reasons(table, headers, align, width):
    """Cut the reasons (the last column) to the room the other columns leave, if any."""
    from shim.report import fit

    text, _ = fit.render(headers[:-1], [row[:-1] for row in table], align[:-1])
    room = width - max(map(len, text.splitlines())) - 2
    if room >= 12:
        for row in table:
            row[-1] = fit.shorten(row[-1], room)


def attempt_id(r):
    return f"{r['invocation_id'][:8]}/{r['attempt']}"


def token_cells(r):
    """[input, cache read, cache write, output]: the token model of docs/telemetry.md, with
    the reasoning part of the output shown apart when the tool reported it."""
    if all(r.get(k) is None for k in ("input_tokens", "output_tokens", "cache_read_tokens",
                                       "cache_write_tokens")):
        return ["?", "?", "?", "?"]
    out = str(r["output_tokens"] or 0)
    if r.get("reasoning_tokens"):
        out += f" (r {r['reasoning_tokens']})"
    return [str(r["input_tokens"] or 0), str(r["cache_read_tokens"] or 0),
            str(r["cache_write_tokens"] or 0), out]


def tier_text(r):
    """The tier, with the learned router's score when it ran (`cheap 0.02`)."""
    score = r.get("route_score")
    tier = r["tier"] or ""
    return tier if score is None else f"{tier} {score:.2f}".strip()


def model_text(r):
    """`requested->used` when routing changed the model; an imported row (usage read from
    the tool's own logs, never routed) shows its model alone."""
    if r.get("source") == "import":
        return r["model"] or "?"
    requested = r["model_requested"] or "(default)"  # None: the tool's default
    model = r["model"] or requested
    return model if requested == model else f"{requested}->{model}"


def outcome(r):
    if r.get("source") == "import":  # not a call: the messages one import row sums
        return f"imported {r.get('entry_count') or 0}"
    if r["blocked"]:
        return "blocked"
    if r["failure_class"]:  # a killed call has no exit code: "killed", not "None killed"
        return " ".join(str(x) for x in (r["exit_code"], r["failure_class"]) if x is not None)
    return str(r["exit_code"]) if r["exit_code"] is not None else ""


def cost_text(r):
    if r["cost_usd"] is None:
        return "?"
    mark = {"reported": "", "computed": " c", "estimated": " ~"}.get(r["cost_source"], "")
    return f"${r['cost_usd']:.4f}{mark}"


def parse_age(text, command="logs prune"):
    """Seconds in '90d', '2w', '12h', '30m', '45s'."""
    from shim.report import periods

    seconds = periods.duration_seconds(text)
    if seconds is None:
        raise errors.UsageError(command, f"cannot read the age {text!r}",
                                "use a number and a unit: 90d, 2w, 12h, 30m, 45s")
    return seconds


def prune_logs(older_than, now=None, stream=None):
    from shim.telemetry import ingest, store

    stream = stream or sys.stdout
    cutoff = (now if now is not None else time.time()) - parse_age(older_than)
    conn = open_store("logs")
    try:
        ingest.ingest(conn)
        counts = store.prune(conn, cutoff)
    finally:
        conn.close()
    stream.write(f"pruned {counts['attempts']} attempts and {counts['counters']} counter rows "
                 f"started before {iso_utc(cutoff)}\n")
    return 0


def repair_logs(force=False, stream=None):
    from shim.telemetry import ingest, store

    stream = stream or sys.stdout
    try:
        result = store.repair(force=force)
    except sqlite3.Error as exc:
        raise store_error("logs repair", exc) from None
    except OSError as exc:
        raise errors.TelemetryError("logs repair", f"{exc.filename or paths.data_dir()}: "
                                    f"{exc.strerror or exc}",
                                    "check that the llm-shim data directory is writable")
    if result["status"] == "ok":
        stream.write(f"{paths.database_file()} passed the integrity check; nothing to repair "
                     "(use --force to rebuild anyway)\n")
    else:
        salvaged = result["salvaged"]
        ways = "; ".join(result.get("ways") or ()) or "no readable rows"
        stream.write(f"moved the damaged database to {result['quarantined']} "
                     f"({result['problem']}); kept {salvaged.get('attempts', 0)} attempts "
                     f"and {salvaged.get('counters', 0)} counter rows ({ways})\n")
    imported = ingest.ingest()
    stream.write(f"imported {imported} rows from the spool\n")
    return 0
