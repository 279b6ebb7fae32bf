"""`llm-shim watch`: one frame (`--once`, plain and rich) and the live view under a pty,
against the store and spool filled by real shims in front of a fake claude."""

import io
import os
import subprocess
import sys
import time

import pytest

from tests.watch.conftest import TEN_CENTS_MODEL

ARGV = ["claude", "-p", "hi", "--model", "dime", "--output-format", "json"]


def config(shim_env, limit=1.0, **policies):
    shim_env.config({"models": {"dime": TEN_CENTS_MODEL},
                     "agents": {"reviewer": {"tool": "claude"}},
                     "policies": {"budgets": {"daily": {
                         "scope": "global", "period": "day",
                         "limit": {"usd": limit, "type": "soft"}}}, **policies}})


def watch_once(shim_env, *extra):
    proc = shim_env.run(["llm-shim", "watch", "--once", *extra])
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout.decode()


def section(text, title):
    """The indented lines under the heading that starts with `title`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    out = []
    for line in lines[start + 1:]:
        if not line.startswith("  "):
            break
        out.append(line.strip())
    return lines[start], out


def test_once_plain_shows_spend_blocks_budget_and_refusals(shim_env):
    config(shim_env, limit=0.30)
    for _ in range(3):
        assert shim_env.run(ARGV, env={"LLM_SHIM_AGENT": "reviewer"}).returncode == 0
    text = watch_once(shim_env)  # stdout is a pipe: plain text
    assert "\x1b[" not in text
    head, rows = section(text, "Today")
    assert head.endswith(": $0.30")
    assert rows == ["reviewer  dime  3 calls  $0.30"], rows
    _, blocks = section(text, "5-hour blocks")
    assert len(blocks) == 1 and blocks[0].startswith("claude") and "3 calls" in blocks[0]
    assert "$0.30" in blocks[0] and "left" in blocks[0]
    _, budgets = section(text, "Budgets")
    assert budgets[0].startswith("daily  [" + "#" * 24 + "]  100%"), budgets
    assert "headroom $0.00" in budgets[0]
    _, running = section(text, "Running now")
    assert running == ["nothing running"]


def test_once_lists_refused_calls_and_budget_headroom(shim_env):
    shim_env.config({"models": {"dime": TEN_CENTS_MODEL},
                     "policies": {"budgets": {"tight": {
                         "scope": "global", "period": "day",
                         "limit": {"usd": 0.25, "type": "hard"}, "reserve_usd": 0.10}}}})
    codes = [shim_env.run(ARGV).returncode for _ in range(3)]
    assert codes == [0, 0, 75]
    text = watch_once(shim_env)
    _, budgets = section(text, "Budgets")
    assert budgets[0].startswith("tight  [" + "#" * 19 + "-" * 5 + "]  80%"), budgets
    assert "headroom $0.05" in budgets[0]
    _, events = section(text, "Recent fallbacks and blocks")
    assert len(events) == 1 and "blocked  claude" in events[0], events


def _start_line(pid, age, invocation):
    from shim.telemetry import spool

    now = time.time()
    spool.append({"v": 1, "kind": "start", "invocation_id": invocation, "attempt": 1,
                  "started_at": now - age, "host": os.uname().nodename, "pid": pid,
                  "record": {"invocation_id": invocation, "attempt": 1, "tool": "codex",
                             "model": "gpt-5.5", "agent": "auto", "mode": "oneshot",
                             "started_at": now - age}})


def test_once_shows_running_calls_and_the_one_whose_shim_died(shim_env):
    config(shim_env)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    try:
        time.sleep(1.1)  # the start line must not predate its process (pid reuse check)
        _start_line(sleeper.pid, 0.0, "alive0001")
        _start_line(dead.pid, 20.0, "dead0002")
        _start_line(dead.pid, 90.0, "dead0003")  # past KILLED_AFTER: ingestion records it
        text = watch_once(shim_env)
    finally:
        sleeper.kill()
        sleeper.wait()
    head, running = section(text, "Running now")
    assert head == "Running now (2)"
    assert running[0].startswith("codex  gpt-5.5  agent auto") and \
        f"died (pid {dead.pid} gone)" in running[0], running
    assert "  running " in running[1] and f"pid {sleeper.pid}" in running[1], running
    _, events = section(text, "Recent fallbacks and blocks")
    assert len(events) == 1 and "killed  codex  gpt-5.5  killed" in events[0], events


def test_a_call_with_its_end_record_is_not_running(shim_env):
    config(shim_env)
    assert shim_env.run(ARGV).returncode == 0  # start line and end record both spooled
    from shim.cli.commands import watch
    from shim.config import compiled

    conn = shim_env.db()
    try:
        frame = watch.frame(conn, compiled.load())
    finally:
        conn.close()
    assert frame["running"] == [] and frame["problems"] == []
    assert frame["today"]["rows"][0]["calls"] == 1


def test_once_rich_draws_bars(shim_env):
    pytest.importorskip("rich")
    from rich.console import Console

    from shim.cli.commands import watch
    from shim.config import compiled
    from shim.watch import render

    config(shim_env, limit=0.40)
    assert shim_env.run(ARGV).returncode == 0
    conn = shim_env.db()
    try:
        frame = watch.frame(conn, compiled.load())
    finally:
        conn.close()
    sink = io.StringIO()
    Console(file=sink, force_terminal=True, width=130).print(render.rich_view(frame))
    out = sink.getvalue()
    assert "\x1b[" in out and "━" in out  # a drawn progress bar, in colour
    assert "daily" in out and "25%" in out and "headroom $0.30" in out
    assert "Today" in out and "$0.10" in out


def test_interval_too_short_is_a_usage_error(shim_env):
    config(shim_env)
    proc = shim_env.run(["llm-shim", "watch", "--interval", "0.01"])
    assert proc.returncode == 2
    assert proc.stderr.decode().startswith("llm-shim: watch: --interval 0.01 is too short")


def test_block_starts_follow_ccusage():
    from shim.watch.blocks import block_starts

    h = 3600
    base = 1_700_000_000 - 1_700_000_000 % h  # a whole hour
    times = [base + 20 * 60, base + 2 * h, base + 5 * h + 10 * 60,  # 3rd: past 5h -> new
             base + 5 * h + 30 * 60, base + 16 * h + 59 * 60]        # a 10h gap -> new
    assert block_starts(times) == [base, base, base + 5 * h, base + 5 * h, base + 16 * h]


def test_current_block_from_the_rollup(shim_env):
    from shim.telemetry import store
    from shim.watch import blocks

    h = 3600
    now = 1_800_000_000 - 1_800_000_000 % h + 40 * 60  # hh:40
    conn = store.connect()
    try:
        for i, (at, cost) in enumerate([(now - 9 * h, 1.0), (now - 2 * h - 10 * 60, 0.25),
                                        (now - 30 * 60, 0.5)]):
            conn.execute("INSERT INTO attempts (invocation_id, attempt, started_at, tool, "
                         "cost_usd, input_tokens, output_tokens) VALUES (?, 1, ?, 'claude', "
                         "?, 100, 10)", (f"inv{i}", at, cost))
        current = blocks.current(conn, now)
        ended = blocks.current(conn, now + 4 * h)
    finally:
        conn.close()
    block = current["claude"]
    start = now - 40 * 60 - 2 * h  # the hour of the 2nd call: the 9h-old one ended long ago
    assert (block["start"], block["end"]) == (start, start + 5 * h)
    assert block["calls"] == 2 and block["tokens"] == 220
    assert block["cost_usd"] == pytest.approx(0.75)
    assert block["burn_per_hour"] == pytest.approx(0.75 / (now - start) * h)
    assert ended == {}


# --- the live view under a pty --------------------------------------------------------------

def _display(session):
    """What the emulated terminal shows now (not the scrollback of earlier frames)."""
    session._pump(0.1)
    return "\n".join(session._terminal.display)


def _wait_for(session, predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate(_display(session)):
            return True
    return predicate(_display(session))


@pytest.mark.parametrize("mode", ["rich", "plain"])
def test_live_view_follows_calls_and_quits_on_q(shim_env, mode):
    if mode == "rich":
        pytest.importorskip("rich")
    from tests.support.pty_driver import PtySession

    config(shim_env)
    argv = [str(shim_env.shims / "llm-shim"), "watch", "--interval", "0.3"]
    if mode == "plain":
        argv.append("--plain")
    env = shim_env.env({"TERM": "xterm-256color", "COLUMNS": "150", "LINES": "50"})
    session = PtySession(argv, env, str(shim_env.tmp), rows=50, cols=150)
    call = None
    try:
        assert _wait_for(session, lambda s: "Running now (0)" in s and "(q quits)" in s, 20), \
            _display(session)
        call = shim_env.popen(ARGV, env={"FAKE_CLAUDE_SLEEP": "4"})
        assert _wait_for(session, lambda s: "Running now (1)" in s, 20), _display(session)
        shown = _display(session)
        assert "claude" in shown and "running" in shown
        assert call.wait(timeout=60) == 0
        # the call ended: it leaves the running list and its cost reaches today and the budget
        assert _wait_for(session, lambda s: "Running now (0)" in s and "$0.10" in s
                         and "10%" in s, 20), _display(session)
        session.send("q")
        assert session.wait(10) == 0
    finally:
        if call is not None and call.poll() is None:
            call.kill()
        session.close()


def test_the_tracker_continues_blocks_across_frames(shim_env):
    """Later frames read only the last hours, from the block starts found before, and agree
    with a fresh full read; a block that ends gives way to the next call's block."""
    from shim.telemetry import store
    from shim.watch import blocks

    h = 3600
    t0 = 1_800_000_000 - 1_800_000_000 % h
    conn = store.connect()

    def call(i, at, tool="claude"):
        conn.execute("INSERT INTO attempts (invocation_id, attempt, started_at, tool, cost_usd) "
                     "VALUES (?, 1, ?, ?, 0.5)", (f"c{i}", at, tool))

    try:
        # a long busy day: calls every 50 minutes for 20 hours, so no 5-hour gap, and the
        # blocks are 0-5h, 5h50-10h50 (floored: 5h-10h), ...
        for i in range(24):
            call(i, t0 + i * 50 * 60)
        tracker = blocks.Tracker()
        now = t0 + 23 * 50 * 60 + 60
        first = tracker.current(conn, now)
        assert first == blocks.current(conn, now)
        # a frame later: a new call inside the block, another tool starts
        call(100, now + 30)
        call(101, now + 40, tool="codex")
        later = tracker.current(conn, now + 60)
        assert later == blocks.current(conn, now + 60)
        assert later["claude"]["calls"] == first["claude"]["calls"] + 1
        assert later["codex"]["calls"] == 1
        # hours later the claude block has ended; a new call opens a new block
        end = later["claude"]["end"]
        call(102, end + 2 * h + 10 * 60)
        after = tracker.current(conn, end + 2 * h + 20 * 60)
        assert after["claude"]["start"] == end + 2 * h and after["claude"]["calls"] == 1
        assert after == blocks.current(conn, end + 2 * h + 20 * 60)
    finally:
        conn.close()


def test_ctrl_c_ends_the_plain_view_with_status_0(shim_env):
    import signal

    config(shim_env)
    # Ctrl-C reaches a terminal's foreground job with SIGINT at its default disposition. A
    # SIGINT that pytest's own parent ignores (`pytest &` in a script: sh ignores SIGINT in
    # such jobs) is inherited through fork and exec, and Python leaves an inherited SIG_IGN
    # alone, as it should (a background `llm-shim watch &` must survive a Ctrl-C): the watch
    # would never see the signal and this test would wait its 20 s. So it starts with the
    # default.
    proc = subprocess.Popen(["llm-shim", "watch", "--interval", "0.3"], env=shim_env.env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 20
        first = b""
        while b"Recent fallbacks and blocks" not in first and time.monotonic() < deadline:
            chunk = proc.stdout.read1(4096)
            if not chunk:  # the watch ended before its first frame: say so below, not spin
                break
            first += chunk
        if b"Recent fallbacks and blocks" not in first:  # ended early, or too slow: kill it
            proc.kill()  # first, so reading its stderr cannot wait on a live watch
            pytest.fail(f"no first frame: {first!r}, stderr {proc.communicate()[1]!r}")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and err == b""
    text = first.decode()
    assert "\x1b[" not in text and text.startswith("llm-shim watch  ")  # a pipe: plain frames
    assert "(q quits)" not in text  # stdin is not a terminal: only Ctrl-C stops it


def test_unknown_cost_is_said_not_shown_as_zero():
    from shim.watch.render import money

    assert money(0.0, 2, 2) == "unknown"
    assert money(0.0, 1, 3) == "$0.00 + 1 unpriced"
    assert money(1.5, 1, 3) == "$1.50 + 1 unpriced"
    assert money(0.0, 0, 3) == "$0.00"


def test_watch_and_report_blocks_agree_on_a_random_history(shim_env):
    """One block rule: the watch's rollup-based current block is the one `report --blocks`
    finds from the rows (start, calls, cost), for histories with and without 5-hour gaps."""
    import random

    from shim.plans import blocks as plan_blocks
    from shim.telemetry import store
    from shim.watch import blocks

    h = 3600
    rng = random.Random(20)
    conn = store.connect()
    try:
        at = 1_800_000_000.0
        checked = 0
        batch = []
        for i in range(400):
            at += rng.choice([rng.uniform(60, 40 * 60), rng.uniform(3 * h, 7 * h)])
            batch.append({"invocation_id": f"r{i}", "attempt": 1, "started_at": at,
                          "tool": rng.choice(["claude", "codex"]), "cost_usd": 0.25,
                          "cost_source": "computed"})
            if i % 25:
                continue
            with store.transaction(conn):
                store.insert_attempts(conn, batch)
            batch = []
            now = at + rng.uniform(1, 2 * h)
            rows = plan_blocks.load_rows(conn, at - 30 * 24 * h)
            expected = {b["tool"]: b for b in plan_blocks.compute(rows, now) if b["active"]}
            got = blocks.current(conn, now)
            assert sorted(got) == sorted(expected)
            for name, block in got.items():
                assert block["start"] == expected[name]["start"]
                assert block["calls"] == expected[name]["calls"]
                assert block["cost_usd"] == pytest.approx(expected[name]["cost_usd"])
                checked += 1
        assert checked > 5
    finally:
        conn.close()


def test_running_and_ingestion_share_one_liveness_check(monkeypatch, tmp_path):
    """watch's running list judges a start line with the very functions ingestion uses
    (starts.alive_since, record.host_name): no private copy, no private call."""
    import sqlite3

    from shim.telemetry import record, starts
    from shim.watch import running

    now = time.time()
    line = {"v": 1, "kind": "start", "invocation_id": "inv1", "attempt": 1,
            "started_at": now - 5, "host": record.host_name(), "pid": os.getpid(),
            "record": {"tool": "claude"}}
    spool_dir = tmp_path / "spool"
    spool_dir.mkdir()
    import json

    (spool_dir / "spool.log").write_text(json.dumps(line) + "\n")
    conn = sqlite3.connect(":memory:")
    [row] = running.running(conn, now, str(spool_dir))
    assert row["state"] == "running"
    seen = []
    monkeypatch.setattr(starts, "alive_since", lambda pid, at: seen.append(pid) or False)
    [row] = running.running(conn, now, str(spool_dir))
    assert row["state"] == "died" and seen == [os.getpid()]
    monkeypatch.setattr(record, "host_name", lambda: "elsewhere")
    [row] = running.running(conn, now, str(spool_dir))
    assert row["state"] == "running" and seen == [os.getpid()]  # another host's: not by pid


def test_once_shows_plan_windows_stale_ones_marked_and_quotas_with_their_state(shim_env):
    """The plan windows' used % (newest snapshot per tool and window; one past its reset is
    stale), the block's official 5h %, and every quota as the shim judges it."""
    from shim.plans import snapshots

    config(shim_env, quotas={
        "claude-5h": {"tool": "claude", "window": "five_hour", "at": 0.85,
                      "action": "redirect", "to": {"tool": "codex"}},
        "claude-week": {"tool": "claude", "window": "seven_day", "at": 0.95,
                        "action": "downgrade"},
        "codex-5h": {"tool": "codex", "window": "five_hour", "at": 0.5, "action": "warn",
                     "estimate": {"tokens": 1000}}})
    assert shim_env.run(ARGV).returncode == 0
    now = time.time()
    conn = shim_env.db()
    try:
        snapshots.record(conn, [{"tool": "claude", "window": "seven_day", "used_pct": 97.0,
                                 "resets_at": now - 3600, "status": None}], "statusline",
                         now=now - 7200)
        snapshots.record(conn, [{"tool": "claude", "window": "five_hour", "used_pct": 88.0,
                                 "resets_at": now + 2 * 3600, "status": None}], "statusline",
                         now=now - 60)
    finally:
        conn.close()
    text = watch_once(shim_env)
    _, blocks = section(text, "5-hour blocks")
    assert blocks[0].startswith("claude") and blocks[0].endswith("5h used 88%"), blocks
    _, windows = section(text, "Plan windows")
    assert len(windows) == 2, windows
    assert windows[0].startswith("claude  5h  88% used  resets in ") and "seen 1m" in \
        windows[0], windows
    assert windows[1].startswith("claude  7d  97% used  stale: reset 1h") and "seen 2h" in \
        windows[1], windows
    _, quotas = section(text, "Quotas")
    assert quotas[0].startswith("claude-5h  claude 5h  88% (as claude reported it") and \
        quotas[0].endswith("redirect to codex from 85%  reached"), quotas
    assert quotas[1].startswith("claude-week  claude 7d  unknown") and \
        quotas[1].endswith("downgrade from 95%  unknown: not applied"), quotas
    assert quotas[2].startswith("codex-5h (estimate)  codex 5h  0% (estimate: 0 of 1,000") and \
        quotas[2].endswith("warn from 50%  under"), quotas


def test_once_without_snapshots_or_quotas_says_so(shim_env):
    config(shim_env)
    text = watch_once(shim_env)
    _, windows = section(text, "Plan windows")
    assert windows[0].startswith("no snapshot recorded"), windows
    assert "\nQuotas" not in text
