"""Every validation error class, each at the exact FILE:LINE where the offending node was written."""

import os
import re
import subprocess
import sys
import textwrap

import pytest

from shim.cli.main import main as cli_main
from shim.config import build, compiled
from shim.errors import ConfigError

from tests.config.conftest import DEFAULT, REPO, line_of

# (id, file text, text on the offending line, key path, message fragment)
CASES = [
    ("unknown key", """
        models:
          gpt-4o:
            prics: {input: 1.0}
     """, "prics", "models.gpt-4o.prics", "unknown key; did you mean 'prices'?"),
    ("unknown top-level key", """
        schema_version: 1
        polices: {}
     """, "polices", "polices", "unknown key; did you mean 'policies'?"),
    ("wrong type scalar", """
        telemetry:
          enabled: "yes please"
     """, "enabled", "telemetry.enabled", 'expected boolean, got string "yes please"'),
    ("wrong type mapping", """
        tools: [claude]
     """, "tools", "tools", "expected object, got array"),
    ("enum", """
        models:
          gpt-4o: {tier: cheep}
     """, "cheep", "models.gpt-4o.tier", "must be one of cheap, standard, premium; got \"cheep\"; did you mean 'cheap'?"),
    ("schema_version", """
        schema_version: 2
     """, "schema_version", "schema_version", "must be 1, got 2"),
    ("missing required", """
        models:
          mine:
            provider: local
            prices: {input: 0, output: 0}
     """, "mine:", "models.mine", "missing required key 'tier'"),
    ("bad name", """
        agents:
          "my agent": {}
     """, "my agent", 'models."my agent"'.replace("models", "agents"), "does not match"),
    ("unknown tool: agent", """
        agents:
          bot:
            tool: claud
     """, "claud", "agents.bot.tool", "unknown tool 'claud': not defined under tools; did you mean 'claude'?"),
    ("unknown model: agent", """
        agents:
          bot:
            model: sonet
     """, "sonet", "agents.bot.model", "unknown model 'sonet'"),
    ("unknown agent: identify", """
        identify:
          - {agent: auto, cwd: "/a/**"}
          - {agent: reviewr, cwd: "/b/**"}
     """, "reviewr", "identify[1].agent", "unknown agent 'reviewr'"),
    ("unknown agent: default_agent", """
        default_agent: nobody
     """, "nobody", "default_agent", "unknown agent 'nobody'"),
    ("unknown model: cost tiers", """
        policies:
          cost_optimization:
            tiers:
              claude: {cheap: haiku-9}
     """, "haiku-9", "policies.cost_optimization.tiers.claude.cheap", "unknown model 'haiku-9'"),
    ("unknown tool: cost tiers key", """
        policies:
          cost_optimization:
            tiers:
              gemini: {cheap: haiku}
     """, "gemini", "policies.cost_optimization.tiers.gemini", "unknown tool 'gemini'"),
    ("unknown tool: fallback chain", """
        policies:
          fallback:
            chains:
              claude:
                - {tool: codex}
                - {tool: gemini}
     """, "gemini", "policies.fallback.chains.claude[1].tool", "unknown tool 'gemini'"),
    ("unknown model: agent fallback", """
        agents:
          bot:
            fallback:
              - {tool: codex, model: gpt-9}
     """, "gpt-9", "agents.bot.fallback[0].model", "unknown model 'gpt-9'"),
    ("unknown tool: budget match", """
        policies:
          budgets:
            b:
              scope: tool
              match: codx
              period: day
              limit: {usd: 1}
     """, "codx", "policies.budgets.b.match", "unknown tool 'codx': not defined under tools; did you mean 'codex'?"),
    ("unknown agent: budget match", """
        policies:
          budgets:
            b: {scope: agent, match: ghost, period: day, limit: {usd: 1}}
     """, "ghost", "policies.budgets.b.match", "unknown agent 'ghost'"),
    ("unknown model: rate limit match", """
        policies:
          rate_limits:
            r: {scope: model, match: gpt-9, calls_per_minute: 3}
     """, "gpt-9", "policies.rate_limits.r.match", "unknown model 'gpt-9'"),
    ("negative price", """
        models:
          gpt-4o:
            prices:
              output: -2.5
     """, "output", "models.gpt-4o.prices.output", "must be >= 0, got -2.5"),
    ("non-numeric price", """
        models:
          gpt-4o:
            prices: {input: 1.0, output: "5$"}
     """, "5$", "models.gpt-4o.prices.output", 'expected number, got string "5$"'),
    ("negative budget", """
        policies:
          budgets:
            b:
              scope: global
              period: day
              limit:
                usd: -5
     """, "usd", "policies.budgets.b.limit.usd", "must be >= 0, got -5"),
    ("non-numeric budget", """
        agents:
          bot:
            budget: {period: day, limit: {usd: five}}
     """, "five", "agents.bot.budget.limit.usd", 'expected number, got string "five"'),
    ("infinite price", """
        models:
          gpt-4o:
            prices: {input: .inf}
     """, ".inf", "models.gpt-4o.prices.input", "must be a finite number"),
    ("duplicate alias", """
        models:
          mine:
            provider: local
            tier: cheap
            prices: {input: 0, output: 0}
            aliases: [mine-1, fast]
     """, "fast", "models.mine.aliases[1]", "duplicate alias 'fast': is already an alias of model 'claude-haiku-4-5-20251001'"),
    ("alias is another model's id", """
        models:
          mine:
            provider: local
            tier: cheap
            prices: {input: 0, output: 0}
            aliases:
              - gpt-4o
     """, "- gpt-4o", "models.mine.aliases[0]", "duplicate alias 'gpt-4o': is the id of model 'gpt-4o'"),
    ("fallback loop", """
        policies:
          fallback:
            chains:
              claude: [{tool: codex}]
              codex: [{tool: claude, model: sonnet}]
     """, "claude: [", "policies.fallback.chains.claude[0]", "fallback chain loops: claude -> codex -> claude"),
    ("fallback to itself", """
        policies:
          fallback:
            chains:
              llm:
                - {tool: llm, model: 4o}
                - {tool: llm}
     """, "{tool: llm}", "policies.fallback.chains.llm[1]", "fallback chain loops: llm falls back to itself"),
    ("rolling without window", """
        policies:
          budgets:
            b: {scope: global, period: rolling, limit: {usd: 1}}
     """, "b:", "policies.budgets.b", "period rolling needs a window"),
    ("scope needs match", """
        policies:
          rate_limits:
            r: {scope: tool, calls_per_minute: 3}
     """, "r:", "policies.rate_limits.r", "scope tool needs a match"),
    ("rate limit without limits", """
        policies:
          rate_limits:
            r: {scope: global}
     """, "r:", "policies.rate_limits.r", "needs at least one of calls_per_minute"),
    ("yaml boolean for an enum word", """
        policies:
          privacy: off
     """, "privacy", "policies.privacy", 'got false; YAML reads an unquoted off as false: quote it, "off"'),
    ("identify rule without condition", """
        identify:
          - agent: auto
     """, "agent: auto", "identify[0]", "a rule needs at least one of parent, cwd, tool"),
    ("duplicate key", """
        policies:
          privacy: full
          privacy: metadata
     """, "privacy: metadata", "policies.privacy", "duplicate key (first at line 2)"),
]


@pytest.mark.parametrize("text, needle, key_path, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_error_class_at_its_exact_line(write_yaml, text, needle, key_path, message):
    path = write_yaml("user.yaml", text)
    problems = build.validate_file(path)
    line = line_of(textwrap.dedent(text).lstrip("\n"), needle)
    expected_prefix = f"{path}:{line}: {key_path}: "
    matching = [p for p in problems if p.startswith(expected_prefix)]
    assert matching, f"no problem at {expected_prefix!r}; got {problems}"
    assert any(message in p for p in matching), f"{message!r} not in {matching}"
    assert len(problems) == 1, problems


def test_valid_file_has_no_problems(write_yaml):
    path = write_yaml("ok.yaml", """
        schema_version: 1
        agents:
          reviewer: {tool: claude, model: sonnet, fallback: [{tool: codex, model: gpt-5.5}],
                     budget: {period: rolling, window: 5h, limit: {usd: 5}}}
        identify:
          - {agent: reviewer, parent: {cmdline: "*review*"}}
        policies:
          budgets:
            all: {scope: global, period: month, limit: {usd: 50, type: soft}}
            anthropic: {scope: provider, match: anthropic, period: week, limit: {usd: 20}}
          fallback:
            chains:
              claude: [{tool: codex, model: gpt-5.5}, {tool: claude, model: haiku}]
    """)
    assert build.validate_file(path) == []


def test_every_error_is_reported_at_once_in_line_order(write_yaml):
    picked = [c for c in CASES if c[0] in (
        "unknown top-level key", "wrong type scalar", "unknown agent: default_agent", "unknown model: agent",
        "duplicate key")]
    text = "\n".join(textwrap.dedent(c[1]).strip() for c in picked) + "\n"
    path = write_yaml("many.yaml", text)
    problems = build.validate_file(path)
    assert len(problems) == len(picked), problems
    assert [int(p.split(":")[1]) for p in problems] == sorted(line_of(text, c[2]) for c in picked)


def test_problems_point_into_the_layer_that_wrote_them(write_yaml):
    user = write_yaml("user.yaml", """
        agents:
          reviewer: {tool: claude}
        telemetry:
          retention_days: 0
    """)
    project = write_yaml("proj/.llm-shim.yaml", """
        default_agent: reviewer
        identify:
          - {agent: reviewer, tool: claud}
    """)
    problems = build.check_sources([(project, "project"), (user, "user"), (DEFAULT, "default")])
    assert problems == [
        f"{project}:3: identify[0].tool: unknown tool 'claud': not defined under tools; did you mean 'claude'?",
        f"{user}:4: telemetry.retention_days: must be >= 1, got 0",
    ]


def test_an_override_moves_the_problem_to_the_overriding_file(write_yaml):
    user = write_yaml("user.yaml", """
        agents:
          bot: {tool: claude, model: sonet}
    """)
    project = write_yaml("p/.llm-shim.yaml", """
        agents:
          bot:
            tool: gemini
    """)
    problems = build.check_sources([(project, "project"), (user, "user"), (DEFAULT, "default")])
    assert problems == [
        f"{project}:3: agents.bot.tool: tool 'gemini' is not defined in your user config or the "
        "default; a project file may only use those tools",
        f"{user}:2: agents.bot.model: unknown model 'sonet': not defined under models (ids and aliases); "
        "did you mean 'sonnet'?",
    ]


@pytest.mark.parametrize("text, line, column, fragment", [
    ("ok: 1\nkey: value\n  bad: indent\n", 3, 6, "mapping values are not allowed"),
    ("a:\n\tb: 1\n", 2, 1, "cannot start any token"),
    ("a: [1, 2\nb: c\n", 2, 2, "expected ',' or ']'"),
])
def test_yaml_syntax_error_names_file_line_and_column(write_yaml, text, line, column, fragment):
    path = write_yaml("broken.yaml", text)
    problems = build.validate_file(path)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}:{line}:{column}: YAML syntax error: ")
    assert fragment in problems[0]


def test_syntax_error_reaches_load_as_config_error(write_yaml):
    path = write_yaml("broken.yaml", "a: [1\n")
    with pytest.raises(ConfigError) as info:
        compiled.load(environ={"LLM_SHIM_CONFIG": path})
    assert any(p.startswith(f"{path}:") and "YAML syntax error" in p for p in info.value.problems)
    assert f"llm-shim: {info.value.problems[0]}" in info.value.lines()


FIVE_MISTAKES = """
    schema_version: 1
    models:
      gpt-4o:
        prices: {input: -1.0}
    agents:
      bot:
        tool: claude
        modle: sonnet
        privacy: secret
    default_agent: bott
    policies:
      fallback:
        chains:
          codex: [{tool: llm}]
          llm: [{tool: codex}]
"""


def test_five_mistakes_give_five_file_line_errors_and_exit_1(write_yaml, capsys):
    path = write_yaml("five.yaml", FIVE_MISTAKES)
    code = cli_main(["config", "validate", path])
    out = capsys.readouterr()
    problems = out.out.splitlines()
    assert code == 1
    assert len(problems) == 5, problems
    text = textwrap.dedent(FIVE_MISTAKES).lstrip("\n")
    expected_lines = [line_of(text, n) for n in ("input: -1.0", "modle", "privacy", "bott", "codex: [")]
    assert [int(re.match(rf"{re.escape(path)}:(\d+): ", p).group(1)) for p in problems] == expected_lines
    assert "5 problems" in out.err


def test_validate_exit_codes_end_to_end(write_yaml):
    bad = write_yaml("five.yaml", FIVE_MISTAKES)
    good = write_yaml("good.yaml", "schema_version: 1\n")
    env = dict(os.environ)
    run = lambda f: subprocess.run([sys.executable, "-m", "shim", "config", "validate", f],
                                   cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    bad_run, good_run = run(bad), run(good)
    assert bad_run.returncode == 1
    assert len([line for line in bad_run.stdout.splitlines() if line.startswith(f"{bad}:")]) == 5
    assert "Traceback" not in bad_run.stderr
    assert good_run.returncode == 0
    assert good_run.stdout == f"ok: {good}\n"
