"""`llm-shim logs`: recent attempts with their decisions; `logs prune`, `logs repair`.

Every form imports the spool first, so what is shown includes the calls made a moment ago.
The `--json` shape is documented (with a JSON Schema) in docs/telemetry.md.
"""

import json
import re
import sqlite3
import sys
import time

from shim import errors, paths

JSON_TIME_COLUMNS = ("started_at", "ended_at")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def add_parser(subparsers, common):
    from shim.cli.main import add_command

    p = add_command(
        subparsers, common, "logs",
        help="show recent calls with their decisions, tokens and cost",
        description="Show recent attempts (newest first), after importing the spool. "
                    "`logs prune` deletes old rows; `logs repair` recovers a damaged database.",
        examples=["llm-shim logs", "llm-shim logs -n 50", "llm-shim logs --json -n 5",
                  "llm-shim logs prune --older-than 90d", "llm-shim logs repair"])
    p.add_argument("--json", action="store_true", help="print a JSON array (see docs/telemetry.md)")
    p.add_argument("-n", "--count", type=int, default=20, metavar="N",
                   help="how many attempts to show (default 20; 0 = all)")
    p.set_defaults(func=lambda args: show_logs(as_json=args.json, limit=args.count))
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


def _open():
    from shim.telemetry import store

    try:
        return store.connect()
    except sqlite3.Error as exc:
        kind = store.classify(exc)
        raise errors.TelemetryError("logs", f"{paths.database_file()}: {exc}",
                                    store.HINTS[kind].format(path=paths.database_file()))
    except OSError as exc:
        raise errors.TelemetryError("logs", f"{paths.database_file()}: {exc.strerror or exc}",
                                    "check that the llm-shim data directory is writable")


def show_logs(as_json=False, limit=20, stream=None):
    from shim.telemetry import imports, ingest, store

    stream = stream or sys.stdout
    conn = _open()
    try:
        ingest.ingest(conn)
        imports.refresh(conn, what="logs")
        rows = store.recent(conn, limit if limit and limit > 0 else -1)
    finally:
        conn.close()
    if as_json:
        json.dump([to_json(row) for row in rows], stream, indent=1, ensure_ascii=False)
        stream.write("\n")
    else:
        _print_table(rows, stream)
    return 0


def to_json(row):
    """A database row as the documented `logs --json` object (times as ISO 8601 UTC)."""
    out = dict(row)
    for column in JSON_TIME_COLUMNS:
        out[column] = iso_utc(out.get(column))
    out["blocked"] = bool(out.get("blocked"))
    out["budget_override"] = bool(out.get("budget_override"))
    return out


def iso_utc(epoch):
    if epoch is None:
        return None
    seconds = int(epoch)
    millis = int(round((epoch - seconds) * 1000))
    if millis == 1000:
        seconds, millis = seconds + 1, 0
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def _print_table(rows, stream):
    from tabulate import tabulate

    if not rows:
        stream.write("no calls recorded yet\n")
        return
    table = []
    for r in rows:
        tool = r["tool"] if r["tool"] == r["tool_requested"] or not r["tool_requested"] \
            else f"{r['tool_requested']}->{r['tool']}"
        requested = r["model_requested"] or "(default)"
        model = r["model"] or "?"
        table.append([
            time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r["started_at"])),
            f"{r['invocation_id'][:8]}/{r['attempt']}",
            r["agent"] or "",
            tool,
            model if requested == model else f"{requested}->{model}",
            r["tier"] or "",
            _outcome(r),
            _tokens(r),
            _cost(r),
            _shorten("; ".join(r["reasons"] or ()), 60),
        ])
    stream.write(tabulate(table, headers=["time", "id", "agent", "tool", "model", "tier",
                                          "result", "tokens in/out", "cost", "reasons"],
                          disable_numparse=True) + "\n")


def _outcome(r):
    if r["blocked"]:
        return "blocked"
    if r["failure_class"]:
        return f"{r['exit_code']} {r['failure_class']}"
    return str(r["exit_code"]) if r["exit_code"] is not None else ""


def _tokens(r):
    if r["input_tokens"] is None and r["output_tokens"] is None:
        return "?"
    prompt = (r["input_tokens"] or 0) + (r["cache_read_tokens"] or 0) + \
        (r["cache_write_tokens"] or 0)
    return f"{prompt}/{r['output_tokens'] or 0}"


def _cost(r):
    if r["cost_usd"] is None:
        return "?"
    mark = {"reported": "", "computed": " c", "estimated": " ~"}.get(r["cost_source"], "")
    return f"${r['cost_usd']:.4f}{mark}"


def _shorten(text, width):
    return text if len(text) <= width else text[:width - 1] + "…"


def parse_age(text):
    """Seconds in '90d', '2w', '12h', '30m', '45s'."""
    match = _DURATION.match(str(text))
    if not match:
        raise errors.UsageError("logs prune", f"cannot read the age {text!r}",
                                "use a number and a unit: 90d, 2w, 12h, 30m, 45s")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def prune_logs(older_than, now=None, stream=None):
    from shim.telemetry import ingest, store

    stream = stream or sys.stdout
    cutoff = (now if now is not None else time.time()) - parse_age(older_than)
    conn = _open()
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
        kind = store.classify(exc)
        raise errors.TelemetryError("logs repair", f"{paths.database_file()}: {exc}",
                                    store.HINTS[kind].format(path=paths.database_file()))
    except OSError as exc:
        raise errors.TelemetryError("logs repair", f"{exc.filename or paths.data_dir()}: "
                                    f"{exc.strerror or exc}",
                                    "check that the llm-shim data directory is writable")
    if result["status"] == "ok":
        stream.write(f"{paths.database_file()} passed the integrity check; nothing to repair "
                     "(use --force to rebuild anyway)\n")
    else:
        salvaged = result["salvaged"]
        stream.write(f"moved the damaged database to {result['quarantined']} "
                     f"({result['problem']}); salvaged {salvaged.get('attempts', 0)} attempts "
                     f"and {salvaged.get('counters', 0)} counter rows\n")
    imported = ingest.ingest()
    stream.write(f"imported {imported} rows from the spool\n")
    return 0
