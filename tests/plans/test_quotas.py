"""Quota-aware routing through real shims in front of fake CLIs (docs/plans.md)."""

import json
import time

ONESHOT = ["claude", "-p", "rename x to count in util.py"]


def quota(**spec):
    return {"policies": {"quotas": {"claude-5h": dict(
        {"tool": "claude", "window": "five_hour", "at": 0.85}, **spec)}}}


def reasons(row):
    return json.loads(row["reasons"]) if isinstance(row["reasons"], str) else row["reasons"]


def test_redirect_claude_to_codex_at_85_percent(shim_env, snapshot):
    shim_env.install("claude", "codex")
    shim_env.config(quota(action="redirect", to={"tool": "codex"}))
    snapshot("five_hour", 87.0)
    proc = shim_env.run(ONESHOT)
    assert proc.returncode == 0, proc.stderr
    assert shim_env.calls("claude") == []
    [call] = shim_env.calls("codex")
    assert "rename x to count in util.py" in call["argv"]
    err = proc.stderr.decode().splitlines()[0]  # the fake codex writes its own lines after
    assert err.startswith("llm-shim: warning: quota: quota 'claude-5h': claude five_hour window "
                          "at 87% (as claude reported it ")
    assert err.endswith("at or over 85%; running codex instead")
    [row] = shim_env.attempts()
    assert row["tool"] == "codex" and row["tool_requested"] == "claude"
    assert any(r.startswith("quota 'claude-5h'") and r.endswith("redirect to codex")
               for r in reasons(row))


def test_a_call_that_cannot_be_translated_stays_with_a_warning(shim_env, snapshot):
    shim_env.install("claude", "codex")
    shim_env.config(quota(action="redirect", to={"tool": "codex"}))
    snapshot("five_hour", 87.0)
    proc = shim_env.run(ONESHOT + ["--output-format", "json"])  # codex exec has no json
    assert proc.returncode == 0
    assert len(shim_env.calls("claude")) == 1 and shim_env.calls("codex") == []
    assert proc.stderr.decode().rstrip().endswith("cannot redirect to codex: running claude")


def test_under_the_threshold_nothing_moves(shim_env, snapshot):
    shim_env.install("claude", "codex")
    shim_env.config(quota(action="redirect", to={"tool": "codex"}))
    snapshot("five_hour", 84.0)
    proc = shim_env.run(ONESHOT)
    assert proc.returncode == 0 and proc.stderr == b""
    assert len(shim_env.calls("claude")) == 1 and shim_env.calls("codex") == []
    [row] = shim_env.attempts()
    assert any("at 84%" in r and r.endswith("under 85%") for r in reasons(row))


def test_a_snapshot_older_than_its_reset_is_unknown(shim_env, snapshot):
    shim_env.install("claude", "codex")
    shim_env.config(quota(action="block"))
    snapshot("five_hour", 99.0, resets_in=-60)  # that window is over
    proc = shim_env.run(ONESHOT)
    assert proc.returncode == 0, proc.stderr
    assert len(shim_env.calls("claude")) == 1
    [row] = shim_env.attempts()
    assert any("unknown (no current snapshot, no estimate): not applied" in r
               for r in reasons(row))


def test_block_exits_75_and_runs_nothing(shim_env, snapshot):
    shim_env.install("claude")
    shim_env.config(quota(action="block"))
    snapshot("five_hour", 90.0, resets_in=2 * 3600)
    proc = shim_env.run(ONESHOT)
    assert proc.returncode == 75
    assert shim_env.calls("claude") == []
    line = proc.stderr.decode()
    assert line.startswith("llm-shim: quota: quota 'claude-5h': claude five_hour window at 90%")
    assert "the window resets in 1h59m" in line or "the window resets in 2h" in line
    assert line.count("\n") == 1
    [row] = shim_env.attempts()
    assert row["blocked"] == 1 and row["block_reason"].startswith("quota: quota 'claude-5h'")
    # The override lets it through, and says so.
    proc = shim_env.run(ONESHOT, {"LLM_SHIM_BUDGET_OVERRIDE": "1"})
    assert proc.returncode == 0 and len(shim_env.calls("claude")) == 1


def test_warn_runs_the_call_with_one_line(shim_env, snapshot):
    shim_env.install("claude")
    shim_env.config(quota(action="warn"))
    snapshot("five_hour", 95.0)
    proc = shim_env.run(ONESHOT)
    assert proc.returncode == 0
    assert len(shim_env.calls("claude")) == 1
    assert proc.stderr.decode().count("llm-shim: warning: quota: ") == 1
    assert "(action: warn)" in proc.stderr.decode()


def test_downgrade_goes_to_the_cheap_tier(shim_env, snapshot):
    shim_env.install("claude")
    shim_env.config(quota(action="downgrade", window="seven_day", at=0.95))
    snapshot("seven_day", 96.0, resets_in=3 * 86400)
    proc = shim_env.run(ONESHOT)
    assert proc.returncode == 0, proc.stderr
    [call] = shim_env.calls("claude")
    argv = call["argv"]
    assert argv[argv.index("--model") + 1] == "claude-haiku-4-5-20251001"
    assert "running claude-haiku-4-5-20251001 instead" in proc.stderr.decode()


def test_interactive_calls_are_warned_not_redirected(shim_env, snapshot):
    shim_env.install("claude", "codex")
    shim_env.config(quota(action="redirect", to={"tool": "codex"}))
    snapshot("five_hour", 90.0)
    proc = shim_env.run(["claude"])
    assert len(shim_env.calls("claude")) == 1 and shim_env.calls("codex") == []
    assert "an interactive call is not redirected: running claude" in proc.stderr.decode()


def test_estimate_from_recorded_tokens_is_labelled(shim_env):
    shim_env.install("claude")
    shim_env.config(quota(action="warn", estimate={"tokens": 1000}))
    from shim.telemetry import store

    conn = store.connect()
    now = time.time()
    with store.transaction(conn):
        store.insert_attempts(conn, [{
            "invocation_id": "earlier", "attempt": 1, "started_at": now - 600, "tool": "claude",
            "input_tokens": 500, "cache_read_tokens": 10000, "cache_write_tokens": 100,
            "output_tokens": 300, "cost_usd": 0.5, "cost_source": "computed"}])
    conn.close()
    proc = shim_env.run(ONESHOT)
    assert proc.returncode == 0
    err = proc.stderr.decode()
    assert err.startswith("llm-shim: warning: quota: quota 'claude-5h' (estimate): claude "
                          "five_hour window at 90% (estimate: 900 of 1,000 tokens recorded in "
                          "the window)")
    rows = [r for r in shim_env.attempts() if r["invocation_id"] != "earlier"]
    assert reasons(rows[0])[0].startswith("quota 'claude-5h' (estimate): ")  # first in `logs`


def test_route_explain_shows_the_quota(shim_env, snapshot):
    shim_env.install("claude", "codex")
    shim_env.config(quota(action="redirect", to={"tool": "codex"}))
    snapshot("five_hour", 88.0)
    proc = shim_env.run(["llm-shim", "route", "--explain", "--"] + ONESHOT)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.decode()
    assert "tool:       codex  (called as claude)" in out
    assert "quota 'claude-5h': claude five_hour window at 88%" in out


STREAM_CLAUDE = r'''#!{python} -S
import json, sys, time
reset = time.time() + 3600
for line in (
    {{"type": "system", "subtype": "init", "session_id": "s-1", "model": "claude-opus-4-6"}},
    {{"type": "rate_limit_event", "rate_limit_info": {{"status": "allowed_warning",
      "resetsAt": reset, "rateLimitType": "five_hour", "utilization": 0.9}}}},
    {{"type": "result", "subtype": "success", "is_error": False, "session_id": "s-1",
      "total_cost_usd": 0.01, "result": "done", "modelUsage": {{"claude-opus-4-6": {{
      "inputTokens": 10, "outputTokens": 5, "cacheReadInputTokens": 0,
      "cacheCreationInputTokens": 0, "costUSD": 0.01}}}}}},
):
    sys.stdout.write(json.dumps(line) + "\n")
'''


def test_stream_json_rate_limit_events_feed_the_quota_without_a_status_line(shim_env):
    """A one-shot stream-json call's rate_limit_event is recorded as it passes; the next call
    meets the quota it reached."""
    import sys

    shim_env.fake_cli("claude", script=STREAM_CLAUDE.format(python=sys.executable))
    shim_env.config(quota(action="block"))
    call = ["claude", "-p", "hi", "--output-format", "stream-json", "--verbose"]
    first = shim_env.run(call)
    assert first.returncode == 0, first.stderr
    assert b'"rate_limit_event"' in first.stdout  # passed through untouched
    second = shim_env.run(call)
    assert second.returncode == 75
    assert second.stderr.decode().startswith(
        "llm-shim: quota: quota 'claude-5h': claude five_hour window at 90% (as claude "
        "reported it ")
    from shim.telemetry import store

    conn = store.connect()
    try:
        rows = conn.execute("SELECT plan_window, used_pct, status, source, session_id "
                            "FROM plan_snapshots").fetchall()
    finally:
        conn.close()
    assert rows == [("five_hour", 90.0, "allowed_warning", "stream", "s-1")]


def test_an_overridden_block_is_recorded_as_overridden(shim_env, snapshot):
    shim_env.install("claude")
    shim_env.config(quota(action="block"))
    snapshot("five_hour", 95.0)
    proc = shim_env.run(ONESHOT, {"LLM_SHIM_BUDGET_OVERRIDE": "1"})
    assert proc.returncode == 0
    assert "LLM_SHIM_BUDGET_OVERRIDE=1: running it anyway" in proc.stderr.decode()
    [row] = shim_env.attempts()
    assert row["budget_override"] == 1 and row["blocked"] == 0
