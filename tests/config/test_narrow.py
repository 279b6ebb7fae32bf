"""A trusted project file may only narrow: shim.config.narrow key by key, and the builder
applying the rest (issue 15, deliverable 2)."""

import pytest
import yaml

from shim.config import compiled, narrow

BASE = yaml.safe_load("""
tools: {claude: {}, codex: {}}
models: {m1: {aliases: [one]}, m2: {}}
default_agent: default
identify: []
agents:
  default: {}
  rev: {tool: claude, budget: {period: day, limit: {usd: 5.0, type: hard}}, privacy: metadata}
policies:
  privacy: metadata
  budgets:
    cap: {scope: tool, match: claude, period: day, limit: {usd: 2.0}}
    soft: {scope: global, period: week, limit: {usd: 9.0, type: soft}}
  rate_limits:
    burst: {scope: tool, match: codex, calls_per_minute: 10}
""")


def refused(project_text, base=BASE):
    return {".".join(map(str, p)): m
            for p, m in narrow.refusals(base, yaml.safe_load(project_text))}


@pytest.mark.parametrize("text", [
    "schema_version: 1",
    "agents: {new: {tool: codex, model: one, budget: {period: day, limit: {usd: 1}}}}",
    "agents: {rev: {model: m2, tool: codex, fallback: [{tool: claude}]}}",
    "agents: {rev: {budget: {limit: {usd: 1.0}}}}",
    "agents: {rev: {budget: {limit: {usd: 5.0}, action: downgrade, downgrade_at: 0.5}}}",
    "policies: {budgets: {cap: {limit: {usd: 1.5, type: hard}}, mine: {scope: global, period: day, limit: {usd: 1}}}}",
    "policies: {budgets: {soft: {limit: {type: hard, usd: 3}}}}",
    "policies: {rate_limits: {burst: {calls_per_minute: 2, calls_per_hour: 30, on_limit: reject}}}",
    "policies: {cost_optimization: {enabled: true}, fallback: {chains: {claude: [{tool: codex}]}}}",
    "policies: {privacy: metadata}",
    "default_agent: rev",   # no limited agent loses calls: `default` has none
    "identify: [{agent: rev, tool: claude}]",
])
def test_narrowing_is_allowed(text):
    assert narrow.refusals(BASE, yaml.safe_load(text)) == []


@pytest.mark.parametrize("text, where, words", [
    ("tools: {bash: {adapter: generic}}", "tools", "not allowed in a project file"),
    ("models: {m1: {prices: {input: 0}}}", "models", "not allowed"),
    ("team: {dsn: x}", "team", "not allowed"),
    ("telemetry: {enabled: false}", "telemetry", "not allowed"),
    ("policies: {on_error: block}", "policies.on_error", "not allowed"),
    ("policies: {project: omit}", "policies.project", "not allowed"),
    ("policies: {timezone: UTC}", "policies.timezone", "not allowed"),
    ("policies: {week_starts: sunday}", "policies.week_starts", "not allowed"),
    ("policies: {estimate: {output_tokens: 1}}", "policies.estimate", "not allowed"),
    ("policies: {trust_project_files: true}", "policies.trust_project_files", "not allowed"),
    ("policies: {privacy: full}", "policies.privacy", "not stricter"),
    ("policies: {privacy: 'off'}", "policies.privacy", "not stricter"),
    ("policies: []", "policies", "not allowed"),
    ("agents: {x: {tool: bash}}", "agents.x.tool", "tool 'bash' is not defined"),
    ("agents: {x: {model: gpt-9}}", "agents.x.model", "model 'gpt-9' is not defined"),
    ("agents: {x: {fallback: [{tool: bash}]}}", "agents.x.fallback.0.tool", "tool 'bash'"),
    ("agents: {rev: null}", "agents.rev", "removes agent 'rev'"),
    ("agents: []", "agents", "not replace"),
    ("agents: {rev: {budget: null}}", "agents.rev.budget", "removes agent 'rev'"),
    ("agents: {rev: {budget: {limit: {usd: 6}}}}", "agents.rev.budget.limit.usd", "raises agent 'rev'"),
    ("agents: {rev: {budget: {limit: {type: soft}}}}", "agents.rev.budget.limit.type", "softens"),
    ("agents: {rev: {budget: {period: month}}}", "agents.rev.budget.period", "changes the period"),
    ("agents: {rev: {privacy: full}}", "agents.rev.privacy", "not stricter"),
    ("agents: {new: {privacy: full}}", "agents.new.privacy", "not stricter"),
    ("policies: {budgets: {cap: {limit: {usd: 1000}}}}", "policies.budgets.cap.limit.usd", "raises budget 'cap' from 2.0 to 1000"),
    ("policies: {budgets: {cap: {limit: {type: soft}}}}", "policies.budgets.cap.limit.type", "softens budget 'cap'"),
    ("policies: {budgets: {cap: {limit: 7}}}", "policies.budgets.cap.limit", "raises"),
    ("policies: {budgets: {cap: null}}", "policies.budgets.cap", "removes budget 'cap'"),
    ("policies: {budgets: []}", "policies.budgets", "not replace"),
    ("policies: {budgets: {cap: {match: codex}}}", "policies.budgets.cap.match", "changes the match"),
    ("policies: {budgets: {cap: {period: rolling, window: 1h}}}", "policies.budgets.cap.period", "changes the period"),
    ("policies: {budgets: {cap: {reserve_usd: 0.0}}}", "policies.budgets.cap.reserve_usd", "not allowed"),
    ("policies: {rate_limits: {burst: {calls_per_minute: 100}}}", "policies.rate_limits.burst.calls_per_minute", "raises or removes"),
    ("policies: {rate_limits: {burst: {calls_per_minute: null}}}", "policies.rate_limits.burst.calls_per_minute", "raises or removes"),
    ("policies: {rate_limits: {burst: null}}", "policies.rate_limits.burst", "removes rate limit 'burst'"),
    ("policies: {fallback: {chains: {claude: [{tool: bash}]}}}", "policies.fallback.chains.claude.0.tool", "tool 'bash'"),
    ("schema_version: 1\nwhatever: 1", "whatever", "not allowed"),
])
def test_loosening_is_refused_key_by_key(text, where, words):
    found = refused(text)
    assert where in found, found
    assert words in found[where]


def test_routing_away_from_a_limited_agent_is_refused():
    base = dict(BASE, default_agent="rev")
    found = refused("default_agent: default\nidentify: [{agent: default, tool: claude}]", base)
    assert set(found) == {"default_agent", "identify"}
    assert "would move calls away from agent 'rev'" in found["default_agent"]
    base = dict(BASE, policies=dict(BASE["policies"], budgets={
        "d": {"scope": "agent", "match": "default", "period": "day", "limit": {"usd": 1}}}))
    assert set(refused("default_agent: rev", base)) == {"default_agent"}


def test_refused_keys_are_dropped_and_the_rest_applies(write_yaml, user_file, tmp_path,
                                                        trust_project, capsys):
    with open(user_file, "w") as fh:
        fh.write("schema_version: 1\npolicies:\n  budgets:\n    cap: {scope: global, period: "
                 "day, limit: {usd: 2.0}}\n")
    project = trust_project(write_yaml("repo/.llm-shim.yaml", """
        schema_version: 1
        agents: {demo: {model: haiku}}
        policies:
          budgets:
            cap: {limit: {usd: 1000}}
            mine: {scope: agent, match: demo, period: day, limit: {usd: 0.5}}
          on_error: block
    """))
    cfg = compiled.load(cwd=str(tmp_path / "repo"))
    assert cfg["agents"]["demo"]["model"] == "haiku"
    assert cfg["policies"]["budgets"]["cap"]["limit"]["usd"] == 2.0
    assert cfg["policies"]["budgets"]["mine"]["limit"]["usd"] == 0.5
    assert cfg["policies"]["on_error"] == "passthrough"
    err = capsys.readouterr().err.splitlines()
    assert err == [f"llm-shim: {project}:5: policies.budgets.cap.limit.usd: raises budget 'cap' "
                   "from 2.0 to 1000; a project file may only lower it",
                   f"llm-shim: {project}:7: policies.on_error: not allowed in a project file; "
                   f"set it in your user config ({user_file}) or $LLM_SHIM_CONFIG"]
    compiled.load(cwd=str(tmp_path / "repo"))  # a hit: the lines are not repeated this hour
    assert capsys.readouterr().err == ""


def test_an_invalid_cached_error_never_carries_a_project_on_error(write_yaml, user_file,
                                                                    tmp_path, trust_project):
    from shim.errors import ConfigError

    with open(user_file, "w") as fh:
        fh.write("schema_version: 1\nagents: {x: {tool: nope}}\n")
    trust_project(write_yaml("repo/.llm-shim.yaml", "policies: {on_error: block}\n"))
    for _ in range(2):  # compiled, then from the cache
        with pytest.raises(ConfigError) as info:
            compiled.load(cwd=str(tmp_path / "repo"))
        assert info.value.on_error == "passthrough"  # the default's, not the project's block


def test_a_budget_of_llm_shim_config_cannot_be_softened_from_below(write_yaml, tmp_path,
                                                                  monkeypatch, trust_project):
    """$LLM_SHIM_CONFIG sits above the project file, but merges key by key: a project's
    `type: soft` under an env budget that sets only `usd` would survive the merge."""
    env = write_yaml("env.yaml", "policies: {budgets: {cap: {scope: global, period: day, "
                                 "limit: {usd: 1.0}}}}\n")
    monkeypatch.setenv("LLM_SHIM_CONFIG", env)
    trust_project(write_yaml("repo/.llm-shim.yaml",
                             "policies: {budgets: {cap: {limit: {type: soft}}}}\n"))
    cfg = compiled.load(cwd=str(tmp_path / "repo"))
    assert cfg["policies"]["budgets"]["cap"]["limit"]["type"] == "hard"
