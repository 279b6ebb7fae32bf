"""The current 5-hour block per tool, as ccusage defines one: a block starts at the first call
after the previous block ended, floored to the hour, and lasts 5 hours.

Read from the quarter-hour rollup (shim/report/rollup.py), never from the rows: block bounds
fall on whole hours, so a quarter-hour bucket lies wholly inside one block and the sums are
exact. ccusage also starts a block after a gap of more than 5 hours; that rule is implied by
the first (the previous call is at or after its block's start), so it needs no code.

The chain of blocks depends on every earlier call; it is followed from LOOKBACK_HOURS back.
Any 5-hour gap in that window makes it exact from there on; only a tool used without such a
gap for the whole window could see its blocks aligned differently from a full-history count.
(shim/report/blocks.py, written in parallel for `report --blocks`, computes the same: one of
the two should serve both.)
"""

BLOCK_SECONDS = 5 * 3600
HOUR = 3600
BUCKET = 900  # the fine rollup level (rollup.LEVELS[0])
LOOKBACK_HOURS = 7 * 24
TABLE = "report_rollup_15m"


def block_starts(times):
    """The start of the block holding each time of the sorted `times` (epoch seconds)."""
    out, start = [], None
    for t in times:
        if start is None or t >= start + BLOCK_SECONDS:
            start = t - t % HOUR
        out.append(start)
    return out


def current(conn, now):
    """{tool: {"start", "end", "calls", "tokens", "cost_usd", "unknown_cost", "burn_per_hour",
    "projected_usd"}} for every tool whose latest block is still running at `now`."""
    since = int((now - LOOKBACK_HOURS * HOUR) // BUCKET)
    rows = conn.execute(
        f"SELECT tool, bucket, SUM(attempts) - SUM(blocked), "
        f"SUM(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens), "
        f"SUM(cost_nusd), SUM(unknown_cost) FROM {TABLE} WHERE bucket >= ? "
        f"GROUP BY tool, bucket ORDER BY tool, bucket", (since,)).fetchall()
    per_tool = {}
    for tool, bucket, calls, tokens, nusd, unknown in rows:
        if calls:  # a refused call started nothing at the provider
            per_tool.setdefault(tool or "?", []).append((bucket * BUCKET, calls, tokens,
                                                         nusd, unknown))
    out = {}
    for tool, buckets in per_tool.items():
        starts = block_starts([b[0] for b in buckets])
        last = starts[-1]
        if now >= last + BLOCK_SECONDS:
            continue  # the latest block has ended: no block is active
        inside = [b for b, s in zip(buckets, starts) if s == last]
        cost = sum(b[3] for b in inside) / 1e9
        elapsed_h = max(now - last, 60.0) / HOUR
        burn = cost / elapsed_h
        out[tool] = {"start": last, "end": last + BLOCK_SECONDS,
                     "calls": sum(b[1] for b in inside), "tokens": sum(b[2] for b in inside),
                     "cost_usd": cost, "unknown_cost": sum(b[4] for b in inside),
                     "burn_per_hour": burn,
                     "projected_usd": cost + burn * (last + BLOCK_SECONDS - now) / HOUR}
    return out
