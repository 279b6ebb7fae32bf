"""5-hour blocks as ccusage cuts them (shim/plans/blocks.py) and `report --blocks`."""

import calendar
import json
import subprocess
import sys
import time

import pytest

from shim.plans import blocks
from shim.report import blocks as report_blocks

H = 3600.0


def utc(text):
    """Epoch seconds of a 'YYYY-MM-DD HH:MM' UTC time."""
    return float(calendar.timegm(time.strptime(text, "%Y-%m-%d %H:%M")))


def call(at, tool="claude", cost=0.10, **tokens):
    row = {"started_at": at, "tool": tool, "input_tokens": 100, "cache_read_tokens": 1000,
           "cache_write_tokens": 10, "output_tokens": 50, "cost_usd": cost}
    row.update(tokens)
    return row


def test_a_block_starts_on_the_hour_of_its_first_call_and_lasts_five_hours():
    got = blocks.compute([call(utc("2026-05-01 10:55")), call(utc("2026-05-01 14:30"))],
                         now=utc("2026-06-01 00:00"))
    assert len(got) == 1
    assert got[0]["start"] == utc("2026-05-01 10:00")
    assert got[0]["end"] == utc("2026-05-01 15:00")
    assert got[0]["calls"] == 2 and not got[0]["active"]


def test_a_call_past_the_block_end_opens_the_next_block_without_a_gap():
    # 10:55 opens 10:00-15:00; 15:20 is 5h20m after the start but 1h after the last call.
    got = blocks.compute([call(utc("2026-05-01 10:55")), call(utc("2026-05-01 14:20")),
                          call(utc("2026-05-01 15:20"))], now=utc("2026-06-01 00:00"))
    assert [(b["start"], b["gap"], b["calls"]) for b in got] == [
        (utc("2026-05-01 10:00"), False, 2), (utc("2026-05-01 15:00"), False, 1)]


def test_a_pause_longer_than_five_hours_leaves_a_gap_between_blocks():
    got = blocks.compute([call(utc("2026-05-01 10:10")), call(utc("2026-05-01 16:40"))],
                         now=utc("2026-06-01 00:00"))
    assert [b["gap"] for b in got] == [False, True, False]
    gap = got[1]
    assert gap["start"] == utc("2026-05-01 15:10")  # last call + 5 h
    assert gap["end"] == utc("2026-05-01 16:40")    # the next call
    assert got[2]["start"] == utc("2026-05-01 16:00")


def test_exactly_five_hours_after_the_start_is_still_the_same_block():
    got = blocks.compute([call(utc("2026-05-01 10:00")), call(utc("2026-05-01 15:00"))],
                         now=utc("2026-06-01 00:00"))
    assert len(got) == 1 and got[0]["calls"] == 2


def test_a_block_runs_across_midnight():
    got = blocks.compute([call(utc("2026-05-01 22:30")), call(utc("2026-05-02 01:45"))],
                         now=utc("2026-06-01 00:00"))
    assert len(got) == 1
    assert (got[0]["start"], got[0]["end"]) == (utc("2026-05-01 22:00"), utc("2026-05-02 03:00"))


def test_tools_have_their_own_blocks():
    got = blocks.compute([call(utc("2026-05-01 10:10")), call(utc("2026-05-01 12:10"), "codex")],
                         now=utc("2026-06-01 00:00"))
    assert [(b["tool"], b["start"]) for b in got] == [
        ("claude", utc("2026-05-01 10:00")), ("codex", utc("2026-05-01 12:00"))]


def test_tokens_cost_burn_rate_and_projection_of_the_active_block():
    now = utc("2026-05-01 12:00")
    rows = [call(utc("2026-05-01 10:30"), cost=0.50), call(utc("2026-05-01 11:30"), cost=1.00),
            call(utc("2026-05-01 11:45"), cost=None)]
    [block] = blocks.compute(rows, now)
    assert block["active"]
    assert block["input_tokens"] == 300 and block["cache_read_tokens"] == 3000
    assert block["cache_write_tokens"] == 30 and block["output_tokens"] == 150
    assert block["cost_usd"] == pytest.approx(1.50)
    assert block["unpriced_calls"] == 1  # unknown is not zero: counted, not added as $0
    assert block["burn_usd_per_hour"] == pytest.approx(1.50 / 1.25)   # 10:30 -> 11:45
    assert block["projected_usd"] == pytest.approx(1.50 + 1.20 * 3)   # 12:00 -> 15:00
    assert blocks.current(rows, now, "claude") == block
    # Five hours after the last call the block is over, even inside its own end time.
    assert not blocks.compute(rows, utc("2026-05-01 16:46"))[0]["active"]


@pytest.mark.parametrize("zone, start, end", [
    # US spring forward on 2026-03-08 at 02:00 local: the block is 5 real hours, 6 on the clock.
    ("America/New_York", "2026-03-08T00:00:00-05:00", "2026-03-08T06:00:00-04:00"),
    # A half-hour zone: blocks still start on whole UTC hours.
    ("Asia/Kolkata", "2026-03-08T10:30:00+05:30", "2026-03-08T15:30:00+05:30"),
])
def test_a_time_zone_or_a_dst_change_moves_only_how_times_print(zone, start, end, monkeypatch):
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        rows = [call(utc("2026-03-08 05:20")), call(utc("2026-03-08 08:40"))]
        [block] = blocks.compute(rows, now=utc("2026-04-01 00:00"))
        assert block["end"] - block["start"] == 5 * H
        doc = json.loads(report_blocks.to_json([dict(block, official_used_pct=None)], None,
                                               None, utc("2026-04-01 00:00")))
        assert (doc["blocks"][0]["start"], doc["blocks"][0]["end"]) == (start, end)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def _store_calls(rows):
    from shim.telemetry import store

    conn = store.connect()
    with store.transaction(conn):
        store.insert_attempts(conn, [dict(r, invocation_id=f"c{n}", attempt=1,
                                          cost_source="computed")
                                     for n, r in enumerate(rows)])
    return conn


def test_report_blocks_json_csv_and_table(isolated_env):
    from shim.plans import snapshots

    now = time.time()
    conn = _store_calls([call(now - 2 * H, cost=0.40), call(now - H, cost=0.60),
                         call(now - 30 * H, "codex", cost=None)])
    snapshots.record(conn, [{"tool": "claude", "window": "five_hour", "used_pct": 37.0,
                             "resets_at": now + 3 * H, "status": None}], "statusline")
    conn.close()

    def run(*args):
        proc = subprocess.run([sys.executable, "-m", "shim", "report", "--blocks", *args],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    doc = json.loads(run("--json", "--tz", "UTC"))
    active = [b for b in doc["blocks"] if b["active"]]
    assert len(active) == 1 and active[0]["tool"] == "claude"
    assert active[0]["calls"] == 2 and active[0]["cost_usd"] == pytest.approx(1.0)
    assert active[0]["official_used_pct"] == 37.0
    assert active[0]["burn_usd_per_hour"] == pytest.approx(1.0)
    codex = [b for b in doc["blocks"] if b["tool"] == "codex"]
    assert codex[0]["unpriced_calls"] == 1 and codex[0]["official_used_pct"] is None
    csv_lines = run("--csv", "--tool", "codex").splitlines()
    assert csv_lines[0].startswith("tool,start,end,active,gap,calls")
    assert len(csv_lines) == 2 and csv_lines[1].startswith("codex,")
    table = run()
    assert "ACTIVE" in table and "37%" in table and ">= $0.00 (1 unpriced)" in table
