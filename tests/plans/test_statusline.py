"""`llm-shim statusline` against recorded Claude Code status line documents (tests/plans/samples:
with rate_limits as epoch seconds and as ISO 8601, without them as for API-key users,
truncated, not an object, empty), the snapshots it records, and its light path."""

import json
import os
import subprocess
import sys
import time

import pytest
import yaml

from shim.plans import snapshots

SAMPLES = os.path.join(os.path.dirname(__file__), "samples")
HOUR = 3600


def sample(name, **subs):
    with open(os.path.join(SAMPLES, name), "rb") as fh:
        data = fh.read()
    for key, value in subs.items():
        data = data.replace(key.encode(), str(value).encode())
    return data


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# As an installed shim starts: `python -I -S`, the code and its dependencies on sys.path.
PATHS = [ROOT] + [p for p in sys.path if p.endswith("site-packages")]


def statusline(stdin, *args, env=None):
    proc = subprocess.run([sys.executable, "-I", "-S", "-c",
                           "import sys; sys.path[:0] = %r; from shim.entry import main; "
                           "sys.exit(main(['llm-shim', 'statusline'] + sys.argv[1:]))" % PATHS,
                           *args],
                          input=stdin, capture_output=True, timeout=60,
                          env=dict(os.environ, **(env or {})))
    return proc


def stored():
    from shim.telemetry import store

    conn = store.connect()
    try:
        return conn.execute("SELECT tool, plan_window, used_pct, resets_at, source, session_id "
                            "FROM plan_snapshots ORDER BY id").fetchall()
    finally:
        conn.close()


def iso(at):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))


def test_plan_document_with_epoch_resets(isolated_env):
    reset5, reset7 = int(time.time()) + 2 * HOUR, int(time.time()) + 3 * 86400
    proc = statusline(sample("plan_epoch.json", RESET_5H=reset5, RESET_7D=reset7))
    assert proc.returncode == 0 and proc.stderr == b""
    line = proc.stdout.decode()
    assert line.count("\n") == 1
    assert line.rstrip() == "default · Opus 4.6 · session $0.42 · today $0.00 · 5h 42% 7d 12%"
    assert stored() == [
        ("claude", "five_hour", 42.3, float(reset5), "statusline",
         "0b9d4a52-5c1e-4a7e-9d0c-2f0e7b1a9c11"),
        ("claude", "seven_day", 12.0, float(reset7), "statusline",
         "0b9d4a52-5c1e-4a7e-9d0c-2f0e7b1a9c11")]
    # The same figures again: nothing new is stored.
    statusline(sample("plan_epoch.json", RESET_5H=reset5, RESET_7D=reset7))
    assert len(stored()) == 2


def test_plan_document_with_iso_resets(isolated_env):
    reset5, reset7 = int(time.time()) + HOUR, int(time.time()) + 86400
    proc = statusline(sample("plan_iso.json", ISO_5H=iso(reset5), ISO_7D=iso(reset7)))
    assert proc.returncode == 0
    assert proc.stdout.decode().rstrip().endswith("5h 88% 7d 86%")
    assert [(r[1], r[3]) for r in stored()] == [("five_hour", float(reset5)),
                                                ("seven_day", float(reset7))]


def test_api_key_document_without_rate_limits(isolated_env):
    proc = statusline(sample("api_key.json"))
    assert proc.returncode == 0 and proc.stderr == b""
    assert proc.stdout.decode().rstrip() == "default · Opus 4.6 · session $0.05 · today $0.00"
    assert stored() == []


def test_a_window_that_already_reset_is_not_shown(isolated_env):
    past = int(time.time()) - 60
    proc = statusline(sample("plan_epoch.json", RESET_5H=past, RESET_7D=past + 5 * 86400))
    line = proc.stdout.decode()
    assert "5h" not in line and line.rstrip().endswith("7d 12%")


@pytest.mark.parametrize("name, expected", [
    ("truncated.json", "llm-shim: status data is not a JSON object"),
    ("not_object.json", "llm-shim: status data is not a JSON object"),
    ("empty.json", "llm-shim: no status data on stdin"),
])
def test_bad_input_prints_a_short_line_and_exits_0(isolated_env, name, expected):
    proc = statusline(sample(name))
    assert proc.returncode == 0
    assert proc.stdout.decode() == expected + "\n"
    assert proc.stderr == b""


def test_a_broken_config_and_an_unwritable_store_still_print_a_line(isolated_env):
    home = isolated_env["shim_home"]
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.yaml").write_text("policies: [unclosed\n")
    (home / "telemetry.db").mkdir()  # a directory where the database should be
    reset = int(time.time()) + HOUR
    proc = statusline(sample("plan_epoch.json", RESET_5H=reset, RESET_7D=reset))
    assert proc.returncode == 0 and proc.stderr == b""
    line = proc.stdout.decode().rstrip()
    assert line.startswith("config ? · Opus 4.6 · session $0.42 · store ? (")
    assert line.endswith("5h 42% 7d 12%")


def test_budget_block_and_agent(isolated_env):
    home = isolated_env["shim_home"]
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.yaml").write_text(yaml.safe_dump({"agents": {"reviewer": {}}, "policies": {
        "budgets": {"review-day": {"scope": "agent", "match": "reviewer", "period": "day",
                                   "limit": {"usd": 10.0, "type": "hard"}}}}}))
    from shim.telemetry import store

    now = time.time()
    conn = store.connect()
    with store.transaction(conn):
        store.insert_attempts(conn, [
            {"invocation_id": f"r{n}", "attempt": 1, "started_at": now - 60 * (n + 1),
             "tool": "claude", "agent": "reviewer", "model": "claude-opus-4-6",
             "cost_usd": 1.25, "cost_source": "computed"} for n in range(2)])
    conn.close()
    proc = statusline(sample("api_key.json"), env={"LLM_SHIM_AGENT": "reviewer"})
    line = proc.stdout.decode().rstrip()
    assert line.startswith("reviewer · Opus 4.6 · session $0.05 · today $2.50 · "
                           "budget review-day $2.50/$10.00 25% · block $2.50 $150.00/h")


def test_a_warm_call_imports_nothing_heavy(isolated_env):
    reset = int(time.time()) + HOUR
    data = sample("plan_epoch.json", RESET_5H=reset, RESET_7D=reset)
    statusline(data)  # fills the figures cache
    code = ("import sys; sys.path[:0] = %r; from shim.entry import main; "
            "main(['llm-shim', 'statusline']); "
            "heavy = {'sqlite3', 'json', 'yaml', 'argparse', 'tabulate', 're', 'subprocess', "
            "'psutil', 'datetime'}; "
            "print(sorted(heavy & set(sys.modules)), file=sys.stderr)" % PATHS)
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", code], input=data,
                          capture_output=True, timeout=60)
    assert proc.stderr.decode().strip() == "[]"
    # A new snapshot is a cache miss: it is recorded.
    proc = statusline(data.replace(b"42.3", b"43.9"))
    assert proc.stdout.decode().rstrip().endswith("5h 44% 7d 12%")
    assert [r[2] for r in stored() if r[1] == "five_hour"] == [42.3, 43.9]


def test_chain_runs_the_previous_status_line_first(isolated_env, tmp_path):
    script = tmp_path / "old.sh"
    script.write_text("#!/bin/sh\nread -r line\necho \"old:${#line}\"\n")
    script.chmod(0o755)
    data = sample("api_key.json")
    proc = statusline(data, "--chain", str(script))
    line = proc.stdout.decode().rstrip()
    assert line.startswith(f"old:{len(data.splitlines()[0])} · default · Opus 4.6")


# --- the snapshot readers -----------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    (1774137600, 1774137600.0),
    (1774137600000, 1774137600.0),          # milliseconds
    ("1774137600", 1774137600.0),
    ("2026-03-20T15:00:00Z", 1774018800.0),
    ("2026-03-20T16:00:00+01:00", 1774018800.0),
    ("2026-03-20T15:00:00", 1774018800.0),  # no offset: UTC
    ("soon", None), (None, None), (True, None), (-5, None), ("", None),
])
def test_parse_time(value, expected):
    assert snapshots.parse_time(value) == expected


def test_rate_limit_events_from_the_stream_json_tap():
    from shim.telemetry import usage

    tap = usage.ClaudeTap()
    lines = [
        {"type": "system", "subtype": "init", "session_id": "s1", "model": "claude-opus-4-6"},
        {"type": "rate_limit_event", "rate_limit_info": {
            "status": "allowed", "resetsAt": 1784079000, "rateLimitType": "five_hour"}},
        {"type": "rate_limit_event", "rate_limit_info": {
            "status": "allowed_warning", "resetsAt": 1784079000, "rateLimitType": "five_hour",
            "utilization": 0.91, "unifiedWindows": {
                "five_hour": {"utilization": 0.91}, "seven_day": {"utilization": 0.4,
                                                                  "resetsAt": 1784500000}}}},
        {"type": "result", "subtype": "success", "is_error": False, "session_id": "s1",
         "total_cost_usd": 0.01, "result": "hi", "modelUsage": {}},
    ]
    tap.feed(b"".join(json.dumps(line).encode() + b"\n" for line in lines))
    got = tap.result()
    events = got["rate_limit_events"]
    assert len(events) == 2 and got["session_id"] == "s1"
    snaps = [s for e in events for s in snapshots.from_rate_limit_event(e)]
    assert snaps == [
        {"tool": "claude", "window": "five_hour", "used_pct": None, "resets_at": 1784079000.0,
         "status": "allowed"},
        {"tool": "claude", "window": "five_hour", "used_pct": pytest.approx(91.0),
         "resets_at": 1784079000.0, "status": "allowed_warning"},
        {"tool": "claude", "window": "seven_day", "used_pct": pytest.approx(40.0),
         "resets_at": 1784500000.0, "status": None}]


def test_a_rejected_window_without_utilization_is_full():
    [snap] = snapshots.from_rate_limit_event({"type": "rate_limit_event", "rate_limit_info": {
        "status": "rejected", "resetsAt": 1778565600, "rateLimitType": "five_hour",
        "overageStatus": "rejected", "isUsingOverage": False}})
    assert snap["used_pct"] == 100.0


def test_recorded_events_feed_the_quota(isolated_env):
    future = time.time() + HOUR
    assert snapshots.record_events([{"type": "rate_limit_event", "rate_limit_info": {
        "status": "allowed_warning", "resetsAt": future, "rateLimitType": "five_hour",
        "utilization": 0.9}}], "s9") == 1
    from shim.telemetry import store

    conn = store.connect()
    try:
        latest = snapshots.latest(conn, "claude", "five_hour")
        assert latest["used_pct"] == pytest.approx(90.0) and latest["source"] == "stream"
        assert snapshots.latest(conn, "claude", "five_hour", now=future + 1) is None
    finally:
        conn.close()


def test_unpriced_calls_make_today_a_lower_bound(isolated_env):
    from shim.telemetry import store

    now = time.time()
    conn = store.connect()
    with store.transaction(conn):
        store.insert_attempts(conn, [
            {"invocation_id": "priced", "attempt": 1, "started_at": now - 60, "tool": "claude",
             "input_tokens": 10, "output_tokens": 5, "cost_usd": 0.30, "cost_source": "computed"},
            {"invocation_id": "unpriced", "attempt": 1, "started_at": now - 30, "tool": "claude",
             "model": "mystery-model", "input_tokens": 10, "output_tokens": 5,
             "cost_usd": None, "cost_source": "unknown"}])
    conn.close()
    line = statusline(sample("api_key.json")).stdout.decode()
    assert " · today >=$0.30 · " in line
