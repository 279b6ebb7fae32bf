"""`llm-shim import`: read the usage the shims did not see from Claude Code transcripts, Codex
rollouts and llm's logs.db into the store (shim/telemetry/imports, docs/telemetry.md "Import").
"""

import json
import sqlite3
import sys

from shim import errors, exitcodes, paths
from shim.cli.common import open_store, store_error

EXAMPLES = [
    "llm-shim import                    # everything new since the last import",
    "llm-shim import --dry-run          # what a first import would read, without writing",
    "llm-shim import --since 2026-01-01 # skip older entries (they stay skipped)",
    "CLAUDE_CONFIG_DIR=~/.claude-work,~/.claude-home llm-shim import",
]


def add_parser(subparsers, common):
    from shim.cli.common import add_command

    p = add_command(
        subparsers, common, "import",
        help="import usage from the tools' own logs (IDE, daemons, before llm-shim)",
        description="Read Claude Code transcripts (every config dir), Codex rollouts (plain "
                    "and .zst, archived too) and llm's logs.db, and store the usage that did "
                    "not pass through a shim, marked source=import. Incremental: only what "
                    "changed since the last run is read; every entry counts once. report, "
                    "logs, budget and budget admission run this automatically "
                    "(LLM_SHIM_IMPORT=off turns that off).",
        examples=EXAMPLES)
    p.add_argument("--since", metavar="DATE",
                   help="skip entries before this local day (YYYY-MM-DD, 7d, 3m, ...)")
    p.add_argument("--dry-run", action="store_true",
                   help="read and count, write nothing")
    p.add_argument("--reset", action="store_true",
                   help="forget what was read: read every file again (rows never duplicate)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=_run)


def _run(args):
    return run_import(since=args.since, dry_run=args.dry_run, reset=args.reset,
                      as_json=args.json)


def run_import(*, since=None, dry_run=False, reset=False, as_json=False, stream=None,
               db_path=None, environ=None):
    from shim.telemetry import imports, ingest

    stream = stream or sys.stdout
    since_epoch = _since(since) if since else None
    path = db_path or paths.database_file()
    # A first import into a new store: the workers start on the files before the store is
    # made (its migrations), the ingest and the lock.
    early = None if dry_run else imports.start_early(path, environ)
    try:
        conn = open_store("import", path)
    except BaseException:
        if early is not None:
            early.close()
        raise
    try:
        ingest.ingest(conn, db_path=path)
        with imports.lock(blocking=True):
            if reset and not dry_run:
                imports.forget_files(conn)
            summary = imports.run(conn, environ=environ, since=since_epoch, dry_run=dry_run,
                                  early=early)
    except sqlite3.Error as exc:
        raise store_error("import", exc, path) from None
    finally:
        if early is not None:
            early.close()
        conn.close()
    summary["dry_run"] = dry_run
    stream.write(json.dumps(summary, indent=2) + "\n" if as_json else _text(summary))
    reasons = summary.get("unreadable_reasons") or {}
    for unreadable in summary["unreadable"][:5]:
        errors.warn("import", f"cannot read {unreadable}: {reasons.get(unreadable) or '?'}",
                    "the other files were imported; this one is tried again next time")
    if len(summary["unreadable"]) > 5:
        errors.warn("import", f"{len(summary['unreadable']) - 5} more log files could not be "
                    "read", "run `llm-shim import --json` for the list")
    # Some usage could not be read: a script must not take the import for complete.
    return exitcodes.ERROR if summary["unreadable"] else exitcodes.OK


def _since(text):
    from shim.report import periods

    zone = periods.resolve_zone("local")
    try:
        day = periods.parse_day(text, zone)
    except errors.UsageError:
        raise errors.UsageError("import", f"cannot read the date {text!r}",
                                "use YYYY-MM-DD, today, yesterday, or a count like 7d, 4w, "
                                "3m") from None
    return periods.day_start(day, zone)


def _text(summary):
    verb = "would import" if summary["dry_run"] else "imported"
    lines = [f"{summary['files']} log files, {summary['changed']} changed, "
             f"{summary['read']} read: {summary['entries']} entries"]
    if not summary["tokens"]:
        lines.append(f"{verb} nothing new")
    for tool, (fresh, out, read, write) in sorted(summary["tokens"].items()):
        lines.append(f"{verb} {tool}: {fresh:,} input, {out:,} output, {read:,} cache read, "
                     f"{write:,} cache write tokens")
    if summary["tokens"]:
        cost = f"${summary['cost_usd']:,.2f}"
        if summary["unpriced"]:
            cost += f" (+ {summary['unpriced']} entries of unpriced models: see `llm-shim report`)"
        lines.append(f"cost {cost}")
    if summary["counted_by_shim"]:
        lines.append(f"{summary['counted_by_shim']} entries already counted by the shim "
                     "(skipped)")
    if summary.get("malformed"):
        lines.append(f"{summary['malformed']} entries skipped: malformed (a field of the wrong "
                     "type or range)")
    if summary["before_since"]:
        lines.append(f"{summary['before_since']} entries before --since (skipped; a later "
                     "import does not read them: `llm-shim import --reset` reads every file "
                     "again)")
    if summary["remaining"]:
        lines.append(f"{summary['remaining']} files left for the next run")
    return "\n".join(lines) + "\n"
