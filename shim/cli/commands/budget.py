"""`llm-shim budget`: every budget with its spend, limit, percentage and reset time, the calls
in flight, the rate limits and the active cooldowns. `--json` prints the same as one object
(shape in docs/policies.md). The spool is imported first, so the figures are current.
"""

import json
import sys

from shim.cli.common import iso_utc, open_store
from shim.policy import budgets as budget_rules


def add_parser(subparsers, common):
    from shim.cli.common import add_command

    p = add_command(
        subparsers, common, "budget",
        help="show budgets, spend, reservations in flight, rate limits and cooldowns",
        description="Show where every budget of the config stands in its current period "
                    "(spent, limit, percentage, type, reset time, reservations in flight), "
                    "the rate limits' recent use and the tools/models cooling down.",
        examples=["llm-shim budget", "llm-shim budget --json",
                  "llm-shim budget --clear-cooldowns"])
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--clear-cooldowns", action="store_true",
                   help="forget every cooldown (a tool that recovered is used again at once)")
    p.set_defaults(func=lambda args: show_budget(as_json=args.json,
                                                 clear_cooldowns=args.clear_cooldowns))


def show_budget(as_json=False, clear_cooldowns=False, cfg=None, stream=None, now=None):
    from shim.config import compiled
    from shim import team
    from shim.policy.budget_report import budget_report
    from shim.telemetry import imports, ingest

    stream = stream or sys.stdout
    cfg = cfg if cfg is not None else compiled.load()
    conn = open_store("budget")
    try:
        ingest.ingest(conn, cfg=cfg)
        imports.refresh(conn, cfg, what="budget")
        report, cleared = budget_report(conn, cfg, now, clear_cooldowns,
                                        team.budget_hooks(cfg))
    finally:
        conn.close()
    if cleared is not None and not as_json:
        stream.write(f"cleared {cleared} cooldown(s)\n")
    if as_json:
        json.dump(to_json(report), stream, indent=1, ensure_ascii=False)
        stream.write("\n")
    else:
        print_report(report, stream)
    return 0


def to_json(report):
    out = {"now": iso_utc(report["now"]), "budgets": [], "rate_limits": report["rate_limits"],
           "reservations": [], "cooldowns": []}
    for row in report["budgets"]:
        row = dict(row)
        row["start"] = iso_utc(row["start"])
        row["reset_at"] = iso_utc(row["reset_at"])
        out["budgets"].append(row)
    for row in report["reservations"]:
        row = dict(row)
        row["created_at"] = iso_utc(row["created_at"])
        row["settled"] = bool(row["settled"])
        row["override"] = bool(row["override"])
        out["reservations"].append(row)
    for row in report["cooldowns"]:
        row = dict(row)
        row["until"] = iso_utc(row["until"])
        row["set_at"] = iso_utc(row["set_at"])
        out["cooldowns"].append(row)
    return out


NO_BUDGETS = """no budgets configured. To start, add to the config file
(`llm-shim config path` names it):

policies:
  budgets:
    month:     {scope: global, period: month, limit: {usd: 100, type: soft}}
    codex-day: {scope: tool, match: codex, period: day, limit: {usd: 10, type: hard}}

then `llm-shim budget` shows each one's spend, headroom and reset time (docs/policies.md)
"""


def print_report(report, stream):
    from tabulate import tabulate

    usd = budget_rules.usd
    if not report["budgets"]:
        stream.write(NO_BUDGETS)
    else:
        table = []
        for r in report["budgets"]:
            scope = r["scope"] if r["scope"] == "global" else f"{r['scope']} {r['match']}"
            period = r["period"] if r["period"] != "rolling" else f"rolling {r['window']}"
            kind = r["type"] + (f", downgrade at {r['downgrade_at']:.0%}"
                                if r["action"] == "downgrade" else "")
            flight = f"{r['in_flight_calls']} ({usd(r['in_flight_usd'])})" \
                if r["in_flight_calls"] else "-"
            resets = budget_rules.duration(r["resets_in_seconds"]) \
                if r["resets_in_seconds"] is not None else "-"
            # Reservations standing in for a cost no row has (unknown, or not ingested yet).
            spent = usd(r["spent_usd"]) + ("*" if r["pending_usd"] > 0 else "")
            table.append([r["name"], scope, period, spent, usd(r["limit_usd"]),
                          f"{r['percent']:.0f}%", kind, r["state"], resets, flight])
        stream.write(tabulate(table, headers=["budget", "scope", "period", "spent", "limit",
                                              "used", "type", "state", "resets in",
                                              "in flight"],
                              disable_numparse=True) + "\n")
        for r in report["budgets"]:
            if r["pending_usd"] > 0:
                stream.write(f"* {r['name']}: includes {usd(r['pending_usd'])} counted at its "
                             "reservation (calls whose cost is unknown or not ingested yet)\n")
    if report["rate_limits"]:
        stream.write("\n")
        table = []
        for r in report["rate_limits"]:
            scope = r["scope"] if r["scope"] == "global" else f"{r['scope']} {r['match']}"
            table.append([r["name"], scope,
                          _of(r["calls_last_minute"], r["calls_per_minute"]),
                          _of(r["calls_last_hour"], r["calls_per_hour"]),
                          _of(r["tokens_last_hour"], r["tokens_per_hour"]),
                          f"{r['on_limit']}" + (f" (max {r['max_wait']:g}s)"
                                                if r["on_limit"] == "wait" else "")])
        stream.write(tabulate(table, headers=["rate limit", "scope", "calls/min", "calls/hour",
                                              "tokens/hour", "at the limit"],
                              disable_numparse=True) + "\n")
        stream.write("tokens: input + cache read + cache write + output (reasoning inside "
                     "output; docs/telemetry.md)\n")
    flying = [r for r in report["reservations"] if not r["settled"]]
    if flying:
        stream.write(f"\n{len(flying)} call(s) in flight: " + ", ".join(
            f"{r['tool']} {r['model'] or ''} ~{usd(r['cost_usd'])} (pid {r['pid']}, "
            f"{budget_rules.duration(report['now'] - r['created_at'])} ago)".replace("  ", " ")
            for r in flying) + "\n")
    if report["cooldowns"]:
        stream.write("\ncooling down: " + ", ".join(
            f"{c['kind']} {c['name']} ({c['failure_class']}, "
            f"{budget_rules.duration(c['seconds_left'])} left)"
            for c in report["cooldowns"]) + "\n")
    return None


def _of(used, allowed):
    return f"{used}/{allowed}" if allowed else f"{used}"
