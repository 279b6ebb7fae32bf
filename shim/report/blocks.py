"""`llm-shim report --blocks`: the 5-hour blocks of each tool (shim.plans.blocks), with the
official used % of the 5-hour window where a plan snapshot was seen in the block.

Table (tabulate), `--json` (`{"generated_at", "timezone", "since", "blocks": [...]}`, times as
ISO 8601 with their offset and as epoch seconds) and `--csv` (one line per block, gaps
included, RFC 4180). docs/plans.md describes every field.
"""

import time

from shim.plans import blocks as plan_blocks

DEFAULT_DAYS = 3          # as ccusage: the recent blocks, and the active one
FIELDS = ("tool", "start", "end", "active", "gap", "calls", "input_tokens",
          "cache_read_tokens", "cache_write_tokens", "output_tokens", "cost_usd",
          "unpriced_calls", "burn_usd_per_hour", "projected_usd", "official_used_pct")


def compute(conn, since=None, tools=None, now=None):
    """The blocks since `since` (epoch seconds; default: the last DEFAULT_DAYS days), each
    with `official_used_pct` (the newest five_hour snapshot seen inside it, or None)."""
    now = time.time() if now is None else now
    since = now - DEFAULT_DAYS * 86400 if since is None else since
    # Calls up to two blocks earlier decide where the first block in range starts.
    rows = plan_blocks.load_rows(conn, since - 2 * plan_blocks.BLOCK_SECONDS, tools)
    out = []
    for block in plan_blocks.compute(rows, now):
        if block["end"] <= since:
            continue
        block = dict(block)
        block["official_used_pct"] = None
        if not block["gap"]:
            row = conn.execute(
                "SELECT used_pct FROM plan_snapshots WHERE tool = ? AND plan_window = "
                "'five_hour' AND used_pct IS NOT NULL AND seen_at >= ? AND seen_at < ? "
                "ORDER BY seen_at DESC, id DESC LIMIT 1",
                (block["tool"], block["start"], block["end"])).fetchone()
            block["official_used_pct"] = row[0] if row else None
        out.append(block)
    return out


def _zone(name):
    from shim.report import periods

    return periods.resolve_zone(name)


def iso(at, tz=None):
    import datetime

    return datetime.datetime.fromtimestamp(at, tz).isoformat(timespec="seconds")


def _short(at, tz):
    return iso(at, tz)[:16].replace("T", " ")


def to_json(found, tz_name=None, since=None, now=None):
    import json

    tz = _zone(tz_name)
    now = time.time() if now is None else now
    doc = {"generated_at": iso(now, tz), "timezone": tz_name or "local",
           "since": iso(since, tz) if since else None, "blocks": []}
    for block in found:
        item = {k: block[k] for k in FIELDS}
        item["start"], item["end"] = iso(block["start"], tz), iso(block["end"], tz)
        item["start_epoch"], item["end_epoch"] = block["start"], block["end"]
        item["first_call"] = iso(block["first_at"], tz) if block["first_at"] else None
        item["last_call"] = iso(block["last_at"], tz) if block["last_at"] else None
        doc["blocks"].append(item)
    return json.dumps(doc, indent=2) + "\n"


def to_csv(found, tz_name=None):
    import csv
    import io

    tz = _zone(tz_name)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(FIELDS)
    for block in found:
        values = dict(block, start=iso(block["start"], tz), end=iso(block["end"], tz))
        writer.writerow(["" if values.get(k) is None else values[k] for k in FIELDS])
    return out.getvalue()


def _usd(value):
    return "" if value is None else f"${value:,.2f}"


def _count(value):
    return f"{value:,}"


def table(found, tz_name=None, now=None):
    """The blocks as a table; an unpriced call makes the cost read `>= $x` (unknown is not 0)."""
    from tabulate import tabulate

    tz = _zone(tz_name)
    if not found:
        return "No calls recorded in the range: no 5-hour blocks to show.\n"
    headers = ["tool", "start", "end", "state", "calls", "fresh in", "cache read",
               "cache write", "output", "cost", "$/h", "projected", "5h used"]
    body = []
    for b in found:
        if b["gap"]:
            body.append([b["tool"], _short(b["start"], tz), _short(b["end"], tz), "(gap)"]
                        + [""] * 9)
            continue
        cost = _usd(b["cost_usd"])
        if b["unpriced_calls"]:
            cost = ">= " + cost + f" ({b['unpriced_calls']} unpriced)"
        used = "" if b["official_used_pct"] is None else f"{b['official_used_pct']:.0f}%"
        body.append([b["tool"], _short(b["start"], tz), _short(b["end"], tz),
                     "ACTIVE" if b["active"] else "done", _count(b["calls"]),
                     _count(b["input_tokens"]), _count(b["cache_read_tokens"]),
                     _count(b["cache_write_tokens"]), _count(b["output_tokens"]), cost,
                     _usd(b["burn_usd_per_hour"]), _usd(b["projected_usd"]), used])
    align = ["left"] * 4 + ["right"] * 9
    text = tabulate(body, headers=headers, tablefmt="simple", colalign=align,
                    disable_numparse=True)
    note = ("\nBlocks as ccusage cuts them: 5 hours from the first call's hour; $/h over the "
            "time from its first to its last call; 5h used: the newest plan snapshot seen in "
            "the block (docs/plans.md).\n")
    return text + "\n" + note


def run(*, since=None, tools=None, timezone=None, fmt="table", db_path=None, now=None):
    """Text of the blocks report (ingests the spool first, like every report)."""
    import sqlite3

    from shim import errors, paths
    from shim.report import periods
    from shim.telemetry import ingest, store

    now = time.time() if now is None else now
    start = None
    if since:
        zone = periods.resolve_zone(timezone)
        start = periods.day_start(periods.parse_day(since, zone, now), zone)
    start = now - DEFAULT_DAYS * 86400 if start is None else start
    path = db_path or paths.database_file()
    try:
        conn = store.connect(path)
    except (sqlite3.Error, OSError) as exc:
        raise errors.TelemetryError("report", f"{path}: {exc}",
                                    "check the permissions of its directory") from None
    try:
        ingest.ingest(conn, db_path=path)
        found = compute(conn, start, tools, now)
    finally:
        conn.close()
    if fmt == "json":
        return to_json(found, timezone, start, now)
    if fmt == "csv":
        return to_csv(found, timezone)
    return table(found, timezone, now)
