"""classify() on the exact error texts of the real CLIs (../shared/REAL_CLIS.md sections 4-6)."""

import json

import pytest

from shim.policy import failures
from tests.support.fakes import CLAUDE_ERRORS, CODEX_ERRORS, LLM_ERRORS

CLAUDE_EXPECTED = {
    "429": "rate_limited", "401": "auth", "403": "auth", "529": "overloaded",
    "500": "overloaded", "drop": "network", "down": "network", "timeout": "timeout",
    "missing_key": "auth", "context": "context_too_long", "quota": "quota",
}
CODEX_EXPECTED = {
    "429": "rate_limited", "401": "auth", "403": "auth", "500": "overloaded",
    "503": "overloaded", "529": "overloaded", "drop": "network", "dropmid": "network",
    "down": "network", "missing_key": "auth", "idle": "timeout",
    "context": "context_too_long", "quota": "quota",
}
LLM_EXPECTED = {
    "429": "rate_limited", "401": "auth", "500": "overloaded", "529": "overloaded",
    "drop": "network", "down": "network", "context": "context_too_long",
}


def claude_hints(status, text):
    """What the Claude usage tap reads from a failed `--output-format json` result."""
    return {"error": {"is_error": True, "api_error_status": status, "subtype": "success",
                      "message": text}}


@pytest.mark.parametrize("kind", sorted(CLAUDE_EXPECTED))
def test_claude_json_result(kind):
    status, text = CLAUDE_ERRORS[kind]
    assert failures.classify(1, None, b"", claude_hints(status, text), "claude") == \
        CLAUDE_EXPECTED[kind]


@pytest.mark.parametrize("kind", sorted(CLAUDE_EXPECTED))
def test_claude_text_mode_prints_errors_on_stdout(kind):
    _, text = CLAUDE_ERRORS[kind]
    assert failures.classify(1, (text + "\n").encode(), b"", None, "claude") == \
        CLAUDE_EXPECTED[kind]


@pytest.mark.parametrize("kind", sorted(CODEX_EXPECTED))
def test_codex_json_turn_failed(kind):
    text = CODEX_ERRORS[kind]
    hints = {"error": {"is_error": True, "api_error_status": None, "subtype": "turn.failed",
                       "message": text, "messages": []}}
    stdout = (json.dumps({"type": "turn.failed", "error": {"message": text}}) + "\n").encode()
    assert failures.classify(1, stdout, b"Reading additional input from stdin...\n", hints,
                             "codex") == CODEX_EXPECTED[kind]


@pytest.mark.parametrize("kind", sorted(CODEX_EXPECTED))
def test_codex_text_mode_errors_on_stderr(kind):
    stderr = ("Reading additional input from stdin...\nERROR: " + CODEX_ERRORS[kind]).encode()
    assert failures.classify(1, b"", stderr, None, "codex") == CODEX_EXPECTED[kind]


@pytest.mark.parametrize("kind", sorted(LLM_EXPECTED))
def test_llm_errors_on_stderr(kind):
    assert failures.classify(1, b"", LLM_ERRORS[kind].encode(), None, "llm") == \
        LLM_EXPECTED[kind]


def test_success_is_not_a_failure():
    assert failures.classify(0, b"Hello from stub.\n", b"", None, "claude") is None
    # A 429 mentioned in a successful answer is not a failure either.
    assert failures.classify(0, b"HTTP 429 means too many requests", b"", None, "llm") is None


def test_is_error_with_exit_0_is_a_failure():
    hints = claude_hints(529, CLAUDE_ERRORS["529"][1])
    assert failures.classify(0, None, None, hints, "claude") == "overloaded"


@pytest.mark.parametrize("code", [130, 143, 137, 129])
def test_stopped_by_a_signal_is_not_a_tool_failure(code):
    assert failures.classify(code, b"", b"rate limit", None, "claude") is None


def test_unrecognised_failure_is_error():
    assert failures.classify(2, b"", b"error: unexpected argument '--frobnicate'", None,
                             "codex") == "error"
    assert failures.classify(1, b"", b"Error: 'Unknown model: nope'", None, "llm") == "error"


def test_exit_124_is_a_timeout():
    assert failures.classify(124, b"", b"", None, "llm") == "timeout"


def test_openai_quota_429_is_quota_not_rate_limit():
    text = ("Error code: 429 - {'error': {'message': 'You exceeded your current quota, please "
            "check your plan and billing details.', 'type': 'insufficient_quota'}}")
    assert failures.classify(1, b"", text.encode(), None, "llm") == "quota"
    hints = claude_hints(429, "API Error: 429 credit balance is too low")
    assert failures.classify(1, None, None, hints, "claude") == "quota"


def test_status_code_wins_over_vague_text():
    hints = claude_hints(503, "API Error: something odd happened")
    assert failures.classify(1, None, None, hints, "claude") == "overloaded"


@pytest.mark.parametrize("text, seconds", [
    ("Error: Error code: 429 - stub simulated 429. Please try again in 1s.", 1.0),
    ("Rate limit reached. Please try again in 20ms.", 0.02),
    ("please try again in 1m30s", 90.0),
    ("retry-after: 5", 5.0),
    ("retry-after-ms: 2500", 2.5),
    ("API Error: 529 ... try again in a moment", None),
    ("", None),
])
def test_retry_after(text, seconds):
    got = failures.parse_retry_after(text)
    if seconds is None:
        assert got is None
    else:
        assert got == pytest.approx(seconds)


def test_diagnose_carries_retry_after_and_evidence():
    d = failures.diagnose(1, b"", LLM_ERRORS["429"].encode(), None, "llm")
    assert d["class"] == "rate_limited"
    assert d["retry_after"] == pytest.approx(1.0)
    assert "429" in d["evidence"]


def test_generic_tool_patterns_from_config():
    cfg = {"tools": {"mytool": {"adapter": "generic",
                                "generic": {"failures": {"backend said nope": "quota"}}}}}
    assert failures.classify(1, b"", b"the backend said NOPE today", None, "mytool",
                             cfg) == "quota"
    assert failures.classify(1, b"", b"something else", None, "mytool", cfg) == "error"
