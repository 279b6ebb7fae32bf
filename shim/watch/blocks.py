"""The current 5-hour block per tool, by the one block rule (shim.plans.blocks.block_starts,
which `report --blocks`, the status line and quotas use too), read from the quarter-hour
rollup (shim/report/rollup.py) instead of the rows so a frame stays cheap.

Exact on the rollup: block bounds fall on whole hours, so a quarter-hour bucket lies wholly
inside one block and the sums are exact. The rule is fed each bucket's last second: a bucket
that begins at or after a block's end holds calls more than 5 h after its start (a new block,
floored to the bucket's hour), one that begins before it lies inside it. The only call the
rollup cannot place is one at exactly the block's end to the second (ccusage keeps it in the
old block; here it opens the next).

The chain of blocks depends on every earlier call; it is followed from LOOKBACK_HOURS back.
Any 5-hour gap in that window makes it exact from there on; only a tool used without such a
gap for the whole window could see its blocks aligned differently from a full-history count.
The burn rate here is the block's spend over the time since its start (what the live view
shows); `report --blocks` divides by its first-to-last-call span, as ccusage does.
"""

from shim.plans.blocks import BLOCK_SECONDS, block_starts  # noqa: F401  (block_starts: tests)

HOUR = 3600
BUCKET = 900  # the fine rollup level (rollup.LEVELS[0])
LOOKBACK_HOURS = 7 * 24
RECENT_SECONDS = 6 * 3600  # between full scans: this far back, from the known block starts
RESCAN_SECONDS = 60.0      # a full scan again (rows ingested late, a clock change)
TABLE = "report_rollup_15m"
TOKENS = "input_tokens + output_tokens + cache_read_tokens + cache_write_tokens"


class Tracker:
    """Follows each tool's blocks from frame to frame. The first frame (and one a minute)
    reads which quarter hours had calls over LOOKBACK_HOURS; the frames between read only the
    last RECENT_SECONDS, continuing from the block starts found before. Sums are read for
    the current blocks alone."""

    def __init__(self):
        self.starts = {}
        self.scanned_at = None

    def current(self, conn, now):
        """{tool: {"start", "end", "calls", "tokens", "cost_usd", "unknown_cost",
        "burn_per_hour", "projected_usd"}} for every tool whose latest block runs at `now`."""
        full = self.scanned_at is None or not 0 <= now - self.scanned_at < RESCAN_SECONDS
        seeds = {} if full else dict(self.starts)
        since = now - (LOOKBACK_HOURS * HOUR if full else RECENT_SECONDS)
        # a bucket counts when one of its calls ran (a refused call started nothing)
        rows = conn.execute(f"SELECT DISTINCT tool, bucket FROM {TABLE} WHERE bucket >= ? "
                            f"AND attempts > blocked ORDER BY tool, bucket",
                            (int(since // BUCKET),)).fetchall()
        times = {}
        for tool, bucket in rows:
            times.setdefault(tool, []).append(bucket * BUCKET + BUCKET - 1)  # its last second
        starts = dict(seeds) if not full else {}
        for tool, found in times.items():
            seed = seeds.get(tool)
            found = [t for t in found if seed is None or t >= seed]
            if found:
                starts[tool] = block_starts(found, seed)[-1]
        self.starts = starts
        if full:
            self.scanned_at = now
        out = {}
        for tool, start in sorted(starts.items()):
            if now < start + BLOCK_SECONDS:
                out[tool or "?"] = _sums(conn, tool, start, now)
        return out


def _sums(conn, tool, start, now):
    calls, tokens, nusd, unknown = conn.execute(
        f"SELECT SUM(attempts) - SUM(blocked), SUM({TOKENS}), SUM(cost_nusd), "
        f"SUM(unknown_cost) FROM {TABLE} WHERE bucket >= ? AND bucket < ? AND tool = ?",
        (int(start // BUCKET), int((start + BLOCK_SECONDS) // BUCKET), tool)).fetchone()
    cost = (nusd or 0) / 1e9
    burn = cost / (max(now - start, 60.0) / HOUR)
    return {"start": start, "end": start + BLOCK_SECONDS, "calls": calls or 0,
            "tokens": tokens or 0, "cost_usd": cost, "unknown_cost": unknown or 0,
            "burn_per_hour": burn,
            "projected_usd": cost + burn * (start + BLOCK_SECONDS - now) / HOUR}


def current(conn, now):
    """The current blocks, read afresh (one frame, `watch --once`)."""
    return Tracker().current(conn, now)
