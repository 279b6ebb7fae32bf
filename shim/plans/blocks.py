"""5-hour blocks, as ccusage's `blocks` cuts them, per tool.

Rules (ccusage `identifySessionBlocks`, in `block_starts`, the one definition): calls are taken
in time order; the first call opens a block whose start is its time floored to the whole UTC
hour and whose end is start + 5 h; a call more than 5 h after its block's start (and so any
call more than 5 h after the previous one) closes the block and opens the next one the same
way. When the pause between two calls was longer
than 5 h a gap (last call + 5 h .. next call) is listed between them. A block is active while
now is before its end and less than 5 h after its last call.

Burn rate is the block's cost over the time from its first to its last call (None for a single
instant); the projection at the end of an active block adds that rate over the time left.
Pure functions over plain rows; floors are on UTC hours, so a time zone (or a DST change)
moves only how the times are printed, never where a block starts.
"""

BLOCK_SECONDS = 5 * 3600
TOKEN_KINDS = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens")


def floor_hour(at):
    return float(int(at // 3600) * 3600)


def compute(rows, now, block_seconds=BLOCK_SECONDS):
    """Blocks and gaps from `rows` (dicts: started_at, tool, the TOKEN_KINDS, cost_usd), per
    tool, in time order within each tool. Each is a dict (see `_block`)."""
    by_tool = {}
    for row in sorted(rows, key=lambda r: r["started_at"]):
        by_tool.setdefault(row.get("tool") or "?", []).append(row)
    out = []
    for tool in sorted(by_tool):
        out.extend(_tool_blocks(tool, by_tool[tool], now, block_seconds))
    return out


def block_starts(times, start=None, block_seconds=BLOCK_SECONDS):
    """The start of the block holding each of the sorted `times` (epoch seconds): the one
    definition of the block rule, for `report --blocks`, the status line, quotas and `watch`.
    `start`: the block already running before the first of them, if any.

    A time more than 5 h after its block's start opens the next block, floored to the hour.
    ccusage also closes a block after a pause of more than 5 h; that follows from this rule
    (the previous call is at or after its block's start), so it needs no code of its own."""
    out = []
    for at in times:
        if start is None or at - start > block_seconds:
            start = floor_hour(at)
        out.append(start)
    return out


def _tool_blocks(tool, rows, now, block_seconds):
    starts = block_starts([row["started_at"] for row in rows], block_seconds=block_seconds)
    blocks = []
    begin = 0
    for i in range(1, len(rows) + 1):
        if i < len(rows) and starts[i] == starts[begin]:
            continue
        group = rows[begin:i]
        if blocks and group[0]["started_at"] - blocks[-1]["last_at"] > block_seconds:
            blocks.append(_gap(tool, blocks[-1]["last_at"] + block_seconds,
                               group[0]["started_at"]))
        blocks.append(_block(tool, starts[begin], group, now, block_seconds))
        begin = i
    return blocks


def _gap(tool, start, end):
    return {"tool": tool, "gap": True, "start": start, "end": end, "active": False,
            "calls": 0, "first_at": None, "last_at": None,
            **{k: 0 for k in TOKEN_KINDS}, "cost_usd": 0.0, "unpriced_calls": 0,
            "burn_usd_per_hour": None, "projected_usd": None}


def _block(tool, start, rows, now, block_seconds):
    end = start + block_seconds
    first, last = rows[0]["started_at"], rows[-1]["started_at"]
    block = {"tool": tool, "gap": False, "start": start, "end": end,
             "active": now < end and now - last < block_seconds,
             "calls": len(rows), "first_at": first, "last_at": last}
    for kind in TOKEN_KINDS:
        block[kind] = sum(int(r.get(kind) or 0) for r in rows)
    block["cost_usd"] = sum(float(r["cost_usd"]) for r in rows if r.get("cost_usd") is not None)
    # Unknown is not zero: calls without a price are counted, so the cost reads "at least".
    block["unpriced_calls"] = sum(1 for r in rows if r.get("cost_usd") is None)
    span = last - first
    block["burn_usd_per_hour"] = block["cost_usd"] * 3600.0 / span if span > 0 else None
    block["projected_usd"] = None
    if block["active"] and block["burn_usd_per_hour"] is not None:
        left = max(0.0, end - now)
        block["projected_usd"] = block["cost_usd"] + block["burn_usd_per_hour"] * left / 3600.0
    return block


def current(rows, now, tool=None, block_seconds=BLOCK_SECONDS):
    """The active block of `tool` (or of any tool, the latest), or None."""
    active = [b for b in compute(rows, now, block_seconds)
              if b["active"] and (tool is None or b["tool"] == tool)]
    return max(active, key=lambda b: b["start"]) if active else None


def load_rows(conn, since, tools=None):
    """The recorded calls since `since` (epoch seconds) from the `spend` view (attempts and
    privacy-off counters alike); refused calls ran nothing and are left out."""
    sql = ("SELECT started_at, tool, input_tokens, cache_read_tokens, cache_write_tokens, "
           "output_tokens, cost_usd FROM spend WHERE blocked = 0 AND started_at >= ?")
    args = [since]
    if tools:
        sql += " AND tool IN (%s)" % ", ".join("?" for _ in tools)
        args += list(tools)
    keys = ("started_at", "tool") + TOKEN_KINDS + ("cost_usd",)
    return [dict(zip(keys, row)) for row in conn.execute(sql, args)]
