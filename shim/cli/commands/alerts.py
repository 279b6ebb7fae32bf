"""`llm-shim alerts`: the recent alert deliveries (sent, failed and why, skipped);
`llm-shim alerts test [NAME]` sends a sample through every configured alert (or NAME) now,
in the foreground, and says how each went."""

import json
import sys
import time

from shim import errors, exitcodes
from shim.cli.common import open_store


def add_parser(subparsers, common):
    from shim.cli.common import add_command

    p = add_command(
        subparsers, common, "alerts",
        help="list recent alert deliveries; `alerts test` sends a sample",
        description="List the recent deliveries of policies.alerts (when, which alert, "
                    "budget, threshold, spend, sent or failed and why). `alerts test [NAME]` "
                    "sends a sample alert through every configured alert, or NAME, now.",
        examples=["llm-shim alerts", "llm-shim alerts --json", "llm-shim alerts test",
                  "llm-shim alerts test spend"])
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--limit", type=int, default=20, help="deliveries shown (default 20)")
    sub = p.add_subparsers(dest="alerts_command", metavar="SUBCOMMAND", parser_class=type(p))
    t = add_command(sub, common, "test", help="send a sample alert now",
                    description="Send a sample alert (a made-up budget at 80 percent) through every "
                                "configured alert, or NAME, now, and print how each went.",
                    examples=["llm-shim alerts test", "llm-shim alerts test spend"])
    t.add_argument("name", nargs="?", help="the alert to test (default: all)")
    t.set_defaults(func=lambda args: send_test(args.name))
    p.set_defaults(func=lambda args: show(as_json=args.json, limit=args.limit))


def show(as_json=False, limit=20, stream=None):
    from shim.alerts import deliver
    from shim.cli.common import iso_utc

    stream = stream or sys.stdout
    conn = open_store("alerts")
    try:
        rows = deliver.recent(conn, limit)
    finally:
        conn.close()
    if as_json:
        for row in rows:
            for key in ("period_start", "created_at", "delivered_at"):
                row[key] = iso_utc(row[key])
        json.dump({"alerts": rows}, stream, indent=1)
        stream.write("\n")
        return exitcodes.OK
    if not rows:
        stream.write("no alerts sent yet (policies.alerts; `llm-shim alerts test` sends a "
                     "sample; see docs/plans.md)\n")
        return exitcodes.OK
    from tabulate import tabulate

    table = [[time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r["created_at"])), r["alert"],
              f"{r['subject_kind']} {r['subject']}", f"{r['threshold']:.0%}",
              _used(r), r["status"],
              r["detail"] or ""] for r in rows]
    stream.write(tabulate(table, headers=["when", "alert", "about", "threshold", "spent",
                                          "status", "detail"], disable_numparse=True) + "\n")
    return exitcodes.OK


def _used(row):
    """`$8.00 of $10.00`; a quota's row has no dollars: `87% of the window`."""
    if row["spent_usd"] is None and row["subject_kind"] == "quota":
        return "unknown" if row["fraction"] is None else f"{row['fraction']:.0%} of the window"
    from shim.policy.budgets import usd

    return f"{usd(row['spent_usd'])} of {usd(row['limit_usd'])}"


def send_test(name=None, stream=None):
    from shim.alerts import check, config, deliver
    from shim.config import compiled

    stream = stream or sys.stdout
    cfg = compiled.load()
    alerts, refused = config.configured(cfg)
    for bad in refused:
        errors.warn("alerts", f"policies.alerts.{bad} is set in a project file",
                    "alerts run programs and send data: set them in your user config")
    if name is not None:
        alerts = [a for a in alerts if a["name"] == name]
    if not alerts:
        which = f"no alert named {name!r}" if name else "no alerts configured"
        raise errors.UsageError("alerts", which,
                                "add one under policies.alerts in your user config "
                                "(docs/plans.md \"Alerts\")")
    conn = open_store("alerts")
    failed = 0
    try:
        for alert in alerts:
            now = time.time()
            alert_id = check.claim(conn, alert, check.sample_subject(now), now, test=True)
            status, detail = deliver.deliver(conn, alert_id)
            failed += status != "sent"
            stream.write(f"{alert['name']}: {status} ({detail})\n")
    finally:
        conn.close()
    return exitcodes.ERROR if failed else exitcodes.OK
