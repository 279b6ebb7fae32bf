"""Request → argv: byte-for-byte round trips, in-place model rewrites, cross-tool rendering."""

import pytest

from shim import adapters
from tests.adapters import test_parse_claude, test_parse_codex, test_parse_llm

ALL = ([("claude", a) for a, _ in test_parse_claude.CASES]
       + [("codex", a) for a, _ in test_parse_codex.CASES]
       + [("llm", a) for a, _ in test_parse_llm.CASES]
       + [("claude", ["-p", "one", "two"]), ("llm", ["cmd", "undo"]), ("nosuchtool", ["x", "-y"])])


@pytest.mark.parametrize("tool, args", ALL, ids=["%s %s" % (t, " ".join(a)) for t, a in ALL])
def test_unchanged_round_trip(cfg, tool, args):
    request = adapters.parse(tool, args, cfg)
    assert adapters.render(request, tool, None, cfg) == args
    assert adapters.render(request, tool, request["model"], cfg) == args


@pytest.mark.parametrize("tool, args, model, expected", [
    ("claude", ["-p", "hi", "--model", "sonnet"], "haiku", ["-p", "hi", "--model", "haiku"]),
    ("claude", ["--model=opus", "-p", "hi"], "haiku", ["--model=haiku", "-p", "hi"]),
    ("claude", ["--model", "a", "-p", "hi", "--model", "b"], "c", ["--model", "a", "-p", "hi", "--model", "c"]),
    ("codex", ["exec", "-mgpt-5", "hi"], "o3", ["exec", "-mo3", "hi"]),
    ("codex", ["exec", "-m=gpt-5", "hi"], "o3", ["exec", "-m=o3", "hi"]),
    ("codex", ["exec", "--model", "gpt-5", "hi"], "o3", ["exec", "--model", "o3", "hi"]),
    ("codex", ["exec", "-c", 'model="gpt-5"', "hi"], "o3", ["exec", "-c", 'model="o3"', "hi"]),
    ("codex", ["exec", "--config=model=gpt-5", "hi"], "o3", ["exec", "--config=model=o3", "hi"]),
    ("llm", ["-m4o", "hi"], "gpt-4o-mini", ["-mgpt-4o-mini", "hi"]),
    ("llm", ["hi", "--model=4o"], "x", ["hi", "--model=x"]),
])
def test_model_replaced_in_place(cfg, tool, args, model, expected):
    request = adapters.parse(tool, args, cfg)
    assert adapters.render(request, tool, model, cfg) == expected


@pytest.mark.parametrize("tool, args, expected", [
    ("claude", ["-p", "hi"], ["--model", "M", "-p", "hi"]),
    ("claude", ["-p", "--", "-dash"], ["--model", "M", "-p", "--", "-dash"]),
    ("claude", [], ["--model", "M"]),
    ("claude", ["-c"], ["--model", "M", "-c"]),
    ("codex", ["exec", "hi"], ["exec", "-m", "M", "hi"]),
    ("codex", ["exec", "--json", "--", "-x"], ["exec", "-m", "M", "--json", "--", "-x"]),
    ("codex", ["-s", "read-only", "e", "hi"], ["-s", "read-only", "e", "-m", "M", "hi"]),
    ("codex", ["fix it"], ["-m", "M", "fix it"]),
    ("codex", ["resume", "--last"], ["resume", "-m", "M", "--last"]),
    ("llm", ["hi"], ["hi", "-m", "M"]),               # the leading word keeps click's choice
    ("llm", ["prompt", "hi"], ["prompt", "-m", "M", "hi"]),
    ("llm", ["-s", "sys", "hi"], ["-m", "M", "-s", "sys", "hi"]),
    ("llm", ["--", "-x"], ["-m", "M", "--", "-x"]),
    ("llm", [], ["-m", "M"]),
    ("llm", ["chat"], ["chat", "-m", "M"]),
])
def test_model_inserted_before_prompt_and_dashdash(cfg, tool, args, expected):
    request = adapters.parse(tool, args, cfg)
    assert adapters.render(request, tool, "M", cfg) == expected


@pytest.mark.parametrize("tool, args", [
    ("claude", ["--version"]), ("claude", ["mcp", "list"]), ("codex", ["login"]), ("llm", ["logs"]),
    ("claude", ["-p", "a", "b"]),
])
def test_meta_and_unknown_take_no_model(cfg, tool, args):
    request = adapters.parse(tool, args, cfg)
    argv, why = adapters.render_explained(request, tool, "M", cfg)
    assert argv is None and why


@pytest.mark.parametrize("source, args, target, model, expected", [
    ("claude", ["-p", "hi"], "codex", "gpt-5.5", ["exec", "--skip-git-repo-check", "-m", "gpt-5.5", "hi"]),
    ("claude", ["-p", "hi", "--model", "opus"], "llm", "gpt-4o", ["-m", "gpt-4o", "hi"]),
    ("claude", ["-p", "hi"], "codex", None, ["exec", "--skip-git-repo-check", "hi"]),
    ("claude", ["-p", "--", "-x"], "codex", None, ["exec", "--skip-git-repo-check", "--", "-x"]),
    ("claude", ["-p", "resume"], "codex", None, ["exec", "--skip-git-repo-check", "--", "resume"]),
    ("claude", ["-p", "embed"], "llm", None, ["--", "embed"]),
    ("claude", ["-p"], "codex", None, ["exec", "--skip-git-repo-check"]),
    ("claude", ["-p", "hi", "--system-prompt", "terse"], "llm", None, ["-s", "terse", "hi"]),
    ("codex", ["exec", "--skip-git-repo-check", "hi"], "claude", "sonnet", ["-p", "hi", "--model", "sonnet"]),
    ("codex", ["exec", "-c", "model=o3", "hi"], "claude", None, ["-p", "hi"]),
    ("codex", ["exec", "--", "-x"], "claude", None, ["-p", "--", "-x"]),
    ("llm", ["hi", "-m", "4o", "--no-stream"], "claude", "haiku", ["-p", "hi", "--model", "haiku"]),
    ("llm", ["-s", "terse", "hi"], "claude", None, ["-p", "hi", "--system-prompt", "terse"]),
    ("llm", ["update"], "claude", None, None),  # a claude subcommand name as the prompt
])
def test_cross_tool(cfg, source, args, target, model, expected):
    request = adapters.parse(source, args, cfg)
    assert adapters.render(request, target, model, cfg) == expected


@pytest.mark.parametrize("source, args, target, reason", [
    ("claude", ["hello"], "codex", "interactive"),
    ("claude", ["-c", "-p", "go on"], "codex", "resumed"),
    ("claude", ["-p", "hi", "--output-format", "json"], "codex", "output format"),
    ("claude", ["-p", "hi", "--allowedTools", "Bash"], "codex", "--allowedTools"),
    ("claude", ["-p", "hi", "--system-prompt", "x"], "codex", "system-prompt"),
    ("codex", ["exec", "--json", "hi"], "claude", "output format"),
    ("codex", ["exec", "--full-auto", "hi"], "claude", "--full-auto"),
    ("codex", ["exec", "resume", "--last", "hi"], "claude", "resumed"),
    ("llm", ["-c", "more"], "claude", "resumed"),
    ("llm", ["chat"], "claude", "interactive"),
    ("llm", ["hi", "-x"], "codex", "-x"),
    ("claude", ["--version"], "codex", "meta"),
])
def test_untranslatable_stays(cfg, source, args, target, reason):
    request = adapters.parse(source, args, cfg)
    argv, why = adapters.render_explained(request, target, None, cfg)
    assert argv is None
    assert reason in why


def test_oneshot_request_for_exec(cfg):
    request, why = adapters.oneshot_request("claude", "hello", cfg, output_format="json")
    assert why is None
    assert request["args"] == ["-p", "hello", "--output-format", "json"]
    assert request["output_format"] == "json"
    # A tool-agnostic request may move with "json" meaning each tool's machine-readable form.
    assert adapters.render(request, "codex", "gpt-5.5", cfg) == ["exec", "--skip-git-repo-check", "--json", "-m", "gpt-5.5", "hello"]
    assert adapters.render(request, "llm", None, cfg) is None
