"""codex argv → Request, table-driven."""

import pytest

from shim import adapters

CASES = [
    (["exec", "fix the bug"], dict(mode="oneshot", subcommand="exec", prompt="fix the bug",
                                   prompt_index=1, model=None, output_format="text", resume=False)),
    (["e", "fix it"], dict(mode="oneshot", subcommand="exec", prompt="fix it")),
    (["exec", "--json", "hi"], dict(output_format="jsonl")),
    (["exec", "--experimental-json", "hi"], dict(output_format="jsonl")),
    (["exec", "-m", "gpt-5.5", "hi"], dict(model="gpt-5.5", model_pinned=True)),
    (["exec", "--model=gpt-5.5", "hi"], dict(model="gpt-5.5")),
    (["exec", "-mgpt-5-mini", "hi"], dict(model="gpt-5-mini")),
    (["exec", "-m=o3", "hi"], dict(model="o3")),  # clap reads -m=X as X
    (["exec", "-m", "a", "-m", "b", "hi"], dict(model="b")),  # last wins
    (["-m", "gpt-5.5", "exec", "hi"], dict(model="gpt-5.5", prompt="hi")),
    (["exec", "-c", 'model="o3"', "hi"], dict(model="o3", model_pinned=True)),
    (["-c", "model=o3", "exec", "hi"], dict(model="o3")),
    (["exec", "-c", "model=o3", "-m", "gpt-5.5", "hi"], dict(model="gpt-5.5")),  # -m beats -c
    (["exec", "-c", "model_reasoning_effort=high", "hi"], dict(model=None)),
    (["exec", "--skip-git-repo-check", "-s", "read-only", "-C", "/tmp", "hi"], dict(prompt="hi")),
    (["exec", "-i", "a.png", "b.png", "--", "describe"], dict(prompt="describe")),
    (["exec", "--", "-x is a prompt"], dict(prompt="-x is a prompt", prompt_index=2)),
    (["exec", "--", "resume"], dict(prompt="resume", subcommand="exec", resume=False)),
    (["exec", "-"], dict(prompt=None)),  # `-` reads stdin
    (["exec"], dict(prompt=None, mode="oneshot")),
    (["exec", ""], dict(prompt="", prompt_index=1)),
    (["exec", "resume", "--last"], dict(mode="oneshot", resume=True, subcommand="exec resume",
                                        prompt=None)),
    (["exec", "resume", "--last", "now add tests"], dict(resume=True, prompt="now add tests")),
    (["exec", "resume", "0199-abc", "now add tests"], dict(resume=True, prompt="now add tests")),
    (["exec", "resume", "0199-abc"], dict(resume=True, prompt=None)),
    ([], dict(mode="interactive", prompt=None, output_format=None)),
    (["fix the login page"], dict(mode="interactive", prompt="fix the login page", subcommand=None)),
    (["-m", "gpt-5.5"], dict(mode="interactive", model="gpt-5.5")),
    (["resume", "--last"], dict(mode="interactive", resume=True, subcommand="resume")),
    (["fork"], dict(mode="interactive", resume=True)),
    (["--version"], dict(mode="meta")),
    (["-V"], dict(mode="meta")),
    (["exec", "--help"], dict(mode="meta")),
    (["login"], dict(mode="meta", subcommand="login")),
    (["logout"], dict(mode="meta")),
    (["mcp", "list"], dict(mode="meta", subcommand="mcp")),
    (["completion", "bash"], dict(mode="meta")),
    (["apply", "task-1"], dict(mode="meta")),
    (["sandbox", "linux", "ls"], dict(mode="meta")),
    (["app-server"], dict(mode="meta")),
    (["exec", "review"], dict(mode="meta", subcommand="exec review")),
]


@pytest.mark.parametrize("args, expected", CASES, ids=[" ".join(a) or "(none)" for a, _ in CASES])
def test_parse(cfg, args, expected):
    request = adapters.parse("codex", args, cfg)
    assert request["understood"] is True
    assert request["args"] == args
    for key, value in expected.items():
        assert request[key] == value, key


def test_two_prompts_are_not_understood(cfg):
    assert adapters.parse("codex", ["exec", "one", "two"], cfg)["understood"] is False


def test_resume_is_untranslatable(cfg):
    request = adapters.parse("codex", ["exec", "resume", "--last", "go on"], cfg)
    assert any("resum" in why for why in request["untranslatable"])


def test_trust_flags_are_portable(cfg):
    request = adapters.parse("codex", ["exec", "--skip-git-repo-check", "--json", "-m", "o3", "hi"], cfg)
    assert request["untranslatable"] == []
