"""Usage taps on recorded one-shot outputs shaped like ../shared/REAL_CLIS.md sections 4, 5, 8."""

import json

import pytest

from shim.telemetry import record, usage
from tests.telemetry.conftest import data_path


def read(name):
    with open(data_path(name), "rb") as fh:
        return fh.read()


def run_tap(tool, fmt, data, chunk=None):
    tap = usage.tap_for(tool, fmt)
    assert tap is not None
    if chunk is None:
        tap.feed(data)
    else:
        for i in range(0, len(data), chunk):
            tap.feed(data[i:i + chunk])
    return tap.result()


def test_no_tap_for_text_modes():
    assert usage.tap_for("claude", "text") is None
    assert usage.tap_for("claude", None) is None
    assert usage.tap_for("llm", "json") is None
    assert usage.tap_for("codex", None) is None


def test_claude_json_result_line():
    res = run_tap("claude", "json", read("claude-json-ok.json"))
    assert (res["input_tokens"], res["output_tokens"]) == (11, 7)
    assert (res["cache_read_tokens"], res["cache_write_tokens"]) == (3, 5)
    assert res["cost_usd"] == pytest.approx(0.00026275)
    assert res["model"] == "claude-opus-4-8"  # "[1m]" stripped from the modelUsage key
    assert res["session_id"] == "08d037f8-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
    assert res["error"]["is_error"] is False
    assert res["error"]["message"] is None  # the answer text is never carried as a hint


def test_claude_zero_usage_but_right_model_usage():
    """After a non-streaming retry the top-level usage is all zeros; modelUsage is right."""
    res = run_tap("claude", "json", read("claude-json-zero-usage.json"))
    assert (res["input_tokens"], res["output_tokens"], res["cache_read_tokens"],
            res["cache_write_tokens"]) == (11, 7, 3, 5)
    assert res["model"] == "claude-sonnet-5"
    assert res["cost_usd"] == pytest.approx(0.00015765)


def test_claude_error_hints_even_though_subtype_says_success():
    res = run_tap("claude", "json", read("claude-json-429.json"))
    assert res["error"]["is_error"] is True
    assert res["error"]["api_error_status"] == 429
    assert res["error"]["subtype"] == "success"
    assert "429" in res["error"]["message"]
    assert res["cost_usd"] == 0
    assert res["input_tokens"] == 0 and res["output_tokens"] == 0


def test_claude_two_models_are_summed_with_parts():
    res = run_tap("claude", "json", read("claude-json-two-models.json"))
    assert res["input_tokens"] == 111 and res["output_tokens"] == 27
    assert res["model"] == "claude-haiku-4-5-20251001"  # the larger cost wins the label
    assert sorted(p["model"] for p in res["parts"]) == ["claude-haiku-4-5-20251001",
                                                        "claude-sonnet-5"]


@pytest.mark.parametrize("chunk", [None, 1, 7, 64, 4096])
def test_claude_stream_json_any_chunking(chunk):
    res = run_tap("claude", "stream-json", read("claude-stream.jsonl"), chunk=chunk)
    # the assistant line says output_tokens=1 (message_start): the result line wins
    assert res["output_tokens"] == 7 and res["input_tokens"] == 11
    assert res["session_id"] == "5e5e5e5e-0000-4000-8000-000000000005"
    assert res["model"] == "claude-sonnet-5"


def test_claude_stream_without_result_keeps_the_session_id_only():
    lines = read("claude-stream.jsonl").splitlines(keepends=True)
    res = run_tap("claude", "stream-json", b"".join(lines[:2]))
    assert res["session_id"] == "5e5e5e5e-0000-4000-8000-000000000005"
    assert res["input_tokens"] is None and res["cost_usd"] is None
    assert not record.has_usage(res)


def test_claude_last_line_without_newline():
    res = run_tap("claude", "json", read("claude-json-ok.json").rstrip(b"\n"))
    assert res["output_tokens"] == 7


def test_huge_result_line_is_parsed_from_its_tail_with_bounded_memory():
    obj = json.loads(read("claude-json-ok.json"))
    obj["result"] = "x" * (3 * usage.MAX_LINE)
    data = json.dumps(obj, separators=(",", ":")).encode() + b"\n"
    tap = usage.tap_for("claude", "json")
    for i in range(0, len(data), 65536):
        tap.feed(data[i:i + 65536])
        assert len(tap._buf) + len(tap._tail) <= usage.MAX_LINE + 2 * usage.TAIL_BYTES + 65536
    res = tap.result()
    assert res["output_tokens"] == 7 and res["cost_usd"] == pytest.approx(0.00026275)
    assert res["session_id"] == obj["session_id"]


def test_unwanted_lines_are_not_kept():
    tap = usage.tap_for("claude", "stream-json")
    big = json.dumps({"type": "assistant", "message": {"content": "y" * 500000}}).encode()
    tap.feed(big[:300000])
    assert len(tap._buf) < usage.DECIDE_BYTES  # dropped once the type was visible
    tap.feed(big[300000:] + b"\n")
    tap.feed(read("claude-json-ok.json"))
    assert tap.result()["output_tokens"] == 7


def test_garbage_never_raises():
    tap = usage.tap_for("claude", "json")
    tap.feed(b'{"type":"result", not json at all\n\xff\xfe\n')
    tap.feed(memoryview(b"plain text\n"))
    assert tap.result() is None


@pytest.mark.parametrize("chunk", [None, 3, 50])
def test_codex_jsonl_usage(chunk):
    res = run_tap("codex", "jsonl", read("codex-ok.jsonl"), chunk=chunk)
    assert res["session_id"] == "01a200bb-a1dc-7542-b3ec-ff613198595d"
    assert res["input_tokens"] == 7          # 11 including 4 cached
    assert res["cache_read_tokens"] == 4
    assert res["output_tokens"] == 7
    assert res["reasoning_tokens"] == 2
    assert res["cost_usd"] is None and res["model"] is None  # codex reports neither
    assert res["error"]["is_error"] is False


def test_codex_failure_hints():
    res = run_tap("codex", "jsonl", read("codex-429.jsonl"))
    assert res["error"]["is_error"] is True
    assert "429" in res["error"]["message"]
    assert any("Reconnecting" in m for m in res["error"]["messages"])
    assert res["input_tokens"] is None
    assert not record.has_usage(res)


def test_codex_multiple_turns_are_summed():
    turn = b'{"type":"turn.completed","usage":{"input_tokens":100,"cached_input_tokens":40,' \
           b'"output_tokens":10,"reasoning_output_tokens":1}}\n'
    res = run_tap("codex", "jsonl", turn * 3)
    assert (res["input_tokens"], res["cache_read_tokens"], res["output_tokens"]) == (180, 120, 30)
    assert len(res["parts"]) == 3


def test_the_answer_is_read_for_privacy_full_but_never_from_an_error():
    assert run_tap("claude", "json", read("claude-json-ok.json"))["text"] == "Hello from stub."
    assert run_tap("claude", "json", read("claude-json-429.json"))["text"] is None
    assert run_tap("codex", "jsonl", read("codex-ok.jsonl"), chunk=7)["text"] == \
        "Hello from stub."
    assert run_tap("codex", "jsonl", read("codex-429.jsonl"))["text"] is None
