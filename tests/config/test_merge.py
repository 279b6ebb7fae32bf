"""Discovery and merge order across the four layers: env > project > user > default."""

import os
import textwrap

import pytest
import yaml

from shim.config import build, compiled
from shim.errors import ConfigError

from tests.config.conftest import DEFAULT


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        fh.write(textwrap.dedent(text).lstrip("\n"))
    return path


@pytest.fixture
def four_layers(tmp_path, user_file, monkeypatch, trust_project):
    """A user file, a project file two directories up from cwd, and an env file."""
    project = tmp_path / "proj"
    cwd = project / "src" / "deep"
    cwd.mkdir(parents=True)
    monkeypatch.chdir(cwd)
    _write(user_file, """
        schema_version: 1
        policies:
          fallback: {max_attempts: 4, deadline_seconds: 100, cooldown_seconds: 7}
          privacy: full
        identify:
          - {agent: auto, cwd: "/user/**"}
          - {agent: default, tool: codex}
        models:
          gpt-4o:
            prices: {input: 2.0}
    """)
    project_file = _write(str(project / ".llm-shim.yaml"), """
        policies:
          fallback: {max_attempts: 5, deadline_seconds: 200}
        identify:
          - {agent: auto, cwd: "/project/**"}
    """)
    env_file = _write(str(tmp_path / "env.yaml"), """
        policies:
          fallback: {max_attempts: 6}
    """)
    monkeypatch.setenv("LLM_SHIM_CONFIG", env_file)
    trust_project(project_file)
    return {"user": user_file, "project": project_file, "env": env_file, "cwd": str(cwd)}


def test_discover_lists_all_four_layers_highest_first(four_layers):
    assert compiled.discover() == [
        (four_layers["env"], "env"),
        (four_layers["project"], "project"),
        (four_layers["user"], "user"),
        (DEFAULT, "default"),
    ]


def test_each_key_comes_from_the_highest_layer_that_sets_it(four_layers):
    cfg = compiled.load()
    fallback = cfg["policies"]["fallback"]
    assert fallback["max_attempts"] == 6            # env
    assert fallback["deadline_seconds"] == 200      # project
    assert fallback["cooldown_seconds"] == 7        # user
    assert fallback["triggers"] == yaml.safe_load(open(DEFAULT))["policies"]["fallback"]["triggers"]
    assert cfg["policies"]["privacy"] == "full"     # user, untouched by the layers above
    assert cfg["policies"]["on_error"] == "passthrough"  # default
    origin = cfg["_origin"]
    assert origin["policies.fallback.max_attempts"] == four_layers["env"]
    assert origin["policies.fallback.deadline_seconds"] == four_layers["project"]
    assert origin["policies.fallback.cooldown_seconds"] == four_layers["user"]
    assert origin["policies.on_error"] == DEFAULT
    assert [s["layer"] for s in cfg["_sources"]] == ["env", "project", "user", "default"]


def test_lists_are_replaced_not_concatenated(four_layers):
    cfg = compiled.load()
    assert cfg["identify"] == [{"agent": "auto", "cwd": "/project/**", "parent": None, "tool": None}]


def test_mappings_merge_key_by_key(four_layers):
    prices = compiled.load()["models"]["gpt-4o"]["prices"]
    assert prices["input"] == 2.0                   # user
    assert prices["output"] == 10.0                 # default, kept beside it


def test_removing_a_layer_uncovers_the_one_below(four_layers, monkeypatch):
    monkeypatch.delenv("LLM_SHIM_CONFIG")
    assert compiled.load()["policies"]["fallback"]["max_attempts"] == 5
    os.unlink(four_layers["project"])
    assert compiled.load()["policies"]["fallback"]["max_attempts"] == 4
    os.unlink(four_layers["user"])
    assert compiled.load()["policies"]["fallback"]["max_attempts"] == 3
    assert compiled.discover() == [(DEFAULT, "default")]


def test_nearest_project_file_wins(tmp_path, write_yaml, trust_project):
    trust_project(write_yaml("a/.llm-shim.yaml", "policies: {fallback: {max_attempts: 7}}\n"))
    nearer = trust_project(write_yaml("a/b/.llm-shim.yaml",
                                      "policies: {fallback: {max_attempts: 8}}\n"))
    (tmp_path / "a/b/c").mkdir()
    assert compiled.find_project_file(str(tmp_path / "a/b/c")) == nearer
    assert compiled.load(cwd=str(tmp_path / "a/b/c"))["policies"]["fallback"]["max_attempts"] == 8
    assert compiled.load(cwd=str(tmp_path / "a"))["policies"]["fallback"]["max_attempts"] == 7


def test_environ_argument_chooses_the_env_file(write_yaml):
    env_file = write_yaml("e.yaml", "default_agent: auto\n")
    assert compiled.load(environ={"LLM_SHIM_CONFIG": env_file})["default_agent"] == "auto"
    assert compiled.load(environ={})["default_agent"] == "default"


def test_missing_env_file_is_an_error_naming_it(tmp_path):
    missing = str(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError) as info:
        compiled.load(environ={"LLM_SHIM_CONFIG": missing})
    assert missing in info.value.what


def test_defaults_are_filled_for_new_entries(write_yaml):
    path = write_yaml("c.yaml", """
        models:
          mine: {provider: local, tier: cheap, prices: {input: 0, output: 0}}
        agents:
          bot: {tool: llm}
        tools:
          aider: {}
    """)
    cfg = build.compile_sources([(path, "env"), (DEFAULT, "default")])
    assert cfg["models"]["mine"]["aliases"] == []
    # no default for the cache prices: an absent one is the input price (telemetry/prices.py)
    assert cfg["models"]["mine"]["prices"] == {"input": 0, "output": 0}
    assert cfg["models"]["mine"]["context_window"] is None
    assert cfg["agents"]["bot"] == {"tool": "llm", "description": None, "model": None,
                                    "tier": None, "cost_optimization": None,
                                    "override_explicit_model": None, "fallback": None,
                                    "budget": None, "privacy": None}
    assert cfg["tools"]["aider"]["adapter"] == "generic"
    assert cfg["team"] is None
    assert cfg["_origin"]["models.mine.aliases"] == build.SCHEMA_DEFAULT
    assert cfg["_origin"]["models.mine.provider"] == path


def test_aliases_table_maps_ids_and_aliases(write_yaml):
    path = write_yaml("c.yaml", """
        models:
          mine: {provider: local, tier: cheap, prices: {input: 0, output: 0}, aliases: [m1, m2]}
    """)
    cfg = build.compile_sources([(path, "env"), (DEFAULT, "default")])
    assert cfg["_aliases"]["mine"] == "mine"
    assert cfg["_aliases"]["m1"] == cfg["_aliases"]["m2"] == "mine"
    assert cfg["_aliases"]["sonnet"] == "claude-sonnet-5"
    for model_id, model in cfg["models"].items():
        for alias in model["aliases"]:
            assert cfg["_aliases"][alias] == model_id
