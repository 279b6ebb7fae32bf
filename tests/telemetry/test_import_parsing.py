"""The import's fast line reading (imports/claude.py, harvest/jsonl.py) against the plain
reading it replaces (every line split out and json.loads'd), the schema change that keys
import_entries by integers (m013), and `--dry-run` counting only what a real run would store.
"""

import json
import os
import random
import sqlite3

import pytest

from shim import paths
from shim.telemetry import imports, migrations, store
from shim.telemetry.harvest import claude as harvest_claude
from shim.telemetry.harvest import jsonl
from shim.telemetry.imports import claude as import_claude
from shim.telemetry.imports.timestamps import epoch
from tests.support.transcripts import claude_line, run_import as do_import
from tests.telemetry.test_import import NOW, count_rows, totals  # noqa: F401
from tests.telemetry.test_import import env  # noqa: F401  (fixture)


def _reference(data):
    """What the import must find in `data`: every line split out and read with json.loads,
    the rules of docs/telemetry.md "Import" (the reading before the fast one)."""
    best, prompt = {}, None
    for line in data.splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            obj = None
        if b'"assistant"' in line and b'"usage"' in line:
            if not isinstance(obj, dict) or obj.get("type") != "assistant" \
                    or obj.get("isApiErrorMessage"):
                continue
            message = obj.get("message")
            if not isinstance(message, dict) or not isinstance(message.get("usage"), dict) \
                    or message.get("model") == "<synthetic>":
                continue
            ts = epoch(obj.get("timestamp"))
            if ts is None:
                continue
            usage = message["usage"]
            counts = [harvest_claude.as_int(usage.get(k)) for k in (
                "input_tokens", "output_tokens", "cache_read_input_tokens",
                "cache_creation_input_tokens")]
            key = "%s:%s" % (message.get("id") or obj.get("uuid"), obj.get("requestId"))
            old = best.get(key)
            size = (counts[1], counts[0] + counts[2] + counts[3])
            if old is None or size > (old[8], old[7] + old[9] + old[10]):
                if old is not None:
                    ts = min(ts, old[1])
                best[key] = (key, ts, obj.get("sessionId"), message.get("model"), obj.get("cwd"),
                             obj.get("gitBranch") or None, prompt, *counts, None)
        elif b'"user"' in line and b'"tool_result"' not in line:
            chars = import_claude._prompt_chars(line)
            if chars is not None:
                prompt = chars
    return list(best.values()), prompt


def _stamp(n):
    return "2026-12-0%dT10:%02d:%02d.%03dZ" % (1 + n % 5, n % 60, (n * 7) % 60, n % 1000)


def _assistant(n, **extra):
    obj = {"type": "assistant", "sessionId": "s-%d" % (n % 3), "cwd": "/p", "gitBranch": "main",
           "timestamp": _stamp(n), "requestId": "req_%d" % (n // 2), "uuid": "u-%d" % n,
           "message": {"id": "msg_%d" % (n // 2), "model": "claude-sonnet-4-5",
                       "content": [{"type": "text", "text": "x" * (n % 50)}],
                       "usage": {"input_tokens": n, "output_tokens": n % 7,
                                 "cache_read_input_tokens": 3 * n,
                                 "cache_creation_input_tokens": n % 11}}}
    obj.update(extra)
    return obj


def _progress(n):
    """A subagent's progress entry: it nests a whole assistant message with usage, but the
    line itself is not an assistant line and must not count."""
    return {"type": "progress", "sessionId": "s-1", "timestamp": _stamp(n),
            "data": {"type": "agent_progress",
                     "message": {"type": "assistant", "timestamp": _stamp(n),
                                 "message": _assistant(n + 1000)["message"]}}}


def _prompt(n, text=None):
    return {"type": "user", "sessionId": "s-1", "timestamp": _stamp(n),
            "message": {"role": "user", "content": text if text is not None else "p" * n}}


def _tool_result(n):
    return {"type": "user", "sessionId": "s-1", "timestamp": _stamp(n),
            "message": {"role": "user", "content": [
                {"type": "tool_result", "content": "usage assistant \"usage\" " * n}]}}


def _line(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


ODD_LINES = [
    # "usage" only as text inside a user prompt: a prompt, not a candidate
    _line(_prompt(1, 'what is "usage" here')),
    # the usage key twice on one line (a content block quoting it before the real one)
    _line(_assistant(40, message=dict(_assistant(40)["message"], content=[
        {"type": "text", "text": '{"usage":{"output_tokens":999999}}'}]))),
    # an API error and a synthetic message: no real usage
    _line(_assistant(41, isApiErrorMessage=True)),
    _line(_assistant(42, message=dict(_assistant(42)["message"], model="<synthetic>"))),
    # usage not an object; message not an object; not an object at all
    _line(_assistant(43, message=dict(_assistant(43)["message"], usage="usage"))),
    _line(_assistant(44, message="assistant usage")),
    b'["assistant", "usage"]',
    # two objects run together (a writer killed mid-line, then appended to): not JSON
    _line(_assistant(45))[:-20] + _line(_assistant(46)),
    # a truncated line and garbage after a valid object
    _line(_assistant(47))[:-1],
    _line(_assistant(48)) + b' {"x":1}',
    # whitespace json.loads allows around the value
    b"  " + _line(_assistant(49)) + b" \t",
    # a meta user line, and a user line whose content has no text: not prompts
    _line(dict(_prompt(5), isMeta=True)),
    _line({"type": "user", "message": {"content": [{"type": "image"}]}}),
    # a timestamp in another shape (goes through the general parser)
    _line(_assistant(50, timestamp="2026-12-01T10:00:00+02:00")),
    _line(_assistant(51, timestamp="not a time")),
    # non-ASCII text and an escaped quote and backslash before the usage
    _line(_assistant(52, message=dict(_assistant(52)["message"], content=[
        {"type": "text", "text": 'é ü \u2028 \\" "assistant"'}]))),
    b"",
]


def _mixed_file(seed, lines=300):
    rng = random.Random(seed)
    out = []
    for n in range(lines):
        pick = rng.random()
        if pick < 0.45:
            out.append(_line(_assistant(n)))
        elif pick < 0.55:
            out.append(_line(_progress(n)))
        elif pick < 0.7:
            out.append(_line(_prompt(n)))
        elif pick < 0.78:
            out.append(_line(_tool_result(n)))
        elif pick < 0.82:  # a prompt that is exactly "usage": a prompt, not a candidate
            out.append(_line(_prompt(n, "usage")))
        elif pick < 0.86:  # a tool result beside a text block: never a prompt
            result = _tool_result(n)
            result["message"]["content"].append({"type": "text", "text": "t" * n})
            out.append(_line(result))
        else:
            out.append(rng.choice(ODD_LINES))
    return b"\n".join(out) + b"\n"


@pytest.mark.parametrize("seed", range(12))
def test_the_fast_claude_reading_equals_reading_every_line(seed):
    data = _mixed_file(seed)
    entries, state = import_claude.parse(data, {"prompt_chars": 17})
    assert entries and sorted(entries) == sorted(_with_carried(data, 17))
    assert state == {"prompt_chars": _with_carried_state(data, 17)}


def _with_carried(data, carried):
    """_reference, starting from a prompt length carried over from an earlier import."""
    entries, _ = _reference(_line(_prompt(carried)) + b"\n" + data)
    return entries


def _with_carried_state(data, carried):
    _, prompt = _reference(_line(_prompt(carried)) + b"\n" + data)
    return prompt


def test_a_nested_assistant_in_a_progress_line_does_not_count():
    data = _line(_progress(1)) + b"\n"
    assert b'"type":"assistant"' in data and b'"usage"' in data
    assert import_claude.parse(data, {}) == ([], {"prompt_chars": None})
    assert harvest_claude.assistant_usage(jsonl.decode(data.strip())) is None


def test_odd_lines_alone_and_with_carriage_returns():
    data = b"\n".join(ODD_LINES) + b"\n"
    assert sorted(import_claude.parse(data, {})[0]) == sorted(_reference(data)[0])
    # a CR splits a line for bytes.splitlines: such a file is read line by line, as ever
    crlf = data.replace(b"\n", b"\r\n") + _line(_assistant(60))[:30] + b"\r" + \
        _line(_assistant(61)) + b"\n"
    assert sorted(import_claude.parse(crlf, {})[0]) == sorted(_reference(crlf)[0])


def test_the_last_prompt_before_a_message_is_its_prompt_length():
    lines = [_prompt(1, "a" * 5), _prompt(2, "b" * 9), _tool_result(3), dict(_prompt(4),
             isMeta=True), _assistant(10), _tool_result(11), _assistant(12)]
    data = b"\n".join(_line(o) for o in lines) + b"\n"
    entries, state = import_claude.parse(data, {})
    assert [e[6] for e in entries] == [9, 9] and state == {"prompt_chars": 9}


@pytest.mark.parametrize("line", [
    b'{"a":1}', b'  {"a":1}', b'{"a":1}  \t', b'{"a":1} x', b'{"a":', b'[1,2]', b'"s"', b'3',
    b'NaN', b'{"a":"\xff"}', b'{"a":"\xed\xa0\x80"}', b'{"a":1}\r', b'', b'\xef\xbb\xbf{"a":1}',
    '{"a":"é"}'.encode("utf-16"), b'{"a":1}\x00'])
def test_jsonl_decode_is_json_loads(line):
    try:
        expected = json.loads(line)
    except ValueError:
        expected = None
    assert repr(jsonl.decode(line)) == repr(expected)  # repr: NaN is not equal to itself


def test_m013_converts_text_keyed_entries_and_nothing_counts_twice(env):  # noqa: F811
    env["transcript"].write_text(claude_line("m1", NOW - 60, out=10) +
                                 claude_line("m2", NOW - 50, out=20))
    path = paths.database_file()
    paths.ensure_dir(os.path.dirname(path))
    conn = sqlite3.connect(path, isolation_level=None)
    migrations.migrate(conn, target=12)  # the text-keyed schema, as m011 made it
    row_id = imports.row_name("claude", "s-1", NOW - 60, "claude-sonnet-4-5-20250929", "main",
                              "/p")
    conn.execute("INSERT INTO attempts (invocation_id, attempt, started_at, ended_at, tool, "
                 "model, output_tokens, source, session_id, entry_count, blocked) "
                 "VALUES (?, 0, ?, ?, 'claude', 'claude-sonnet-4-5-20250929', 10, 'import', "
                 "'s-1', 1, 0)", (row_id, NOW - 60, NOW - 60))
    conn.execute("INSERT INTO import_entries (tool, key, row_id, ts, session_id, input_tokens, "
                 "output_tokens, cache_read_tokens, cache_write_tokens) "
                 "VALUES ('claude', 'm1:req_m1', ?, ?, 's-1', 5, 10, 100, 20)", (row_id, NOW - 60))
    conn.close()
    conn = store.connect()  # migrates to the latest
    key = imports.entry_key("claude", "m1:req_m1")
    stored = imports.stored_entries(conn, [key])
    rows = conn.execute("SELECT id, invocation_id, session, first, last, keys "
                        "FROM import_rows").fetchall()
    conn.close()
    assert stored == {key: (key, migrations.hash64(row_id), NOW - 60, 5, 10, 100, 20, None,
                            None)}
    assert rows == [(migrations.hash64(row_id), row_id, migrations.hash64("s-1"), NOW - 60,
                     NOW - 60, imports._pack([key]))]
    summary = do_import()  # m1 is known: only m2 is new
    assert summary["new"] == 1
    assert sum(v[1] for v in totals().values()) == 30


def test_the_hash_is_the_one_m013_stored_under():
    import hashlib

    digest = hashlib.blake2b("codex\0t:1:2".encode(), digest_size=8).digest()
    assert imports.entry_key("codex", "t:1:2") == migrations.hash64("codex\0t:1:2") == \
        int.from_bytes(digest, "big", signed=True)


def test_dry_run_counts_only_what_a_real_run_would_store(env):  # noqa: F811
    env["transcript"].write_text(claude_line("m1", NOW - 60, out=10))
    do_import()
    # rewritten (other bytes before the offset read): read again from the start
    env["transcript"].write_text(claude_line("m2", NOW - 30, out=4) +
                                 claude_line("m1", NOW - 60, out=10))
    dry = do_import(dry_run=True)
    assert dry["read"] == 1 and dry["entries"] == 2
    assert dry["new"] == 1 and dry["tokens"]["claude"][1] == 4
    real = do_import()
    assert (real["new"], real["tokens"], real["cost_usd"]) == \
        (dry["new"], dry["tokens"], dry["cost_usd"])


@pytest.mark.parametrize("seed", range(6))
def test_lines_with_is_every_line_that_has_a_tag(seed):
    from shim.telemetry.harvest.codex import ROLLOUT_TAGS
    from shim.telemetry.imports.logfile import lines_with

    rng = random.Random(seed)
    pieces = [b"token_count", b"session_meta", b"turn_context", b"token_", b"x" * 5, b"",
              b'{"type":"event_msg"}', b"token_count turn_context", b"\r", b" "]
    lines = [b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 4)))
             for _ in range(200)]
    data = b"\n".join(lines) + b"\n"
    expected = [line for line in data.splitlines() if any(t in line for t in ROLLOUT_TAGS)]
    assert lines_with(data, ROLLOUT_TAGS) == expected
    without_cr = data.replace(b"\r", b"")
    assert lines_with(without_cr, ROLLOUT_TAGS) == \
        [line for line in without_cr.splitlines() if any(t in line for t in ROLLOUT_TAGS)]


def test_the_inline_price_is_the_pricers_to_the_bit():
    """_Parsed prices a model without long-context tiers inline; every model of the table
    (flat, tiered, and one unknown), below and above its tiers, with a count missing, costs
    what _Pricer.cost says, the same float."""
    from shim.telemetry import imports, models, prices

    table = prices.load_table(models.load_config())
    pricer = imports._Pricer(table)
    chosen = list(table["rows"]) + ["no-such-model"]
    assert any(pricer.flat_rates(m) for m in chosen) and any(
        pricer._spec(m) and pricer._spec(m)[1] for m in chosen)  # both kinds are tried
    counts = [(1234, 567, 89012, 3456), (300001, 7, 900000, 1), (0, 0, 0, 0), (5, None, 7, 8)]
    found = [("k%d:%d" % (n, i), NOW - 60, "s", model, "/p", None, None, *tokens, None)
             for n, model in enumerate(chosen) for i, tokens in enumerate(counts)]
    parsed = imports._Parsed("claude", found, pricer)
    assert len(parsed.entries) == len(found)
    for item, entry in zip(found, parsed.entries):
        assert repr(entry[8]) == repr(pricer.cost(item[3], list(item[7:11])))
