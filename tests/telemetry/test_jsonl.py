"""harvest.jsonl.fast_decoder (orjson, when installed) reads every line as json.loads does but
for integers beyond 64 bits (floats): the edge cases where orjson differs, and many mutations
of real transcript lines; the import's Claude parser gives json's entries all the same."""

import json
import random

import pytest

from shim.telemetry.harvest import jsonl
from tests.support.transcripts import claude_entry, claude_line

EDGES = [
    b'{"a":1,"a":2}', b'{"a":{"b":1},"a":{"c":2}}', b"-0", b"-0.0", b"1e400", b"-1e400",
    b"1e-400", b"NaN", b"-Infinity", b"18446744073709551615", b"18446744073709551616",
    b"-9223372036854775808", b"-9223372036854775809", b"123456789012345678901234567890",
    b'{"id":123456789012345678901234567890}', b'"123456789012345678901234567890"',
    b'"\\ud800"', b'"\\ud83d\\ude00"', b"\xef\xbb\xbf{}", b" {} ", b"{}\n", b"{}\r", b"{} x",
    b"[1,]", b'"\xed\xa0\x80"', b'"\xff"', b"1.5e3", b"1E5", b"0.1", b'"a\\u0000b"', b'"\x1f"',
    b"\x0c{}", b"[" * 300 + b"]" * 300,
    b"[" * 1000 + b"]" * 1000, b"[" * 2000 + b"]" * 2000, b"{}" * 3, b"", b"   ",
    b"2.4703282292062328e-324", b"1.7976931348623157e308", b"1.7976931348623159e308",
]
_NOISE = [b'"', b"\\", b"{", b"}", b"[", b"]", b",", b":", b"0", b"9", b"-", b"e", b".",
          b"u", b" ", b"\x00", b"\xed", b"\xff", "é".encode(), b"NaN", b"1e400", b"\\ud800",
          b"99999999999999999999", b'"usage":1,', b'"id":2,', b"true", b"null"]


def _outcome(decode, line, loose=False):
    try:
        value = decode(line)
    except RecursionError:  # json's nesting limit (orjson's is 1024)
        return "recursion", None
    return "ok", _typed(value, loose)


def _typed(value, loose=False):
    """The value with every number's type spelled out (1 and 1.0 are equal in Python);
    `loose`: an integer beyond 64 bits as the float orjson reads it as."""
    if isinstance(value, dict):
        return {k: _typed(v, loose) for k, v in value.items()}, len(value), list(value)
    if isinstance(value, list):
        return [_typed(v, loose) for v in value]
    if loose and type(value) is int and not -2 ** 63 <= value < 2 ** 64:
        value = float(value)
    return type(value).__name__, repr(value)


@pytest.fixture
def fast():
    pytest.importorskip("orjson")
    decode, loose = jsonl.fast_decoder()
    assert decode is not jsonl.decode and loose
    return decode


@pytest.mark.parametrize("line", EDGES)
def test_the_edges_where_orjson_differs_read_as_json_reads_them(fast, line):
    # orjson's reading, or json's own where orjson refused the line
    assert _outcome(fast, line) in (_outcome(jsonl.decode, line, loose=True),
                                    _outcome(jsonl.decode, line))


def test_mutated_transcript_lines_read_as_json_reads_them(fast):
    rng = random.Random(19)
    lines = [claude_line(f"m{i}", 1_700_000_000 + i, out=i, inp=2 * i).rstrip("\n").encode()
             for i in range(20)]
    broken = 0
    for _ in range(20000):
        line = bytearray(rng.choice(lines))
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(line) + 1)
            cut = rng.choice([0, 0, 1])
            line[at:at + cut] = rng.choice(_NOISE)
        line = bytes(line)
        expected = _outcome(jsonl.decode, line, loose=True)
        assert _outcome(fast, line) in (expected, _outcome(jsonl.decode, line)), line
        broken += expected == ("ok", _typed(None))
    assert 1000 < broken < 19000  # both kinds of line were compared


@pytest.mark.parametrize("ids", [("m1", "r1"), (12345678901234567890123, "r1"),
                                 ("m1", -(2 ** 70)), (None, 2 ** 64), (1.5, "r1")])
def test_the_claude_import_keys_a_message_as_json_reads_it(fast, monkeypatch, ids):
    from shim.telemetry.imports import claude

    message_id, request_id = ids
    lines = []
    for n, uuid in enumerate((10 ** 25, "u-2")):
        entry = claude_entry("x", 1_700_000_000 + n, out=n + 1)
        entry.update(uuid=uuid, requestId=request_id)
        entry["message"]["id"] = message_id
        lines.append(json.dumps(entry, separators=(",", ":")))
    data = ("\n".join(lines) + "\n").encode()
    for text in (data, data.replace(b"\n", b"\r\n")):  # the line-by-line path too
        found = claude.parse(text, {})
        monkeypatch.setattr(claude, "_decode", jsonl.decode)
        assert found == claude.parse(text, {})
        monkeypatch.undo()
        assert len(found[0]) == 1 + (message_id is None)


def test_without_orjson_it_is_decode(monkeypatch):
    import builtins

    real = builtins.__import__

    def no_orjson(name, *args, **kw):
        if name == "orjson":
            raise ImportError(name)
        return real(name, *args, **kw)

    monkeypatch.setattr(builtins, "__import__", no_orjson)
    assert jsonl.fast_decoder() == (jsonl.decode, False)


@pytest.mark.parametrize("total", [12, 2 ** 64 + 1, 12.0])
def test_the_codex_import_counts_a_rollout_as_json_reads_it(fast, monkeypatch, total):
    from shim.telemetry.imports import codex

    def count(n, inp):
        usage = {"input_tokens": inp, "cached_input_tokens": 0, "output_tokens": n,
                 "reasoning_output_tokens": 0}
        return {"timestamp": f"2026-11-03T13:49:2{n}.000Z", "type": "event_msg",
                "payload": {"type": "token_count", "info": {"total_token_usage": usage}}}

    lines = [{"timestamp": "2026-11-03T13:49:20.000Z", "type": "session_meta",
              "payload": {"id": "t-1", "cwd": "/p"}},
             {"timestamp": "2026-11-03T13:49:20.000Z", "type": "turn_context",
              "payload": {"model": "gpt-5", "cwd": "/p"}},
             count(1, total), count(2, total + 7), count(3, total + 9)]
    data = "".join(json.dumps(line) + "\n" for line in lines).encode()
    found = codex.parse(data, {})
    assert found == codex.parse(data, {}, decode=jsonl.decode)
    assert [e[7] for e in found[0]][1:] == [7, 2]  # fresh input of the 2nd and 3rd count
