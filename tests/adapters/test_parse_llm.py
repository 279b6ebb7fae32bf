"""llm argv → Request, table-driven."""

import pytest

from shim import adapters

CASES = [
    (["hello"], dict(mode="oneshot", subcommand="prompt", prompt="hello", prompt_index=0,
                     model=None, output_format="text", resume=False)),
    (["prompt", "hello"], dict(mode="oneshot", subcommand="prompt", prompt="hello", prompt_index=1)),
    (["hello", "-m", "4o"], dict(model="4o", model_pinned=True)),
    (["-m", "4o", "hello"], dict(model="4o", prompt="hello", prompt_index=2)),
    (["--model=gpt-4o", "hello"], dict(model="gpt-4o")),
    (["-m4o", "hello"], dict(model="4o", prompt="hello")),
    (["-m", "a", "hello", "--model", "b"], dict(model="b")),  # last wins
    (["-s", "answer in French", "hello"], dict(prompt="hello", resume=False)),
    (["-o", "temperature", "0.2", "hello"], dict(prompt="hello")),  # -o takes two values
    (["--at", "-", "image/png", "describe"], dict(prompt="describe")),
    (["-c", "and then?"], dict(resume=True, prompt="and then?")),
    (["--cid", "01abc", "and then?"], dict(resume=True, prompt="and then?")),
    (["--", "-starts with dash"], dict(prompt="-starts with dash", prompt_index=1)),
    (["prompt", "--", "logs"], dict(prompt="logs", mode="oneshot")),
    ([], dict(mode="oneshot", prompt=None)),  # prompt from stdin
    ([""], dict(prompt="")),
    (["chat"], dict(mode="interactive", subcommand="chat", output_format=None)),
    (["chat", "-m", "4o"], dict(mode="interactive", model="4o")),
    (["chat", "-c"], dict(mode="interactive", resume=True)),
    (["--version"], dict(mode="meta")),
    (["--help"], dict(mode="meta")),
    (["hello", "--help"], dict(mode="meta")),
    (["logs", "-n", "3"], dict(mode="meta", subcommand="logs")),
    (["models"], dict(mode="meta")),
    (["keys", "set", "openai"], dict(mode="meta")),
    (["plugins"], dict(mode="meta")),
    (["install", "llm-gemini"], dict(mode="meta")),
    (["templates", "list"], dict(mode="meta")),
    (["aliases"], dict(mode="meta")),
    (["embed", "-m", "3-small", "-c", "hi"], dict(mode="meta")),
]


@pytest.mark.parametrize("args, expected", CASES, ids=[" ".join(a) or "(none)" for a, _ in CASES])
def test_parse(cfg, args, expected):
    request = adapters.parse("llm", args, cfg)
    assert request["understood"] is True
    assert request["args"] == args
    for key, value in expected.items():
        assert request[key] == value, key


def test_plugin_command_is_not_understood(cfg):
    # `llm cmd "undo the last commit"` (llm-cmd plugin): two positionals for `prompt`.
    request = adapters.parse("llm", ["cmd", "undo the last commit"], cfg)
    assert request["understood"] is False


def test_chat_takes_no_prompt(cfg):
    assert adapters.parse("llm", ["chat", "hello"], cfg)["understood"] is False
