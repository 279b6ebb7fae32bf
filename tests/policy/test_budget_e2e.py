"""Budgets, rate limits and cooldowns through real shims, in separate processes."""

import json
import sqlite3
import time

import pytest

from tests.policy.conftest import TEN_CENTS_MODEL

DIME_CALL = ["claude", "-p", "hi", "--model", "dime-model", "--output-format", "json"]


def dime_config(**policies):
    return {"models": {"dime-model": TEN_CENTS_MODEL}, "policies": policies}


def test_hard_budget_holds_under_twenty_parallel_calls(shim_env):
    """$1.00 hard budget, 20 parallel calls of $0.10 each: at most 10 run, the rest exit 75,
    and the recorded spend is at most $1.00."""
    shim_env.install("claude")
    shim_env.config(dime_config(budgets={"dollar": {
        "scope": "global", "period": "day", "limit": {"usd": 1.00, "type": "hard"}}}))
    # The fakes sleep so that all 20 are in flight together, not one after another.
    procs = [shim_env.popen(DIME_CALL, {"FAKE_CLAUDE_SLEEP": "0.5"}) for _ in range(20)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        results.append((proc.returncode, out, err))
    codes = sorted(code for code, _, _ in results)
    ran = [r for r in results if r[0] == 0]
    blocked = [r for r in results if r[0] == 75]
    assert len(ran) + len(blocked) == 20, codes
    assert 1 <= len(ran) <= 10, codes
    assert len(ran) == len(shim_env.calls("claude"))  # a blocked call never started
    for _, out, err in blocked:
        assert out == b""
        assert err.decode().startswith("llm-shim: budget: budget 'dollar' (all calls) has spent")
        assert err.count(b"\n") == 1
    rows = shim_env.attempts()
    spend = sum(r["cost_usd"] or 0.0 for r in rows if not r["blocked"])
    assert spend <= 1.00 + 1e-9
    assert sum(1 for r in rows if r["blocked"]) == len(blocked)
    assert spend == pytest.approx(0.10 * len(ran))
    # Once everything settled, the budget is full: one more call is refused.
    assert shim_env.run(DIME_CALL).returncode == (75 if len(ran) == 10 else 0)


def test_blocked_call_is_recorded_and_override_is_recorded(shim_env):
    shim_env.install("claude")
    shim_env.config(dime_config(budgets={"tiny": {
        "scope": "tool", "match": "claude", "period": "day", "limit": {"usd": 0.05}}}))
    proc = shim_env.run(DIME_CALL)
    assert proc.returncode == 75
    line = proc.stderr.decode()
    assert line.startswith("llm-shim: budget: tool 'claude' has spent $0.00 of $0.05 today "
                           "(this call needs about $0.10); resets in ")
    assert line.rstrip().endswith("(LLM_SHIM_BUDGET_OVERRIDE=1 runs it anyway, and that is "
                                  "recorded)")
    assert shim_env.calls("claude") == []
    proc = shim_env.run(DIME_CALL, {"LLM_SHIM_BUDGET_OVERRIDE": "1"})
    assert proc.returncode == 0
    assert b"running it anyway (recorded)" in proc.stderr
    rows = shim_env.attempts()
    assert [(r["blocked"], r["budget_override"]) for r in rows] == [(1, 0), (0, 1)]
    assert rows[0]["block_reason"].startswith("budget: tool 'claude' has spent $0.00")


def test_soft_budget_warns_and_runs(shim_env):
    shim_env.install("claude")
    shim_env.config(dime_config(budgets={"soft": {
        "scope": "global", "period": "day", "limit": {"usd": 0.15, "type": "soft"}}}))
    assert shim_env.run(DIME_CALL).stderr == b""
    proc = shim_env.run(DIME_CALL)
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["result"] == "answer from claude dime-model"
    assert proc.stderr.decode().startswith(
        "llm-shim: warning: budget: budget 'soft' (all calls) has spent $0.10 of $0.15 today")
    assert len(shim_env.calls("claude")) == 2


def test_downgrade_routes_to_the_cheaper_tier(shim_env):
    shim_env.install("claude")
    # Each call costs $0.30 and reserves that much (reserve_usd: a hard budget caps a claude
    # one-shot call at its reservation); from the third one, spent + reservation reaches 80 %.
    shim_env.config({"agents": {"worker": {"model": "sonnet", "budget": {
        "period": "day", "limit": {"usd": 1.00}, "action": "downgrade", "downgrade_at": 0.8,
        "reserve_usd": 0.30}}}})
    env = {"LLM_SHIM_AGENT": "worker", "FAKE_CLAUDE_COST": "0.30"}
    for _ in range(2):
        assert shim_env.run(["claude", "-p", "hi", "--output-format", "json"], env).returncode \
            == 0
    proc = shim_env.run(["claude", "-p", "hi", "--output-format", "json"], env)
    assert proc.returncode == 0, proc.stderr
    models = [c["argv"][c["argv"].index("--model") + 1] for c in shim_env.calls("claude")]
    assert models == ["claude-sonnet-5", "claude-sonnet-5", "claude-haiku-4-5-20251001"]
    assert proc.stderr.decode().startswith(
        "llm-shim: warning: budget: agent 'worker' is at 60% of $1.00 today, 90% with this call "
        "(about $0.30) (downgrade_at 80%); "
        "running claude-haiku-4-5-20251001 instead of claude-sonnet-5")
    rows = shim_env.attempts()
    assert rows[-1]["model"] == "claude-haiku-4-5-20251001"
    assert any("downgraded" in r for r in json.loads(rows[-1]["reasons"]))


def test_rate_limit_reject(shim_env):
    shim_env.install("codex")
    shim_env.config({"policies": {"rate_limits": {"codex-burst": {
        "scope": "tool", "match": "codex", "calls_per_minute": 2, "on_limit": "reject"}}}})
    codes = [shim_env.run(["codex", "exec", "hi"]).returncode for _ in range(3)]
    assert codes == [0, 0, 75]
    proc = shim_env.run(["codex", "exec", "hi"])
    assert proc.stderr.decode().startswith(
        "llm-shim: rate limit: tool 'codex' reached 2 calls per minute (rate limit "
        "'codex-burst'); the next slot is free in ")
    assert len(shim_env.calls("codex")) == 2


def test_rate_limit_wait_then_runs(shim_env):
    shim_env.install("codex")
    shim_env.config({"policies": {"rate_limits": {"slow": {
        "scope": "tool", "match": "codex", "calls_per_minute": 1, "on_limit": "wait",
        "max_wait": 30}}}})
    # Another shim called codex 59.4 s ago: this call has to wait for its slot.
    conn = shim_env.db()
    try:
        conn.execute("INSERT INTO policy_rate_events (at, agent, tool, model, tokens) "
                     "VALUES (?, 'default', 'codex', NULL, 10)", (time.time() - 59.4,))
    finally:
        conn.close()
    proc = shim_env.run(["codex", "exec", "hi"])
    assert proc.returncode == 0, proc.stderr
    assert len(shim_env.calls("codex")) == 1
    (row,) = shim_env.attempts()
    assert any(r.startswith("rate limit: waited ") for r in json.loads(row["reasons"]))


def test_a_cooldown_set_by_one_shim_is_honoured_by_another(shim_env):
    shim_env.install("claude", "codex")
    shim_env.config({"policies": {"fallback": {"cooldown_seconds": 300, "chains": {
        "claude": [{"tool": "codex", "model": "gpt-5.5"}]}}}})
    first = shim_env.run(["claude", "-p", "one"], {"FAKE_CLAUDE_MODE": "429"})
    assert first.returncode == 0 and first.stdout == b"answer from codex gpt-5.5\n"
    # A second, independent shim: claude would answer now, but it is cooling down.
    second = shim_env.run(["claude", "-p", "two"])
    assert second.returncode == 0, second.stderr
    assert second.stdout == b"answer from codex gpt-5.5\n"
    assert len(shim_env.calls("claude")) == 1
    rows = shim_env.attempts()
    assert [(r["tool"], r["attempt"]) for r in rows] == [("claude", 1), ("codex", 2),
                                                         ("codex", 1)]
    reasons = json.loads(rows[-1]["reasons"])
    assert any(r.startswith("cooldown: skipped claude: tool claude is cooling down "
                            "(rate_limited, ") for r in reasons)
    conn = shim_env.db()
    try:
        (until,) = conn.execute("SELECT until FROM policy_cooldowns WHERE kind = 'tool' "
                                "AND name = 'claude'").fetchone()
    finally:
        conn.close()
    assert 290 < until - time.time() <= 300


def test_retry_after_from_the_output_sets_the_cooldown_length(shim_env):
    shim_env.install("llm", "codex")
    shim_env.config({"policies": {"fallback": {"cooldown_seconds": 300, "chains": {
        "llm": [{"tool": "codex", "model": "gpt-5.5"}]}}}})
    proc = shim_env.run(["llm", "-m", "gpt-4o-mini", "hi"], {"FAKE_LLM_MODE": "429"})
    assert proc.returncode == 0, proc.stderr
    conn = shim_env.db()
    conn.row_factory = sqlite3.Row
    try:
        row = conn.execute("SELECT * FROM policy_cooldowns").fetchone()
    finally:
        conn.close()
    assert (row["kind"], row["name"], row["failure_class"]) == \
        ("model", "gpt-4o-mini", "rate_limited")
    assert row["until"] - row["set_at"] == pytest.approx(1.0)  # "Please try again in 1s."


def test_budget_command(shim_env):
    shim_env.install("claude")
    shim_env.config(dime_config(
        budgets={"dollar": {"scope": "global", "period": "day", "limit": {"usd": 1.0}},
                 "dime-week": {"scope": "model", "match": "dime-model", "period": "week",
                               "limit": {"usd": 0.5, "type": "soft"}}},
        rate_limits={"c": {"scope": "tool", "match": "claude", "calls_per_hour": 100}}))
    for _ in range(3):
        assert shim_env.run(DIME_CALL).returncode == 0
    proc = shim_env.run(["llm-shim", "budget", "--json"])
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    got = {b["name"]: b for b in report["budgets"]}
    assert got["dollar"]["spent_usd"] == pytest.approx(0.30)
    assert got["dollar"]["percent"] == pytest.approx(30.0)
    assert got["dollar"]["type"] == "hard" and got["dollar"]["period"] == "day"
    assert 0 < got["dollar"]["resets_in_seconds"] <= 25 * 3600
    assert got["dime-week"]["percent"] == pytest.approx(60.0)
    assert got["dime-week"]["type"] == "soft"
    assert report["rate_limits"][0]["calls_last_hour"] == 3
    assert report["reservations"] == [] or all(r["settled"] for r in report["reservations"])
    text = shim_env.run(["llm-shim", "budget"])
    assert text.returncode == 0
    lines = text.stdout.decode().splitlines()
    assert lines[0].split()[:6] == ["budget", "scope", "period", "spent", "limit", "used"]
    assert any(line.split()[:5] == ["dollar", "global", "day", "$0.30", "$1.00"]
               for line in lines)


def test_budget_command_shows_calls_in_flight(shim_env):
    shim_env.install("claude")
    shim_env.config(dime_config(budgets={"dollar": {
        "scope": "global", "period": "day", "limit": {"usd": 1.0}}}))
    slow = shim_env.popen(DIME_CALL, {"FAKE_CLAUDE_SLEEP": "3"})
    try:
        deadline = time.time() + 20
        while time.time() < deadline and not shim_env.calls("claude"):
            time.sleep(0.05)
        report = json.loads(shim_env.run(["llm-shim", "budget", "--json"]).stdout)
    finally:
        slow.communicate(timeout=60)
    (budget,) = report["budgets"]
    assert budget["in_flight_calls"] == 1
    assert budget["in_flight_usd"] == pytest.approx(0.10)
    assert [r["state"] for r in report["reservations"]] == ["in flight"]


def test_a_locked_database_runs_the_call_unchecked_and_loses_no_row(shim_env):
    """The budget check cannot take the database (another process holds it exclusively past
    the busy timeout): one warning, the real tool runs with its exit code, and the attempt
    still reaches the store through the spool once the lock is gone. A soft budget: under a
    hard one a busy database refuses the call instead (tests/policy/test_busy_gate.py)."""
    shim_env.install("claude")
    shim_env.config(dime_config(budgets={"dollar": {
        "scope": "global", "period": "day", "limit": {"usd": 1.00, "type": "soft"}}}))
    assert shim_env.run(DIME_CALL).returncode == 0
    holder = sqlite3.connect(str(shim_env.shim_home / "telemetry.db"), isolation_level=None)
    holder.execute("PRAGMA busy_timeout = 10000")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        proc = shim_env.run(DIME_CALL, {"FAKE_CLAUDE_MODE": "401"}, timeout=60)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("llm-shim: warning: policy: "), lines
    assert "without its budget check" in lines[0]
    assert len(shim_env.calls("claude")) == 2
    assert [r["exit_code"] for r in shim_env.attempts()] == [0, 1]
