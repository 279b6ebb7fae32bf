"""Secrets are redacted from argv, environment and free text."""

import pytest

from shim.telemetry import privacy

R = privacy.REDACTED


@pytest.mark.parametrize("argv, expected", [
    (["--api-key", "sk-123", "-p", "hi"], ["--api-key", R, "-p", "hi"]),
    (["--api-key=sk-123"], [f"--api-key={R}"]),
    (["-m", "gpt-4o", "--key", "sk-abc", "hello"], ["-m", "gpt-4o", "--key", R, "hello"]),
    (["--auth-token", "t"], ["--auth-token", R]),
    (["-c", "model_providers.x.api_key=sk-1", "-c", "model=o3"],
     ["-c", f"model_providers.x.api_key={R}", "-c", "model=o3"]),
    (["-c", "mcp.github.token=ghp_x"], ["-c", f"mcp.github.token={R}"]),
    (["--config=openai_api_key=abc"], [f"--config=openai_api_key={R}"]),
    (["-capi_key=abc"], [f"-capi_key={R}"]),
    (["-cfoo.token=abc"], [f"-cfoo.token={R}"]),
    (["-c=mcp.auth=abc", "-c=model=o3"], [f"-c=mcp.auth={R}", "-c=model=o3"]),
    (["--max-tokens", "100", "-p", "x"], ["--max-tokens", "100", "-p", "x"]),
    (["exec", "--json", "say hi"], ["exec", "--json", "say hi"]),
])
def test_redact_argv(argv, expected):
    assert privacy.redact_argv(argv) == expected


def test_redact_env():
    env = {"ANTHROPIC_API_KEY": "sk-ant-x", "OPENAI_API_KEY": "sk-y", "GITHUB_TOKEN": "ghp",
           "DB_PASSWORD": "pw", "HOME": "/h", "PATH": "/bin", "EMPTY_TOKEN": ""}
    out = privacy.redact_env(env)
    assert out["HOME"] == "/h" and out["PATH"] == "/bin"
    for name in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GITHUB_TOKEN", "DB_PASSWORD"):
        assert out[name] == R
    assert out["EMPTY_TOKEN"] == ""
    assert env["OPENAI_API_KEY"] == "sk-y"  # a copy


@pytest.mark.parametrize("text, secret", [
    ("use sk-ant-api03-AbCdEfGhIjKlMnOp please", "sk-ant-api03"),
    ("key: sk-proj-ABCDEFGHIJKLMNOPQRSTU", "sk-proj-ABCDEF"),
    ("Authorization: Bearer abcdefghijklmnop123", "abcdefghijklmnop123"),
    ("OPENAI_API_KEY=abcdef123456", "abcdef123456"),
    ('{"api_key": "zzzzzzzzzz"}', "zzzzzzzzzz"),
    ("token ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123", "ghp_ABCDEF"),
    ("aws AKIAABCDEFGHIJKLMNOP", "AKIAABCDEFGHIJKLMNOP"),
    ("push with github_pat_11ABCDEFG0123456789_abcdefghijKLMNOPqrstuvwxyz0123456789ABCDEFGH",
     "11ABCDEFG0123456789_abcdef"),
])
def test_scrub_text(text, secret):
    scrubbed = privacy.scrub_text(text)
    assert secret not in scrubbed and R in scrubbed


def test_scrub_leaves_ordinary_text_and_non_strings():
    text = "rename the variable tokenCount to count; max tokens = 100"
    assert privacy.scrub_text(text) == text
    assert privacy.scrub_text(None) is None and privacy.scrub_text(5) == 5


def test_scrub_record():
    rec = {"reasons": ["fallback after sk-ant-api03-AbCdEfGhIjKlMnOp"], "prompt_text": None,
           "block_reason": "token=abcdefghijk"}
    privacy.scrub_record(rec)
    assert R in rec["reasons"][0] and R in rec["block_reason"] and rec["prompt_text"] is None
