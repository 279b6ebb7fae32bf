"""A typo in `$LLM_SHIM_AGENT` can never escape a budget (issue 15, item 6): through real shims,
the call counts against the default agent's budget and against budgets over all calls."""

import json

from tests.policy.conftest import TEN_CENTS_MODEL

DIME_CALL = ["claude", "-p", "hi", "--model", "dime-model", "--output-format", "json"]


def _config(shim_env, budget, policy=None):
    cfg = {"models": {"dime-model": TEN_CENTS_MODEL},
           "agents": {"rev": {}, "default": {"budget": budget}} if budget else {"rev": {}},
           "policies": {}}
    if policy:
        cfg["policies"]["unknown_agent"] = policy
    shim_env.config(cfg)


def test_typo_counts_against_the_default_agents_hard_budget(shim_env):
    shim_env.install("claude")
    _config(shim_env, {"period": "day", "limit": {"usd": 0.15, "type": "hard"}})
    first = shim_env.run(DIME_CALL, {"LLM_SHIM_AGENT": "Rev"})
    assert first.returncode == 0, first.stderr
    assert b"did you mean rev?" in first.stderr
    second = shim_env.run(DIME_CALL, {"LLM_SHIM_AGENT": "Rev"})
    assert second.returncode == 75, second.stderr  # $0.10 spent + $0.10 > $0.15
    assert b"agent 'default' has spent $0.10 of $0.15" in second.stderr
    assert len(shim_env.calls("claude")) == 1
    rows = shim_env.attempts()
    assert [r["agent"] for r in rows] == ["default", "default"]
    assert "unknown agent $LLM_SHIM_AGENT=Rev: default_agent default applies" in \
        json.loads(rows[0]["reasons"])


def test_typo_counts_against_a_budget_over_all_calls(shim_env):
    shim_env.install("claude")
    shim_env.config({"models": {"dime-model": TEN_CENTS_MODEL}, "agents": {"rev": {}},
                     "policies": {"unknown_agent": "default", "budgets": {"all": {
                         "scope": "global", "period": "day",
                         "limit": {"usd": 0.15, "type": "hard"}}}}})
    assert shim_env.run(DIME_CALL, {"LLM_SHIM_AGENT": "rev"}).returncode == 0
    typo = shim_env.run(DIME_CALL, {"LLM_SHIM_AGENT": "Rev"})
    assert typo.returncode == 75
    assert typo.stderr.decode().startswith("llm-shim: budget: budget 'all' (all calls) has spent")


def test_block_refuses_a_typo_before_anything_runs(shim_env):
    shim_env.install("claude")
    _config(shim_env, None, policy="block")
    proc = shim_env.run(DIME_CALL, {"LLM_SHIM_AGENT": "Rev"})
    assert proc.returncode == 75
    assert proc.stderr.decode().splitlines() == [
        "llm-shim: agent: $LLM_SHIM_AGENT=Rev names no configured agent (did you mean rev?); "
        "set it to an agent under `agents:` (`llm-shim config show agents`); "
        "policies.unknown_agent is block, so nothing ran"]
    assert shim_env.calls("claude") == []


def test_a_refused_unknown_agent_is_recorded_and_shown_by_logs_and_watch(shim_env):
    """Like a budget refusal, the refusal leaves a blocked attempt (block_reason `unknown
    agent: ...`, the asked name kept in its reasons); a dry run records nothing."""
    shim_env.install("claude")
    _config(shim_env, None, policy="block")
    dry = shim_env.run(DIME_CALL, {"LLM_SHIM_AGENT": "Rev", "LLM_SHIM_DRY_RUN": "1"})
    assert dry.returncode == 0 and b"policies.unknown_agent is block" in dry.stderr
    assert shim_env.attempts() == []
    assert shim_env.run(DIME_CALL, {"LLM_SHIM_AGENT": "Rev"}).returncode == 75
    [row] = shim_env.attempts()
    assert row["blocked"] == 1 and row["tool"] == "claude" and row["agent"] == "default"
    assert row["block_reason"] == ("unknown agent: $LLM_SHIM_AGENT=Rev names no configured "
                                   "agent (did you mean rev?)")
    assert any(r.startswith("unknown agent $LLM_SHIM_AGENT=Rev: refused")
               for r in json.loads(row["reasons"]))
    assert row["cost_usd"] in (None, 0) and shim_env.calls("claude") == []
    logs = shim_env.run(["llm-shim", "logs", "--blocked"])
    assert logs.returncode == 0, logs.stderr
    assert b"unknown agent" in logs.stdout, logs.stdout
    watch = shim_env.run(["llm-shim", "watch", "--once"])
    assert watch.returncode == 0, watch.stderr
    assert b"blocked" in watch.stdout and b"unknown agent" in watch.stdout, watch.stdout


def test_typo_of_an_agent_with_a_budget_is_held_by_that_budget_too(shim_env):
    """The default agent has no budget here; `Rev` is surely `rev`, so rev's hard budget gates
    the call too (routing stays the default agent's). A far name is not held by it."""
    shim_env.install("claude")
    shim_env.config({"models": {"dime-model": TEN_CENTS_MODEL},
                     "agents": {"rev": {"budget": {"period": "day",
                                                   "limit": {"usd": 0.15, "type": "hard"}}}}})
    assert shim_env.run(DIME_CALL, {"LLM_SHIM_AGENT": "rev"}).returncode == 0
    for typo in ("Rev", "revv", "REV"):
        proc = shim_env.run(DIME_CALL, {"LLM_SHIM_AGENT": typo})
        assert proc.returncode == 75, (typo, proc.stderr)
        assert b"agent 'rev' has spent $0.10 of $0.15" in proc.stderr
    assert shim_env.run(DIME_CALL, {"LLM_SHIM_AGENT": "reviewer-bot"}).returncode == 0
    assert len(shim_env.calls("claude")) == 2
