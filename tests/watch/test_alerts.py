"""Alerts: thresholds fire exactly once per period, to a loopback webhook and to a command,
even under 20 parallel calls through real shims; failures are recorded with why; a project
file cannot set them; `llm-shim alerts` and `alerts test`."""

import json
import sqlite3
import sys
import time

import pytest

from tests.watch.conftest import TEN_CENTS_MODEL

ARGV = ["claude", "-p", "hi", "--model", "dime", "--output-format", "json"]


def recorder(tmp_path):
    """A command that appends its argv and stdin (one JSON line) to a file."""
    out = tmp_path / "command.jsonl"
    script = tmp_path / "record-alert"
    script.write_text(f"#!{sys.executable}\n"
                      "import json, os, sys\n"
                      "line = json.dumps({'argv': sys.argv[1:], 'stdin': json.load(sys.stdin)})\n"
                      f"fd = os.open({str(out)!r}, os.O_WRONLY | os.O_APPEND | os.O_CREAT)\n"
                      "os.write(fd, (line + '\\n').encode())\n")
    script.chmod(0o755)
    return script, out


def setup(shim_env, alerts, limit=1.0):
    shim_env.config({"models": {"dime": TEN_CENTS_MODEL},
                     "policies": {"budgets": {"daily": {
                         "scope": "global", "period": "day",
                         "limit": {"usd": limit, "type": "soft"}}},
                         "alerts": alerts}})


def rows(shim_env, settle=30.0):
    """Every alerts row, once no delivery is pending (deliveries run detached)."""
    deadline = time.monotonic() + settle
    while True:
        conn = shim_env.db()
        try:
            conn.row_factory = sqlite3.Row
            found = [dict(r) for r in conn.execute("SELECT * FROM alerts ORDER BY id")]
        finally:
            conn.close()
        if all(r["status"] != "pending" for r in found) or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_each_threshold_fires_exactly_once_under_20_parallel_calls(shim_env, hook, tmp_path):
    command, out = recorder(tmp_path)
    setup(shim_env, {"spend": {"thresholds": [0.5, 0.8, 1.0], "webhook": hook.url,
                               "command": [str(command), "{budget}", "{threshold}",
                                           "{message}"]}})
    procs = [shim_env.popen(ARGV, env={"FAKE_CLAUDE_SLEEP": "0.5"}) for _ in range(20)]
    assert [p.wait(timeout=120) for p in procs] == [0] * 20
    found = rows(shim_env)
    # one row per threshold, whichever shim claimed it; several crossed by one settlement
    # are one message (the highest), the lower ones recorded as skipped
    assert sorted(r["threshold"] for r in found) == [0.5, 0.8, 1.0], found
    sent = [r for r in found if r["status"] == "sent"]
    assert all(r["status"] in ("sent", "skipped") for r in found), found
    assert max(r["threshold"] for r in sent) == 1.0
    assert all(r["detail"] == "command: exit 0; webhook: HTTP 200" for r in sent), sent
    docs = [b["doc"] for b in hook.bodies]
    assert sorted(d["threshold"] for d in docs) == sorted(r["threshold"] for r in sent)
    assert all(b["type"] == "application/json" for b in hook.bodies)
    top = next(d for d in docs if d["threshold"] == 1.0)
    assert top["name"] == "daily" and top["kind"] == "budget" and top["limit_usd"] == 1.0
    assert top["spent_usd"] >= 1.0 and top["test"] is False and top["period"] == "today"
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == len(sent)
    last = next(x for x in lines if x["argv"][1] == "100%")
    assert last["argv"][0] == "daily" and last["argv"][2] == last["stdin"]["message"]
    assert last["argv"][2].startswith("budget 'daily' reached ")
    # more calls in the same period send nothing more
    assert shim_env.run(ARGV).returncode == 0
    assert len(rows(shim_env)) == 3 and len(hook.bodies) == len(sent)


def test_below_the_first_threshold_nothing_fires(shim_env, hook):
    setup(shim_env, {"spend": {"thresholds": [0.5], "webhook": hook.url}})
    for _ in range(4):  # $0.40 of $1.00
        assert shim_env.run(ARGV).returncode == 0
    assert rows(shim_env) == [] and hook.bodies == []
    assert shim_env.run(ARGV).returncode == 0  # $0.50
    found = rows(shim_env)
    assert [(r["threshold"], r["status"]) for r in found] == [(0.5, "sent")]
    assert len(hook.bodies) == 1


def test_failed_deliveries_are_recorded_with_why(shim_env, hook, tmp_path):
    failing = tmp_path / "fail"
    failing.write_text("#!/bin/sh\necho 'no display' >&2\nexit 3\n")
    failing.chmod(0o755)
    hook.status = 500
    setup(shim_env, {"bad-command": {"thresholds": [0.1], "command": [str(failing)]},
                     "missing": {"thresholds": [0.1], "command": [str(tmp_path / "nope")]},
                     "bad-hook": {"thresholds": [0.1], "webhook": hook.url}})
    proc = shim_env.run(ARGV)
    assert proc.returncode == 0 and proc.stderr == b""  # the call is untouched
    found = {r["alert"].split(":")[0]: r for r in rows(shim_env)}
    assert found["bad-command"]["status"] == "failed"
    assert found["bad-command"]["detail"] == "command: exit 3: no display"
    assert found["missing"]["detail"] == f"command: {tmp_path / 'nope'}: not found"
    assert found["bad-hook"]["detail"] == "webhook: HTTP 500 Internal Server Error"
    listing = shim_env.run(["llm-shim", "alerts"]).stdout.decode()
    assert "failed" in listing and "command: exit 3: no display" in listing
    assert "budget daily" in listing and "10%" in listing


def test_a_slow_webhook_times_out_without_delaying_the_call(shim_env, tmp_path):
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)  # accepts connections, never answers
    try:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
        setup(shim_env, {"slow": {"thresholds": [0.1], "webhook": url, "timeout": 1}})
        began = time.monotonic()
        assert shim_env.run(ARGV).returncode == 0
        took = time.monotonic() - began
        found = rows(shim_env)
    finally:
        silent.close()
    assert found[0]["status"] == "failed" and found[0]["detail"] == "webhook: timed out after 1s"
    assert found[0]["delivered_at"] - found[0]["created_at"] >= 1.0
    assert took < 30  # the call returned (its delivery ran detached)


def test_alerts_test_sends_a_sample_and_lists_it(shim_env, hook, tmp_path):
    command, out = recorder(tmp_path)
    setup(shim_env, {"spend": {"webhook": hook.url, "command": [str(command), "{percent}"]}})
    proc = shim_env.run(["llm-shim", "alerts", "test"])
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.decode() == "spend: sent (command: exit 0; webhook: HTTP 200)\n"
    assert len(hook.bodies) == 1 and hook.bodies[0]["doc"]["test"] is True
    assert hook.bodies[0]["doc"]["message"].startswith("test alert: test 'sample' reached 80%")
    assert json.loads(out.read_text())["argv"] == ["80%"]
    listing = json.loads(shim_env.run(["llm-shim", "alerts", "--json"]).stdout)
    assert [(a["alert"], a["status"], a["subject_kind"]) for a in listing["alerts"]] == [
        ("spend", "sent", "test")]
    proc = shim_env.run(["llm-shim", "alerts", "test", "other"])
    assert proc.returncode == 2
    assert proc.stderr.decode().startswith("llm-shim: alerts: no alert named 'other'")


def test_a_project_file_cannot_set_alerts(shim_env, hook, tmp_path):
    setup(shim_env, {})
    project = tmp_path / "repo"
    project.mkdir()
    (project / ".llm-shim.yaml").write_text(
        "policies:\n  alerts:\n    evil: {thresholds: [0.1], command: [touch, pwned]}\n")
    import subprocess

    proc = subprocess.run(["llm-shim", "config", "validate"], cwd=project,
                          env=shim_env.env(), capture_output=True)
    assert proc.returncode != 0
    assert "policies.alerts: not allowed in a project file" in proc.stdout.decode()
    call = subprocess.run(ARGV, cwd=project, env=shim_env.env(), capture_output=True)
    assert call.returncode == 0
    time.sleep(1.0)
    assert not (project / "pwned").exists() and rows(shim_env) == []


def test_an_alert_whose_keys_came_from_a_project_file_is_refused():
    from shim.alerts import config

    cfg = {"_sources": [{"path": "/repo/.llm-shim.yaml", "layer": "project"},
                        {"path": "/home/u/config.yaml", "layer": "user"}],
           "_origin": {"policies.alerts.mine.command": "/home/u/config.yaml",
                       "policies.alerts.theirs.command": "/repo/.llm-shim.yaml"},
           "policies": {"alerts": {"mine": {"command": ["true"]},
                                   "theirs": {"command": ["touch", "x"]}}}}
    alerts, refused = config.configured(cfg)
    assert [a["name"] for a in alerts] == ["mine"] and refused == ["theirs"]


def test_without_alerts_the_engine_never_imports_them(shim_env):
    """Cheap when not configured: finish() does not even import shim.alerts."""
    import subprocess

    setup(shim_env, {})
    code = ("import sys\n"
            "from shim.config import compiled\n"
            "from shim.policy import engine, settle\n"
            "cfg = compiled.load()\n"
            "d = {'tool': 'claude', 'model': 'dime', 'mode': 'oneshot', 'agent': None}\n"
            "g = engine.admit(d, None, cfg)\n"
            "assert g['reservation_id'], g\n"
            "settle.finish(g, d, {'usage': None}, cfg)\n"
            "print('shim.alerts.check' in sys.modules)\n")
    proc = subprocess.run([sys.executable, "-c", code], env=shim_env.env(),
                          capture_output=True)
    assert proc.stdout.decode().strip() == "False", proc.stderr.decode()


@pytest.mark.parametrize("bad", [{"webhook": "file:///etc/passwd"},
                                 {"command": "notify-send hi"},
                                 {"thresholds": [0], "command": ["true"]}])
def test_bad_alert_config_is_a_config_error(shim_env, bad):
    setup(shim_env, {"spend": bad})
    proc = shim_env.run(["llm-shim", "config", "validate"])
    assert proc.returncode != 0 and "policies.alerts.spend" in proc.stdout.decode()


def test_the_claim_is_atomic_across_20_connections(isolated_env):
    """20 connections claim the same crossing at the same moment: one wins each threshold."""
    import threading

    from shim.alerts import check
    from shim.telemetry import store

    alert = {"name": "spend", "budgets": None, "thresholds": [0.5, 0.8], "command": ["true"],
             "webhook": None, "timeout": 5.0}
    subj = {"kind": "budget", "name": "daily", "spent": 0.9, "limit": 1.0, "label": "today",
            "period_start": 1_800_000_000.0, "reset_at": None}
    store.connect().close()  # migrate once
    barrier = threading.Barrier(20)
    won = []

    def race():
        conn = store.connect()
        try:
            barrier.wait()
            won.append(check.claim(conn, alert, subj, time.time()))
        finally:
            conn.close()

    threads = [threading.Thread(target=race) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    conn = store.connect()
    statuses = conn.execute("SELECT threshold, status FROM alerts ORDER BY threshold").fetchall()
    conn.close()
    assert len([w for w in won if w is not None]) == 1, won
    assert statuses == [(0.5, "skipped"), (0.8, "pending")]


def _snapshot(shim_env, used_pct, resets_at):
    from shim.plans import snapshots

    conn = shim_env.db()
    try:
        snapshots.record(conn, [{"tool": "claude", "window": "five_hour", "used_pct": used_pct,
                                 "resets_at": resets_at, "status": None}], "statusline")
    finally:
        conn.close()


def test_a_quota_threshold_fires_exactly_once_per_window_under_20_parallel_calls(
        shim_env, hook, tmp_path):
    """The quota measured before each call feeds the same claim as budgets: of 20 parallel
    calls at 87 % of the window, one sends (80 %, with 50 % skipped); more calls in the window
    send nothing; 100 % fires; the next window fires again."""
    command, out = recorder(tmp_path)
    shim_env.config({"models": {"dime": TEN_CENTS_MODEL},
                     "policies": {"quotas": {"claude-5h": {
                         "tool": "claude", "window": "five_hour", "at": 0.95,
                         "action": "warn"}},
                         "alerts": {"plan": {"quotas": ["claude-5h"], "webhook": hook.url,
                                             "command": [str(command), "{budget}",
                                                         "{percent}", "{message}"]}}}})
    resets = time.time() + 2 * 3600
    _snapshot(shim_env, 87.0, resets + 1.5)  # reset times drift by seconds between reports
    procs = [shim_env.popen(ARGV, env={"FAKE_CLAUDE_SLEEP": "0.2"}) for _ in range(20)]
    assert [p.wait(timeout=120) for p in procs] == [0] * 20
    found = rows(shim_env)
    assert [(r["threshold"], r["status"], r["subject_kind"], r["subject"]) for r in
            sorted(found, key=lambda r: r["threshold"])] == [
        (0.5, "skipped", "quota", "claude-5h"), (0.8, "sent", "quota", "claude-5h")], found
    assert {r["period_start"] for r in found} == {round(resets / 600) * 600 - 5 * 3600}
    [doc] = [b["doc"] for b in hook.bodies]
    assert doc["kind"] == "quota" and doc["name"] == "claude-5h" and doc["threshold"] == 0.8
    assert doc["fraction"] == pytest.approx(0.87) and doc["spent_usd"] is None
    assert doc["message"].startswith("quota 'claude-5h': claude 5h window at 87% (as claude "
                                     "reported it")
    [line] = [json.loads(x) for x in out.read_text().splitlines()]
    assert line["argv"][:2] == ["claude-5h", "87%"]
    # the same window at 92 %: nothing new; at 100 %: the last threshold
    _snapshot(shim_env, 92.0, resets)
    assert shim_env.run(ARGV).returncode == 0
    assert len(rows(shim_env)) == 2
    _snapshot(shim_env, 100.0, resets)
    assert shim_env.run(ARGV).returncode == 0
    assert sorted(r["threshold"] for r in rows(shim_env)) == [0.5, 0.8, 1.0]
    # the next window starts over
    _snapshot(shim_env, 55.0, resets + 5 * 3600)
    assert shim_env.run(ARGV).returncode == 0
    latest = rows(shim_env)[-1]
    assert (latest["threshold"], latest["status"]) == (0.5, "sent")
    listing = shim_env.run(["llm-shim", "alerts"]).stdout.decode()
    assert "quota claude-5h" in listing and "55% of the window" in listing, listing


def test_alerts_watch_what_they_name():
    from shim.alerts import config

    def alert(**names):
        return dict({"budgets": None, "quotas": None}, **{k: set(v) for k, v in names.items()})

    assert config.watches(alert(), "daily") and config.watches(alert(), "c5h", "quota")
    only_budget = alert(budgets=["daily"])
    assert config.watches(only_budget, "daily")
    assert not config.watches(only_budget, "c5h", "quota")
    only_quota = alert(quotas=["c5h"])
    assert config.watches(only_quota, "c5h", "quota")
    assert not config.watches(only_quota, "other", "quota")
    assert not config.watches(only_quota, "daily")


def test_an_unknown_quota_or_a_dry_run_fires_nothing(shim_env, hook):
    shim_env.config({"models": {"dime": TEN_CENTS_MODEL},
                     "policies": {"quotas": {"claude-5h": {
                         "tool": "claude", "window": "five_hour", "at": 0.95,
                         "action": "warn"}},
                         "alerts": {"plan": {"thresholds": [0.5], "webhook": hook.url}}}})
    assert shim_env.run(ARGV).returncode == 0  # no snapshot: unknown, not 0 %, not an alert
    _snapshot(shim_env, 70.0, time.time() + 3600)
    assert shim_env.run(ARGV, env={"LLM_SHIM_DRY_RUN": "1"}).returncode == 0
    assert rows(shim_env) == []
    assert shim_env.run(ARGV).returncode == 0
    assert [r["threshold"] for r in rows(shim_env)] == [0.5]
