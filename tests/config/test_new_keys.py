"""Keys the routing and policy code read, now declared in the schema: each validates, each
wrong value is reported at its FILE:LINE, and the code sees the validated (default-filled) values."""

import copy
import json

import pytest
import yaml

from shim.adapters import failure_patterns
from shim.cli.main import main
from shim.config import build
from shim.policy import estimate
from shim.routing import agents
from shim.routing.decide import cost_settings
from shim.telemetry import prices

from tests.config.conftest import DEFAULT, line_of
from tests.config.test_schema import _ours, _reference_validator

# A CLI known only from YAML, using every key of `generic`.
MYCLI = {
    "adapter": "generic",
    "providers": ["acme"],
    "generic": {
        "oneshot_flags": ["--once"],
        "oneshot_subcommands": ["run"],
        "positional_oneshot": False,
        "interactive_subcommands": ["chat"],
        "resume_subcommands": ["resume"],
        "meta_flags": ["--help", "--version"],
        "meta_subcommands": ["auth"],
        "prompt_flags": ["--prompt"],
        "prompt_positional": True,
        "model_flags": ["-m", "--model"],
        "value_flags": ["--temp"],
        "resume_flags": ["--continue"],
        "output_flags": ["-f"],
        "output_formats": {"js": "json"},
        "default_output": "text",
        "portable_flags": ["--quiet"],
        "short_equals": True,
        "render": ["run", ["-m", "{model}"], "{output}", "{prompt}"],
        "render_output": {"json": ["-f", "js"]},
        "failures": {"slow down please": "rate_limited", "no credit": "quota"},
    },
}
MODELS = {
    "my-small": {"provider": "acme", "tier": "cheap", "prices": {"input": 0.1, "output": 0.2}},
    "my-mid": {"provider": "acme", "tier": "standard", "prices": {"input": 1, "output": 2}},
    "my-big": {"provider": "acme", "tier": "premium",
               "prices": {"input": 5, "output": 10, "input_above_200k": 7.5}},
}
SIMPLE = "rename the variable x to count"
COMPLEX = ("Design the architecture for a multi-tenant job scheduler: persistence, leases, "
           "retries, exactly-once semantics and horizontal scaling. Compare two designs.")


def full_config():
    """A config setting every key this file is about."""
    return {
        "tools": {"mycli": copy.deepcopy(MYCLI)},
        "models": copy.deepcopy(MODELS),
        "agents": {
            "pinned": {"tier": "cheap"},
            "override": {"tier": "cheap", "override_explicit_model": True},
            "thrifty": {"cost_optimization": {"complexity_to_tier": {"complex": "standard"},
                                              "thresholds": {"standard": 50}}},
            "off": {"cost_optimization": {"enabled": False}},
            "on": {"cost_optimization": True},
            "full": {"cost_optimization": {"enabled": True, "override_explicit_model": False,
                                           "complexity_to_tier": {"simple": "cheap"},
                                           "tiers": {"mycli": {"cheap": "my-small"}},
                                           "thresholds": {"standard": 1, "complex": 4}}},
            "mover": {"tool": "mycli", "model": "my-small"},
        },
        "identify": [{"agent": "pinned", "parent": "build-runner*", "tool": "mycli"},
                     {"agent": "off", "parent": {"name": "ci-*"}, "tool": "mycli"}],
        "policies": {
            "cost_optimization": {
                "tiers": {"mycli": {"cheap": "my-small", "standard": "my-mid", "premium": "my-big"}},
                "strong_share": None,  # the keyword score and its thresholds decide (issue 18)
                "thresholds": {"complex": 60},
            },
            "estimate": {"output_tokens": 500, "chars_per_token": 2.5, "learn": False},
        },
    }


@pytest.fixture
def config_file(tmp_path, monkeypatch):
    """Write `full_config()` (optionally changed) as $LLM_SHIM_CONFIG; returns its path."""

    def write(change=None):
        data = full_config()
        if change:
            change(data)
        path = tmp_path / "llm-shim.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        monkeypatch.setenv("LLM_SHIM_CONFIG", str(path))
        return str(path)

    return write


def compiled(path):
    return build.compile_sources([(path, "env"), (DEFAULT, "default")])


# --- each key validates -------------------------------------------------------------------------

def test_a_config_using_every_new_key_validates(config_file):
    assert build.validate_file(config_file()) == []


@pytest.mark.parametrize("text", [
    "tools: {t: {generic: {}}}",
    "tools: {t: {generic: null}}",
    "tools: {t: {generic: {render: null, default_output: null}}}",
    "tools: {t: {generic: {render: [\"{prompt}\", [\"--model={model}\"]], meta_flags: []}}}",
    "tools: {t: {generic: {failures: {'429': rate_limited, 'context length': context_too_long}}}}",
    "agents: {a: {tier: premium, override_explicit_model: false}}",
    "agents: {a: {tier: null, override_explicit_model: null, cost_optimization: null}}",
    "agents: {a: {cost_optimization: false}}",
    "agents: {a: {cost_optimization: {}}}",
    "agents: {a: {cost_optimization: {tiers: {claude: {cheap: haiku}}}}}",
    "policies: {cost_optimization: {thresholds: {standard: -1, complex: 2}}}",
    "policies: {cost_optimization: {thresholds: {}}}",
    "policies: {cost_optimization: {strong_share: 0.5}}",
    "policies: {cost_optimization: {strong_share: null}}",
    "agents: {a: {cost_optimization: {strong_share: 0}}}",
    "policies: {estimate: {output_tokens: 0}}",
    "policies: {estimate: {}}",
    "identify: [{agent: default, parent: 'github-runner*'}]",
    "models: {claude-sonnet-5: {prices: {input_above_200k: 6, cache_write_above_1000k: 0}}}",
], ids=lambda text: text[:60])
def test_each_new_key_validates(write_yaml, text):
    assert build.validate_file(write_yaml("c.yaml", text + "\n")) == []


# --- each wrong value is reported at its line ---------------------------------------------------

GENERIC = "tools:\n  t:\n    generic:\n"
AGENT = "agents:\n  a:\n"
COST = "policies:\n  cost_optimization:\n"
ESTIMATE = "policies:\n  estimate:\n"

# (file text, text on the offending line, key path, message fragment)
WRONG = [
    (GENERIC + "      oneshot_flags: [p]\n", "oneshot_flags", "tools.t.generic.oneshot_flags[0]", '"p" does not match ^-'),
    (GENERIC + "      oneshot_subcommands: run\n", "oneshot_subcommands", "tools.t.generic.oneshot_subcommands", "expected array, got string"),
    (GENERIC + "      positional_oneshot: maybe\n", "positional_oneshot", "tools.t.generic.positional_oneshot", "expected boolean"),
    (GENERIC + "      interactive_subcommands: [-chat]\n", "interactive", "tools.t.generic.interactive_subcommands[0]", "does not match ^[^-]"),
    (GENERIC + "      resume_subcommands: ['']\n", "resume_sub", "tools.t.generic.resume_subcommands[0]", "must not be empty"),
    (GENERIC + "      meta_flags: [-h, -h]\n", "meta_flags", "tools.t.generic.meta_flags[1]", "repeats an earlier item"),
    (GENERIC + "      meta_subcommands: [1]\n", "meta_sub", "tools.t.generic.meta_subcommands[0]", "expected string, got integer"),
    (GENERIC + "      prompt_flags: {p: 1}\n", "prompt_flags", "tools.t.generic.prompt_flags", "expected array, got object"),
    (GENERIC + "      prompt_positional: 1\n", "prompt_positional", "tools.t.generic.prompt_positional", "expected boolean, got integer"),
    (GENERIC + "      model_flags: [model]\n", "model_flags", "tools.t.generic.model_flags[0]", "does not match ^-"),
    (GENERIC + "      value_flags: -e\n", "value_flags", "tools.t.generic.value_flags", "expected array, got string"),
    (GENERIC + "      resume_flags: [null]\n", "resume_flags", "tools.t.generic.resume_flags[0]", "expected string, got null"),
    (GENERIC + "      output_flags: [o]\n", "output_flags", "tools.t.generic.output_flags[0]", "does not match ^-"),
    (GENERIC + "      output_formats: {js: 1}\n", "output_formats", "tools.t.generic.output_formats.js", "expected string, got integer"),
    (GENERIC + "      default_output: 5\n", "default_output", "tools.t.generic.default_output", "expected string or null"),
    (GENERIC + "      portable_flags: [quiet]\n", "portable", "tools.t.generic.portable_flags[0]", "does not match ^-"),
    (GENERIC + "      short_equals: yes please\n", "short_equals", "tools.t.generic.short_equals", "expected boolean"),
    (GENERIC + "      render: [-p, [-m, 5]]\n", "render", "tools.t.generic.render[1][1]", "expected string, got integer"),
    (GENERIC + "      render: [{prompt: x}]\n", "render", "tools.t.generic.render[0]", "expected string or array, got object"),
    (GENERIC + "      render: '-p {prompt}'\n", "render", "tools.t.generic.render", "expected array or null, got string"),
    (GENERIC + "      render_output: {json: -o}\n", "render_output", "tools.t.generic.render_output.json", "expected array, got string"),
    (GENERIC + "      failures: {'429': slow}\n", "failures", "tools.t.generic.failures.429", "must be one of rate_limited"),
    (GENERIC + "      model_flag: --model\n", "model_flag", "tools.t.generic.model_flag", "unknown key; did you mean 'model_flags'?"),
    (AGENT + "    tier: cheep\n", "tier", "agents.a.tier", "did you mean 'cheap'?"),
    (AGENT + "    override_explicit_model: sometimes\n", "override", "agents.a.override_explicit_model", "expected boolean or null"),
    (AGENT + "    cost_optimization: always\n", "cost_optimization", "agents.a.cost_optimization", "expected boolean or object or null, got string"),
    (AGENT + "    cost_optimization:\n      enabled: 1\n", "enabled", "agents.a.cost_optimization.enabled", "expected boolean, got integer"),
    (AGENT + "    cost_optimization:\n      override_explicit_model: x\n", "override", "agents.a.cost_optimization.override_explicit_model", "expected boolean or null"),
    (AGENT + "    cost_optimization:\n      complexity_to_tier: {complex: gold}\n", "complexity", "agents.a.cost_optimization.complexity_to_tier.complex", "must be one of cheap"),
    (AGENT + "    cost_optimization:\n      tiers: {claud: {cheap: haiku}}\n", "tiers", "agents.a.cost_optimization.tiers.claud", "unknown tool 'claud'"),
    (AGENT + "    cost_optimization:\n      tiers: {claude: {cheap: haiku-9}}\n", "tiers", "agents.a.cost_optimization.tiers.claude.cheap", "unknown model 'haiku-9'"),
    (AGENT + "    cost_optimization:\n      thresholds: {complex: 3.5}\n", "thresholds", "agents.a.cost_optimization.thresholds.complex", "expected integer, got number"),
    (AGENT + "    cost_optimization:\n      threshold: {}\n", "threshold", "agents.a.cost_optimization.threshold", "did you mean 'thresholds'?"),
    (COST + "    thresholds: {standard: two}\n", "thresholds", "policies.cost_optimization.thresholds.standard", "expected integer, got string"),
    (COST + "    thresholds: {simple: 0}\n", "thresholds", "policies.cost_optimization.thresholds.simple", "unknown key"),
    (COST + "    thresholds: 4\n", "thresholds", "policies.cost_optimization.thresholds", "expected object, got integer"),
    (COST + "    strong_share: 1.5\n", "strong_share", "policies.cost_optimization.strong_share", "must be <= 1, got 1.5"),
    (COST + "    strong_share: half\n", "strong_share", "policies.cost_optimization.strong_share", "expected number or null, got string"),
    (AGENT + "    cost_optimization:\n      strong_share: -0.1\n", "strong_share", "agents.a.cost_optimization.strong_share", "must be >= 0, got -0.1"),
    (ESTIMATE + "    output_tokens: -1\n", "output_tokens", "policies.estimate.output_tokens", "must be >= 0, got -1"),
    (ESTIMATE + "    output_tokens: 1.5\n", "output_tokens", "policies.estimate.output_tokens", "expected integer"),
    (ESTIMATE + "    chars_per_token: 0\n", "chars_per_token", "policies.estimate.chars_per_token", "must be > 0, got 0"),
    (ESTIMATE + "    learn: sometimes\n", "learn", "policies.estimate.learn", "expected boolean"),
    (ESTIMATE + "    lern: false\n", "lern", "policies.estimate.lern", "unknown key; did you mean 'learn'?"),
    ("policies:\n  estimate: 1000\n", "estimate", "policies.estimate", "expected object, got integer"),
    ("identify:\n  - agent: default\n    parent: 42\n", "parent", "identify[0].parent", "expected object or string or null, got integer"),
    ("identify:\n  - agent: default\n    parent: ''\n", "parent", "identify[0].parent", "must not be empty"),
    ("models:\n  gpt-4o:\n    prices: {input_above_200k: -1}\n", "prices", "models.gpt-4o.prices.input_above_200k", "must be >= 0"),
    ("models:\n  gpt-4o:\n    prices: {inptu: 1}\n", "prices", "models.gpt-4o.prices.inptu", "unknown key; did you mean 'input'?"),
    ("models:\n  gpt-4o:\n    prices: {input_over_200k: 1}\n", "prices", "models.gpt-4o.prices.input_over_200k", "long-context suffix"),
]


@pytest.mark.parametrize("text, needle, key_path, message", WRONG, ids=[w[2] + ":" + w[3][:24] for w in WRONG])
def test_a_wrong_value_is_one_problem_at_its_line(write_yaml, text, needle, key_path, message):
    path = write_yaml("user.yaml", text)
    problems = build.validate_file(path)
    line = line_of(text, needle)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}:{line}: {key_path}: "), problems
    assert message in problems[0], problems


def test_our_validator_agrees_with_jsonschema_on_the_new_keys():
    """Every key of the full config given a wrong type, null or a fraction, plus an unknown key
    in every mapping: ours and jsonschema both accept or both reject."""
    base = full_config()
    variants = [("full", base)]

    def walk(value, path):
        yield path, value
        if isinstance(value, dict):
            for key, child in value.items():
                yield from walk(child, path + (key,))
        elif isinstance(value, list):
            for index, child in enumerate(value):
                yield from walk(child, path + (index,))

    for path, value in walk(base, ()):
        if not path:
            continue
        swaps = [{**value, "zz_unknown": 1}] if isinstance(value, dict) else []
        swaps += ["text" if not isinstance(value, str) else [value], None, 2.5]
        for swap in swaps:
            doc = copy.deepcopy(base)
            target = doc
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = swap
            variants.append((f"{path}={swap!r}", doc))
    assert len(variants) > 300
    disagreements = []
    for label, doc in variants:
        theirs = [e.message for e in _reference_validator().iter_errors(doc)]
        ours = _ours(doc)
        if bool(ours) != bool(theirs):
            disagreements.append(f"{label}: ours {ours}; jsonschema {theirs}")
    assert not disagreements, "\n".join(disagreements[:20])
    assert _ours(base) == []


# --- the code reads what was validated ----------------------------------------------------------

def route(argv, capsys, agent=None):
    code = main(["route", "--json"] + (["--agent", agent] if agent else []) + ["--"] + argv)
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def test_a_yaml_only_tool_routes_through_the_cli(config_file, capsys):
    config_file()
    plain = route(["mycli", "run", SIMPLE], capsys)
    assert (plain["understood"], plain["mode"], plain["argv"]) == (True, "oneshot", ["mycli", "run", SIMPLE])
    assert plain["output_format"] == "text"                      # default_output
    assert route(["mycli", SIMPLE], capsys)["mode"] == "interactive"    # positional_oneshot: false
    assert route(["mycli", "--once", SIMPLE], capsys)["mode"] == "oneshot"
    assert route(["mycli", "--prompt", SIMPLE, "--once"], capsys)["prompt_chars"] == len(SIMPLE)
    assert route(["mycli", "chat"], capsys)["mode"] == "interactive"
    assert route(["mycli", "auth", "login"], capsys)["mode"] == "meta"
    assert route(["mycli", "--version"], capsys)["mode"] == "meta"
    assert route(["mycli", "-h"], capsys)["mode"] != "meta"      # meta_flags replaced the default
    assert route(["mycli", "run", "-f", "js", SIMPLE], capsys)["output_format"] == "json"
    assert route(["mycli", "run", "--temp", "0.2", SIMPLE], capsys)["prompt_chars"] == len(SIMPLE)
    pinned = route(["mycli", "run", "-m=my-big", SIMPLE], capsys)
    assert pinned["model_requested"] == "my-big"                  # short_equals: -m=X means X


def test_agent_tier_and_override_explicit_model(config_file, capsys):
    config_file()
    tiered = route(["mycli", "run", SIMPLE], capsys, agent="pinned")
    assert tiered["argv"] == ["mycli", "run", "-m", "my-small", SIMPLE]
    assert tiered["model"] == "my-small" and tiered["tier"] == "cheap"
    kept = route(["mycli", "run", "-m", "my-big", SIMPLE], capsys, agent="pinned")
    assert kept["argv"] == ["mycli", "run", "-m", "my-big", SIMPLE]
    overridden = route(["mycli", "run", "-m", "my-big", SIMPLE], capsys, agent="override")
    assert overridden["argv"] == ["mycli", "run", "-m", "my-small", SIMPLE]


def test_agent_cost_optimization_mapping_over_the_policy(config_file, capsys):
    config_file()
    # The policy's thresholds {complex: 60} make COMPLEX standard; `full` sets them back to 1/4
    # and `thrifty` raises standard to 50.
    on = route(["mycli", "run", COMPLEX], capsys, agent="on")
    assert (on["complexity"], on["model"]) == ("standard", "my-mid")
    full = route(["mycli", "run", COMPLEX], capsys, agent="full")
    assert (full["complexity"], full["model"]) == ("complex", "my-big")
    thrifty = route(["mycli", "run", COMPLEX], capsys, agent="thrifty")
    assert thrifty["complexity"] == "simple" and thrifty["model"] == "my-small"
    assert route(["mycli", "run", SIMPLE], capsys, agent="off")["argv"] == ["mycli", "run", SIMPLE]


def test_defaults_filled_into_an_agent_mapping_keep_the_policy(config_file):
    cfg = compiled(config_file())
    cost = cost_settings(cfg, cfg["agents"]["thrifty"])
    assert cost["enabled"] is True                                # a mapping turns it on
    assert cost["thresholds"] == {"standard": 50, "complex": 60}  # policy's complex kept
    assert cost["complexity_to_tier"] == {"simple": "cheap", "standard": "standard", "complex": "standard"}
    assert cost["override_explicit_model"] is False
    policy_only = cost_settings(cfg, cfg["agents"]["pinned"])
    assert policy_only["thresholds"] == {"standard": 1, "complex": 60}  # schema default + file
    assert cfg["tools"]["mycli"]["generic"]["render"][1] == ["-m", "{model}"]


def test_a_claude_call_moves_to_the_yaml_tool_through_its_render_template(config_file, capsys):
    config_file()
    moved = route(["claude", "-p", SIMPLE], capsys, agent="mover")
    assert moved["tool"] == "mycli"
    assert moved["argv"] == ["mycli", "run", "-m", "my-small", SIMPLE]


def test_generic_failures_and_defaults_reach_the_adapters(config_file, write_yaml):
    cfg = compiled(config_file())
    assert failure_patterns("mycli", cfg) == [("slow down please", "rate_limited"), ("no credit", "quota")]
    bare = compiled(write_yaml("bare.yaml", "tools: {bare: {generic: {}}}\n"))
    assert bare["tools"]["bare"]["generic"]["meta_flags"] == ["--help", "-h", "--version"]
    assert bare["tools"]["bare"]["generic"]["prompt_positional"] is True


def test_estimate_settings_are_read_as_validated(config_file, write_yaml):
    cfg = compiled(config_file())
    assert estimate.settings(cfg) == {"output_tokens": 500, "chars_per_token": 2.5, "learn": False}
    assert estimate.tokens({"prompt_chars": 10}, cfg) == (4, 500)
    plain = compiled(write_yaml("plain.yaml", "schema_version: 1\n"))
    assert estimate.settings(plain) == {"output_tokens": 1000, "chars_per_token": 4.0, "learn": True}


def test_identify_parent_as_a_name_glob(config_file):
    cfg = compiled(config_file())
    runner = [{"name": "bash", "cmdline": "bash"}, {"name": "build-runner-7", "cmdline": "x"}]
    assert agents.identify("mycli", cfg, environ={}, cwd="/", parents=runner)[0] == "pinned"
    ci = [{"name": "ci-agent", "cmdline": "ci-agent --run"}]
    assert agents.identify("mycli", cfg, environ={}, cwd="/", parents=ci)[0] == "off"


def test_long_context_prices_reach_the_price_table(config_file):
    cfg = compiled(config_file())
    row = prices.load_table(cfg)["rows"]["my-big"]
    assert row["tiers"] == [(200000, {"input": 7.5})]


def test_an_invalid_new_key_stops_route_with_its_line(config_file, capsys):
    path = config_file(lambda d: d["agents"]["pinned"].update(tier="gold"))
    code = main(["route", "--json", "--", "mycli", "run", SIMPLE])
    _out, err = capsys.readouterr()
    assert code != 0
    text = open(path).read()
    assert f"{path}:{line_of(text, 'tier: gold')}: agents.pinned.tier: must be one of" in err


def test_a_null_where_an_object_belongs_says_null_once(tmp_path):
    """`expected object, got null`, not `got null null`."""
    import os

    import pytest

    from shim import errors, paths
    from shim.config import compiled

    os.makedirs(paths.config_dir(), exist_ok=True)
    with open(os.path.join(paths.config_dir(), "config.yaml"), "w") as fh:
        fh.write("policies:\n  budgets:\n    x: null\n")
    with pytest.raises(errors.ConfigError) as caught:
        compiled.load(cwd=str(tmp_path))
    text = " ".join(caught.value.lines()) + " ".join(caught.value.problems)
    assert "policies.budgets.x: expected object, got null" in text
    assert "null null" not in text
