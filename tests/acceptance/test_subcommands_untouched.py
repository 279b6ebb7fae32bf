"""With an agent that pins a model, every subcommand the pinned real claude and codex list in
their own `--help` runs exactly as without llm-shim: the shim's decision leaves argv alone, and
the real tool's answer through the shim is the one it gives directly. So does a call that
resumes, forks or opens a remote session (codex `resume`, `fork`, `exec resume`; claude `-c`,
`--resume`, `--teleport`, `--cloud`, `--desktop`...): such a session keeps its own model."""

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


SESSION_CALLS = [
    ["codex", "resume", "--last"], ["codex", "resume", "0199a-some-id"], ["codex", "fork", "--last"],
    ["codex", "exec", "resume", "--last"], ["codex", "exec", "resume", "--last", "go on"],
    ["codex", "exec", "--json", "resume", "0199a-some-id", "go on"],
    ["codex", "exec", "fork", "0199a-some-id"], ["codex", "review"], ["codex", "exec", "review"],
    ["claude", "--resume"], ["claude", "--resume", "abc"], ["claude", "-r", "abc", "go on"],
    ["claude", "-c"], ["claude", "--continue", "-p", "go on"], ["claude", "-c", "--fork-session"],
    ["claude", "--from-pr", "12"], ["claude", "--teleport"], ["claude", "--teleport", "s1"],
    ["claude", "--cloud", "fix the flaky test"], ["claude", "--desktop"],
]


def test_every_session_call_keeps_its_argv(real_env, shims_dir):
    """The decision (a dry run: nothing starts) with the grammar learned from the real binaries."""
    env = kit.write_config(real_env, shims_dir, AGENTS)
    changed = []
    for argv in SESSION_CALLS:
        agent = "pinned" if argv[0] == "claude" else "pinned-codex"
        result = real_env.run(argv, path_prefix=[shims_dir],
                              extra_env=dict(env, LLM_SHIM_AGENT=agent, LLM_SHIM_DRY_RUN="1"))
        view = json.loads(result.stdout.split("\n", 1)[1])
        if view["argv"] != argv or not any(r.endswith(": passed through untouched")
                                           for r in view["reasons"]):
            changed.append((argv, view["argv"], view["reasons"]))
    assert not changed


def _models(real_env, argv, **kw):
    """(exit code, the models the stub was asked for) of one call."""
    before = len(real_env.stub.requests(model_calls=True))
    result = real_env.run(argv, **kw)
    asked = {e["model"] for e in real_env.stub.requests(model_calls=True)[before:]}
    return result.returncode, asked, result


@pytest.mark.parametrize("first, again", [
    (["claude", "-p", "say hi"], ["claude", "-p", "--continue", "and again"]),
    (["codex", "exec", "--skip-git-repo-check", "say hi"],
     ["codex", "exec", "--skip-git-repo-check", "resume", "--last", "and again"]),
])
def test_a_resumed_session_asks_for_the_same_model_through_the_shim(real_env, shims_dir,
                                                                     first, again):
    agent = "pinned" if first[0] == "claude" else "pinned-codex"
    env = dict(kit.write_config(real_env, shims_dir, AGENTS), LLM_SHIM_AGENT=agent)
    code, _, result = _models(real_env, first)
    assert code == 0, result.stderr
    direct = _models(real_env, again)
    shimmed = _models(real_env, again, path_prefix=[shims_dir], extra_env=env)
    assert direct[0] == 0 and direct[1], direct[2].stderr
    assert shimmed[:2] == direct[:2], shimmed[2].stderr
    assert AGENTS["agents"][agent]["model"] not in shimmed[1]
    row = kit.attempts(real_env, shims_dir)[-1]
    assert row["model"] is None or row["model"] != AGENTS["agents"][agent]["model"]
    assert "resume: passed through untouched" in row["reasons"], row
