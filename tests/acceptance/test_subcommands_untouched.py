"""With an agent that pins a model, every subcommand the pinned real claude and codex list in
their own `--help` runs exactly as without llm-shim: the shim's decision leaves argv alone, and
the real tool's answer through the shim is the one it gives directly."""

import json

import pytest

import scenario_kit as kit
from shim.grammar import helpparse

pytestmark = pytest.mark.acceptance

AGENTS = {"agents": {"pinned": {"model": "claude-sonnet-5"},
                     "pinned-codex": {"model": "gpt-5.5"}}}


def _subcommands(real_env, tool, *words):
    result = real_env.run([tool, *words, "--help"])
    assert result.returncode == 0, result.stderr
    return helpparse.parse(result.stdout)["subcommands"]


@pytest.mark.parametrize("tool, agent, words", [("claude", "pinned", ()),
                                                ("codex", "pinned-codex", ()),
                                                ("codex", "pinned-codex", ("exec",))])
def test_every_listed_subcommand_keeps_its_argv(real_env, shims_dir, tool, agent, words):
    env = dict(kit.write_config(real_env, shims_dir, AGENTS), LLM_SHIM_AGENT=agent,
               LLM_SHIM_DRY_RUN="1")
    subs = [s for s in _subcommands(real_env, tool, *words)
            if not (tool == "codex" and not words and s in ("exec", "e", "resume", "fork"))
            and s != "resume"]
    assert len(subs) >= 3, subs
    changed = []
    for sub in subs:
        argv = [tool, *words, sub, "some-arg"]
        result = real_env.run(argv, path_prefix=[shims_dir], extra_env=env)
        view = json.loads(result.stdout.split("\n", 1)[1])
        if view["argv"] != argv:
            changed.append((argv, view["argv"], view["reasons"]))
    assert not changed


@pytest.mark.parametrize("argv", [["claude", "gateway", "--help"], ["claude", "ultrareview", "--help"],
                                  ["codex", "agents", "--help"], ["codex", "exec", "fork", "--help"]])
def test_real_subcommand_answers_the_same_through_the_shim(real_env, shims_dir, argv):
    agent = "pinned" if argv[0] == "claude" else "pinned-codex"
    env = dict(kit.write_config(real_env, shims_dir, AGENTS), LLM_SHIM_AGENT=agent)
    direct = real_env.run(argv)
    shimmed = real_env.run(argv, path_prefix=[shims_dir], extra_env=env)
    assert (shimmed.returncode, shimmed.stdout) == (direct.returncode, direct.stdout)
    rows = kit.attempts(real_env, shims_dir)
    assert rows and rows[-1]["mode"] == "meta" and rows[-1]["model"] is None
