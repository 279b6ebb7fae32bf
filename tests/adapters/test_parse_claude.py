"""claude argv → Request, table-driven."""

import pytest

from shim import adapters

NON_UTF8 = b"caf\xe9 \xff".decode("utf-8", "surrogateescape")

CASES = [
    # args, expected fields
    (["-p", "hello"], dict(mode="oneshot", prompt="hello", prompt_index=1, model=None,
                           model_pinned=False, output_format="text", resume=False)),
    (["--print", "hello"], dict(mode="oneshot", prompt="hello")),
    (["hello", "-p"], dict(mode="oneshot", prompt="hello", prompt_index=0)),
    (["-p", "hi", "--model", "sonnet"], dict(model="sonnet", model_pinned=True)),
    (["--model=opus", "-p", "hi"], dict(model="opus", model_pinned=True, prompt="hi")),
    (["--model", "haiku", "-p", "hi", "--model", "sonnet"], dict(model="sonnet")),  # last wins
    (["-p", "hi", "--output-format", "json"], dict(output_format="json")),
    (["-p", "hi", "--output-format=stream-json", "--verbose"], dict(output_format="stream-json")),
    (["-p", "--", "-starts with a dash"], dict(prompt="-starts with a dash", prompt_index=2)),
    (["-p", "--", "--model"], dict(prompt="--model", model=None)),  # after --: a prompt
    (["-p", ""], dict(prompt="", prompt_index=1)),
    (["-p", NON_UTF8], dict(prompt=NON_UTF8)),
    (["-p"], dict(mode="oneshot", prompt=None, prompt_index=None)),  # prompt from stdin
    (["-pc", "again"], dict(mode="oneshot", resume=True, prompt="again")),
    (["-c"], dict(mode="interactive", resume=True, prompt=None, output_format=None)),
    (["-r", "abc123", "finish the PR"], dict(mode="interactive", resume=True, prompt="finish the PR")),
    (["--resume"], dict(mode="interactive", resume=True)),
    ([], dict(mode="interactive", prompt=None)),
    (["explain this project"], dict(mode="interactive", prompt="explain this project")),
    # Variadic options swallow following words, as commander does: no prompt on argv.
    (["-p", "--allowedTools", "Read", "Edit", "fix it"], dict(mode="oneshot", prompt=None)),
    (["-p", "--allowedTools", "Read", "--", "fix it"], dict(prompt="fix it")),
    (["-p", "--max-turns", "3", "fix it"], dict(prompt="fix it")),
    (["-p", "hi", "--fallback-model", "sonnet"], dict(model=None)),
    (["--version"], dict(mode="meta")),
    (["-v"], dict(mode="meta")),
    (["-p", "hi", "--help"], dict(mode="meta")),
    (["mcp", "list"], dict(mode="meta", subcommand="mcp")),
    (["config", "get", "model"], dict(mode="meta", subcommand="config")),
    (["doctor"], dict(mode="meta", subcommand="doctor")),
    (["update"], dict(mode="meta", subcommand="update")),
    (["setup-token"], dict(mode="meta", subcommand="setup-token")),
]


@pytest.mark.parametrize("args, expected", CASES, ids=[" ".join(a) or "(none)" for a, _ in CASES])
def test_parse(cfg, args, expected):
    request = adapters.parse("claude", args, cfg)
    assert request["understood"] is True
    assert request["args"] == args
    assert request["tool"] == "claude"
    for key, value in expected.items():
        assert request[key] == value, key


def test_two_prompts_are_not_understood(cfg):
    request = adapters.parse("claude", ["-p", "one", "two"], cfg)
    assert request["understood"] is False
    assert request["args"] == ["-p", "one", "two"]


@pytest.mark.parametrize("args, reason", [
    (["-p", "hi", "--allowedTools", "Read"], "--allowedTools"),
    (["-p", "hi", "--permission-mode", "plan"], "--permission-mode"),
    (["-p", "hi", "--max-turns", "2"], "--max-turns"),
])
def test_tool_specific_flags_are_untranslatable(cfg, args, reason):
    request = adapters.parse("claude", args, cfg)
    assert any(reason in why for why in request["untranslatable"])


def test_portable_flags_leave_nothing_untranslatable(cfg):
    request = adapters.parse("claude", ["-p", "hi", "--model", "opus", "--output-format", "text",
                                        "--system-prompt", "be terse"], cfg)
    assert request["untranslatable"] == []
    assert request["system"] == "be terse"
