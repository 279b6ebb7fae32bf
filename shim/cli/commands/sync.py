"""`llm-shim sync`: push this machine's new rows to the team store now (docs/team.md)."""

import json
import sys
import time

EXAMPLES = [
    "llm-shim sync                 # import the spool, push every new row to the team store",
    "llm-shim sync --status        # rows waiting, where they go, the last sync",
    "llm-shim sync --json          # attempts, counters (new), updated, deleted, sent, waiting",
]


def add_parser(subparsers, common):
    from shim.cli.common import add_command

    p = add_command(
        subparsers, common, "sync",
        help="push new local calls to the team store (team: in the config)",
        description="Import the spool into the local store, then push every row not yet in the "
                    "team's PostgreSQL store. Shims already do this in the background after each "
                    "call; run it to catch up at once (after the store was down, say). Safe to "
                    "interrupt and to run again: rows are never duplicated.",
        examples=EXAMPLES)
    p.add_argument("--status", action="store_true",
                   help="show what is waiting and the last sync instead of syncing")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=lambda args: run_sync(status_only=args.status, as_json=args.json))


def run_sync(*, status_only=False, as_json=False, stream=None):
    """Sync (or show the sync status). Returns the exit code."""
    from shim import team
    from shim.team import pg, sync

    stream = stream or sys.stdout
    settings, cfg = team.require_settings("sync")
    where = pg.describe(settings)
    if status_only:
        info = _status()
        info.update(team=settings["name"], store=pg.target(settings))
        if as_json:
            stream.write(json.dumps(info) + "\n")
            return 0
        last = info["last_sync_at"]
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(last)) if last else "never"
        stream.write(f"{where}: {info['waiting']} row(s) waiting; last sync {when}\n")
        if info["last_error"]:
            stream.write(f"last error: {info['last_error']}\n")
        return 0
    stats = sync.sync(settings, cfg)
    stats.update(team=settings["name"], store=pg.target(settings))
    if as_json:
        stream.write(json.dumps(stats) + "\n")
    else:
        same = (stats["sent"] - stats["attempts"] - stats["counters"] - stats["updated"]
                - stats["deleted"])
        changed = "".join(f"{stats[k]} {word}, " for k, word in (("updated", "updated"),
                                                                   ("deleted", "removed"))
                          if stats[k])
        stream.write(f"pushed {stats['attempts']} attempt(s) and {stats['counters']} "
                     f"counter row(s) to {where} in {stats['seconds']:.2f}s "
                     f"({changed}{same} already there); {stats['waiting']} waiting\n")
    return 0


def _status():
    from shim.cli.common import open_store
    from shim.team import sync

    conn = open_store("sync")
    try:
        return sync.status(conn)
    finally:
        conn.close()
