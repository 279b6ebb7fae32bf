"""Agent identification: $LLM_SHIM_AGENT, identify rules in order, default_agent."""

import os
import subprocess
import sys

import pytest

from shim.routing import agents

RULES = [
    {"agent": "reviewer", "parent": {"cmdline": "*review-bot*"}},
    {"agent": "ci", "parent": {"name": "github-runner*"}},
    {"agent": "work", "cwd": "~/work/**"},
    {"agent": "scripts", "tool": "llm"},
    {"agent": "codex-in-tmp", "tool": "codex", "cwd": "/tmp/*"},
]


@pytest.fixture
def rules_cfg(config):
    return config({"identify": RULES, "agents": {"reviewer": {}, "ci": {}, "work": {},
                                                 "scripts": {}, "codex-in-tmp": {}}})


def test_env_var_wins(rules_cfg):
    agent, why = agents.identify("llm", rules_cfg, {"LLM_SHIM_AGENT": "auto"}, "/home/u/work/x", [])
    assert agent == "auto" and "LLM_SHIM_AGENT" in why


def test_env_var_unknown_agent_maps_to_the_default_and_says_so(rules_cfg):
    agent, why = agents.identify("claude", rules_cfg, {"LLM_SHIM_AGENT": "nobody"}, "/", [])
    assert agent == "default"  # tests/routing/test_unknown_agent.py has the policies
    assert why == "unknown agent $LLM_SHIM_AGENT=nobody: default_agent default applies"


def test_empty_env_var_is_ignored(rules_cfg):
    agent, _ = agents.identify("claude", rules_cfg, {"LLM_SHIM_AGENT": "  "}, "/", [])
    assert agent == "default"


def test_parent_cmdline_rule(rules_cfg):
    chain = [{"name": "bash", "cmdline": "bash"}, {"name": "python3", "cmdline": "python3 /opt/review-bot/run.py"}]
    agent, why = agents.identify("claude", rules_cfg, {}, "/", chain)
    assert agent == "reviewer" and "rule 1" in why


def test_parent_name_rule(rules_cfg):
    chain = [{"name": "github-runner-7", "cmdline": "x"}]
    assert agents.identify("claude", rules_cfg, {}, "/", chain)[0] == "ci"


def test_cwd_rule_with_home_expansion(rules_cfg):
    env = {"HOME": "/home/u"}
    assert agents.identify("claude", rules_cfg, env, "/home/u/work/proj/src", [])[0] == "work"
    assert agents.identify("claude", rules_cfg, env, "/home/u/work", [])[0] == "work"
    assert agents.identify("claude", rules_cfg, env, "/home/u/workshop", [])[0] == "default"


def test_tool_rule(rules_cfg):
    assert agents.identify("llm", rules_cfg, {}, "/", [])[0] == "scripts"


def test_every_condition_of_a_rule_must_hold(rules_cfg):
    assert agents.identify("codex", rules_cfg, {}, "/tmp/x", [])[0] == "codex-in-tmp"
    assert agents.identify("codex", rules_cfg, {}, "/srv/x", [])[0] == "default"


def test_first_match_wins(rules_cfg):
    chain = [{"name": "github-runner", "cmdline": "review-bot"}]
    assert agents.identify("llm", rules_cfg, {"HOME": "/h"}, "/h/work", chain)[0] == "reviewer"


def test_default_agent(config):
    cfg = config({"default_agent": "auto"})
    assert agents.identify("claude", cfg, {}, "/", []) == ("auto", "default_agent")


def test_no_rules_never_imports_psutil_or_fnmatch(cfg):
    code = ("import sys; from shim.routing import agents; from tests.support.configs import make_config;"
            "cfg = make_config(); sys.modules.pop('fnmatch', None); sys.modules.pop('psutil', None);"
            "print(agents.identify('claude', cfg, {}, '/')[0], 'psutil' in sys.modules, 'fnmatch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert out.stdout.split() == ["default", "False", "False"], out.stderr


def test_real_parent_chain_via_psutil():
    # A child process whose parent is this pytest process: "*pytest*" is up its chain.
    code = ("from shim.routing import agents; from tests.support.configs import make_config;"
            "cfg = make_config({'identify': [{'agent': 'tester', 'parent': {'cmdline': '*pytest*'}}],"
            " 'agents': {'tester': {}}});"
            "print(*agents.identify('claude', cfg, {}, '/'), sep='|')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    agent, why = out.stdout.strip().split("|")
    assert agent == "tester", out.stderr
    assert "parent process" in why


def test_rules_match_through_the_compiled_config(tmp_path, monkeypatch):
    """The compiled config fills every rule's missing keys with null (`tool: null`): a cwd or
    parent rule without `tool` must still match. The stand-in config above fills nothing."""
    from shim.config import compiled

    work = tmp_path / "work"
    (work / "sub").mkdir(parents=True)
    config_file = tmp_path / "rules.yaml"
    config_file.write_text(
        "agents: {work: {}, reviewer: {}}\n"
        "identify:\n"
        "  - {agent: reviewer, parent: {cmdline: '*review-bot*'}}\n"
        f"  - {{agent: work, cwd: '{work}/**'}}\n")
    monkeypatch.setenv("LLM_SHIM_CONFIG", str(config_file))
    cfg = compiled.load()
    assert cfg["identify"][1]["tool"] is None  # what the loader gives, and why this test exists
    assert agents.identify("claude", cfg, {}, str(work / "sub"), [])[0] == "work"
    bot = [{"name": "python3", "cmdline": "python3 review-bot.py --pr 7"}]
    assert agents.identify("codex", cfg, {}, "/elsewhere", bot)[0] == "reviewer"
    assert agents.identify("codex", cfg, {}, "/elsewhere", [])[0] == "default"
