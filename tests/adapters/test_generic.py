"""The generic adapter: a tool (gemini) described only in YAML, no code."""

import pytest

from shim import adapters, routing

CASES = [
    (["-p", "hello"], dict(mode="oneshot", prompt="hello", prompt_index=1, output_format="text")),
    (["--prompt=hello"], dict(mode="oneshot", prompt="hello", prompt_index=0)),
    (["-p", "hi", "-m", "gemini-3-pro"], dict(model="gemini-3-pro", model_pinned=True)),
    (["-p", "hi", "--model=flash"], dict(model="flash")),
    (["-mflash", "-p", "hi"], dict(model="flash")),
    (["-p", "hi", "-m", "a", "-m", "b"], dict(model="b")),
    (["-p", "hi", "-o", "json"], dict(output_format="json")),
    (["-p", "hi", "-e", "none"], dict(prompt="hi")),  # -e takes a value
    (["what is this repo"], dict(mode="interactive", prompt="what is this repo")),
    (["-r", "latest"], dict(mode="interactive", resume=True)),
    ([], dict(mode="interactive", prompt=None)),
    (["--", "-dash"], dict(prompt="-dash")),
    (["--version"], dict(mode="meta")),
    (["mcp", "list"], dict(mode="meta", subcommand="mcp")),
]


@pytest.mark.parametrize("args, expected", CASES, ids=[" ".join(a) or "(none)" for a, _ in CASES])
def test_parse(gemini_cfg, args, expected):
    request = adapters.parse("gemini", args, gemini_cfg)
    assert request["understood"] is True
    assert request["adapter"] == "generic"
    for key, value in expected.items():
        assert request[key] == value, key
    assert adapters.render(request, "gemini", None, gemini_cfg) == args
    assert adapters.render(request, "gemini", request["model"], gemini_cfg) == args


def test_two_prompts_not_understood(gemini_cfg):
    request = adapters.parse("gemini", ["-p", "a", "b"], gemini_cfg)
    assert request["understood"] is False


@pytest.mark.parametrize("args, model, expected", [
    (["-p", "hi", "-m", "x"], "gemini-3-flash", ["-p", "hi", "-m", "gemini-3-flash"]),
    (["-p", "hi", "--model=x"], "y", ["-p", "hi", "--model=y"]),
    (["-p", "hi"], "gemini-3-pro", ["-m", "gemini-3-pro", "-p", "hi"]),
])
def test_model_rewrite(gemini_cfg, args, model, expected):
    request = adapters.parse("gemini", args, gemini_cfg)
    assert adapters.render(request, "gemini", model, gemini_cfg) == expected


@pytest.mark.parametrize("args, model, expected", [
    (["-p", "hi"], "gemini-3-pro", ["-p", "hi", "-m", "gemini-3-pro"]),
    (["-p", "hi"], None, ["-p", "hi"]),
    (["-p", "hi", "--output-format", "text"], None, ["-p", "hi"]),
    (["-p", "--", "-x"], None, ["-p", "-x"]),  # the value of -p may start with a dash
])
def test_render_from_claude_uses_the_template(gemini_cfg, args, model, expected):
    request = adapters.parse("claude", args, gemini_cfg)
    assert adapters.render(request, "gemini", model, gemini_cfg) == expected


def test_render_to_claude_and_codex(gemini_cfg):
    request = adapters.parse("gemini", ["-p", "hi", "-m", "flash"], gemini_cfg)
    assert adapters.render(request, "claude", "haiku", gemini_cfg) == ["-p", "hi", "--model", "haiku"]
    assert adapters.render(request, "codex", None, gemini_cfg) == ["exec", "--skip-git-repo-check", "hi"]


def test_json_output_only_where_the_template_has_it(gemini_cfg):
    request, why = adapters.oneshot_request("claude", "hi", gemini_cfg, output_format="json")
    assert adapters.render(request, "gemini", None, gemini_cfg) == ["-p", "hi", "-o", "json"]
    request = adapters.parse("claude", ["-p", "hi", "--output-format", "stream-json"], gemini_cfg)
    assert adapters.render(request, "gemini", None, gemini_cfg) is None


def test_positional_prompt_template(config):
    cfg = config({"tools": {"aider": {"adapter": "generic", "generic": {
        "oneshot_flags": ["--message"], "prompt_flags": ["--message", "-m"],
        "model_flags": ["--model"], "render": ["--yes", ["--model", "{model}"], "{prompt}"]}}}})
    request = adapters.parse("claude", ["-p", "--", "-dash first"], cfg)
    assert adapters.render(request, "aider", "sonnet", cfg) == ["--yes", "--model", "sonnet", "--", "-dash first"]


def test_no_generic_section_passes_through(config):
    cfg = config({"tools": {"mytool": {"adapter": "generic"}}})
    request = adapters.parse("mytool", ["-p", "x"], cfg)
    assert request["understood"] is False
    assert adapters.render(request, "mytool", None, cfg) == ["-p", "x"]


def test_failure_patterns_from_yaml(gemini_cfg):
    assert adapters.match_failure("gemini", "Error: RESOURCE_EXHAUSTED (429)", gemini_cfg)[0] == "rate_limited"
    assert adapters.match_failure("gemini", "daily quota exceeded", gemini_cfg)[0] == "quota"
    assert adapters.match_failure("gemini", "all good", gemini_cfg)[0] is None


@pytest.mark.parametrize("tool, text, expected", [
    ("claude", "API Error: Request rejected (429) · rate_limit_error", "rate_limited"),
    ("claude", "Failed to authenticate. API Error: 401", "auth"),
    ("claude", "API Error: 529 This is a server-side issue", "overloaded"),
    ("claude", "API Error: Unable to connect to API (ECONNRESET)", "network"),
    ("claude", "Request timed out", "timeout"),
    ("codex", "exceeded retry limit, last status: 429 Too Many Requests", "rate_limited"),
    ("codex", "unexpected status 401 Unauthorized: x", "auth"),
    ("codex", "stream disconnected before completion: idle timeout waiting for SSE", "timeout"),
    ("codex", "Connection failed: error sending request", "network"),
    ("llm", "Error: Error code: 429 - slow down", "rate_limited"),
    ("llm", "Error: Connection error.", "network"),
    ("llm", "Hello from stub.", None),
])
def test_builtin_failure_patterns(cfg, tool, text, expected):
    assert adapters.match_failure(tool, text, cfg)[0] == expected


def test_yaml_tool_routes_with_tiers(config):
    from tests.support.configs import GEMINI, GEMINI_MODELS

    cfg = config({"tools": {"gemini": GEMINI}, "models": GEMINI_MODELS,
                  "agents": {"g": {"cost_optimization": True}},
                  "policies": {"cost_optimization": {"tiers": {
                      "gemini": {"cheap": "gemini-3-flash", "standard": "gemini-3-pro",
                                 "premium": "gemini-3-pro"}}}}})
    request = adapters.parse("gemini", ["-p", "say hi"], cfg)
    decision = routing.decide(request, cfg, "g")
    assert decision["argv"] == ["-m", "gemini-3-flash", "-p", "say hi"]
    assert decision["provider"] == "google" and decision["tier"] == "cheap"
