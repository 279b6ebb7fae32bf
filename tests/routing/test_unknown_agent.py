"""`$LLM_SHIM_AGENT` naming no agent (issue 15, item 6): a typo is mapped to the default agent
(one line naming the closest agent, or silently) or refused; never a new agent of its own."""

import pytest

from shim import adapters, errors, exitcodes
from shim.routing import agents, decide

AGENTS = {"rev": {"model": "sonnet"}, "reviewer": {}, "ci": {}}


@pytest.fixture
def typo_cfg(config):
    def make(policy=None):
        over = {"agents": AGENTS}
        if policy:
            over["policies"] = {"unknown_agent": policy}
        return config(over)
    return make


def test_default_policy_is_warn_naming_the_closest_agent(typo_cfg, capsys):
    agent, why = agents.identify("claude", typo_cfg(), {"LLM_SHIM_AGENT": "Rev"}, "/", [])
    assert agent == "default"
    assert why == "unknown agent $LLM_SHIM_AGENT=Rev: default_agent default applies"
    err = capsys.readouterr().err.splitlines()
    assert err == ["llm-shim: warning: agent: $LLM_SHIM_AGENT=Rev names no configured agent "
                   "(did you mean rev?); the default agent default applies, with its budgets "
                   "(policies.unknown_agent: default silences this line)"]


def test_default_policy_maps_silently(typo_cfg, capsys):
    agent, _ = agents.identify("claude", typo_cfg("default"), {"LLM_SHIM_AGENT": "Rev"}, "/", [])
    assert agent == "default"
    assert capsys.readouterr().err == ""


def test_block_policy_refuses_with_the_blocked_exit_code(typo_cfg):
    with pytest.raises(errors.Blocked) as caught:
        agents.identify("claude", typo_cfg("block"), {"LLM_SHIM_AGENT": "Rev"}, "/", [])
    assert caught.value.exit_code == exitcodes.BLOCKED == 75
    assert caught.value.lines()[0].startswith(
        "llm-shim: agent: $LLM_SHIM_AGENT=Rev names no configured agent (did you mean rev?)")


def test_known_names_are_untouched(typo_cfg, capsys):
    assert agents.identify("claude", typo_cfg("block"), {"LLM_SHIM_AGENT": "rev"}, "/", [])[0] \
        == "rev"
    assert capsys.readouterr().err == ""


def test_default_agent_setting_is_the_one_mapped_to(config):
    cfg = config({"agents": AGENTS, "default_agent": "ci"})
    assert agents.identify("claude", cfg, {"LLM_SHIM_AGENT": "nobody-at-all"}, "/", [])[0] == "ci"


@pytest.mark.parametrize("typo, meant", [
    ("Rev", "rev"), ("REVIEWER", "reviewer"), ("reveiwer", "reviewer"), ("revieer", "reviewer"),
    ("cj", "ci"), ("completely-else", None), ("x", None),
])
def test_closest(typo, meant):
    assert agents.closest(typo, AGENTS) == meant


def test_the_requested_name_is_kept_in_the_reasons(typo_cfg):
    cfg = typo_cfg("default")
    agent, why = agents.identify("claude", cfg, {"LLM_SHIM_AGENT": "Rev"}, "/", [])
    request = adapters.parse("claude", ["-p", "hello"], cfg)
    decision = decide(request, cfg, agent, agent_reason=why)
    assert decision["agent"] == "default"
    assert decision["reasons"][0] == "unknown agent $LLM_SHIM_AGENT=Rev: default_agent default applies"
    assert decision["model"] is None  # rev's settings (model sonnet) do not apply to a typo
