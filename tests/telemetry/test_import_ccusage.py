"""`llm-shim import` + `report` against `ccusage daily --offline --json` (ccusage pinned in
install/versions.env, installed by install/realclis.sh): per day and model, the input, output,
cache-read and cache-write token totals are equal to the token. Where they differ on purpose,
a test below names the difference and why. Skips with a reason when ccusage could not be
installed (a registry unreachable); fails when the install says it worked but ccusage is
missing or at another version (tests/support/ccusage.py).
"""

import json
import os
import time

import pytest

from shim.cli import main
from tests.support import ccusage, gen_transcripts


# Read at import, before the tests isolate HOME and PATH.
FOUND = ccusage.locate()
CCUSAGE = FOUND["path"]


@pytest.fixture
def pinned_ccusage():
    """The pinned ccusage, or skip (registry unreachable, nothing installed) or fail (the
    install says npm=ok, or another version) as tests/support/ccusage.py decides."""
    if CCUSAGE is None:
        if FOUND["skip"]:
            pytest.skip(FOUND["reason"])
        pytest.fail(FOUND["reason"])
    return CCUSAGE


needs_ccusage = pytest.mark.usefixtures("pinned_ccusage")


def ccusage_daily(tmp_path):
    return ccusage.daily_cells(CCUSAGE, tmp_path / "ccusage-home",
                               os.environ["CLAUDE_CONFIG_DIR"], os.environ["CODEX_HOME"])


def shim_daily(capsys):
    assert main.main(["report", "--json", "--by", "model", "--tz", "UTC",
                      "--since", "2000-01-01"]) == 0
    cells = {}
    for row in json.loads(capsys.readouterr().out)["rows"]:
        cells[(row["period"], row["model"])] = [row["input_tokens"], row["output_tokens"],
                                                row["cache_read_tokens"],
                                                row["cache_write_tokens"]]
    return cells


def use(out):
    os.environ["CLAUDE_CONFIG_DIR"] = str(out / "claude")
    os.environ["CODEX_HOME"] = str(out / "codex")


@needs_ccusage
def test_generated_set_equals_ccusage_per_day_and_model(tmp_path, capsys):
    out = tmp_path / "gen"
    gen_transcripts.generate(str(out), sessions=24, messages=3000, days=10, codex_share=0.3,
                             seed=11, now=time.time() - 86400)
    use(out)
    theirs = ccusage_daily(tmp_path)
    assert theirs, "ccusage read nothing: its input format changed?"
    assert main.main(["import"]) == 0
    capsys.readouterr()
    assert shim_daily(capsys) == theirs


def _claude(msg_id, request_id, ts, out, session="0b7e1a52-5c7e-4f3e-9a43-1d2f3c4b5a69"):
    return json.dumps({
        "type": "assistant", "sessionId": session, "cwd": "/p", "version": "2.1.197",
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(ts)),
        "requestId": request_id, "uuid": "1b7e1a52-5c7e-4f3e-9a43-%012d" % out,
        "message": {"id": msg_id, "type": "message", "role": "assistant",
                    "model": "claude-sonnet-4-5-20250929", "content": [],
                    "usage": {"input_tokens": 3, "output_tokens": out,
                              "cache_read_input_tokens": 0,
                              "cache_creation_input_tokens": 0}}},
        separators=(",", ":")) + "\n"


def compare(tmp_path, capsys):
    """(llm-shim's cells, ccusage's cells) for the logs under tmp_path/claude and /codex."""
    (tmp_path / "claude" / "projects").mkdir(parents=True, exist_ok=True)
    (tmp_path / "codex").mkdir(exist_ok=True)
    use(tmp_path)
    theirs = ccusage_daily(tmp_path)
    assert main.main(["import"]) == 0
    capsys.readouterr()
    return shim_daily(capsys), theirs


def _transcript(tmp_path, *lines):
    project = tmp_path / "claude" / "projects" / "-p"
    project.mkdir(parents=True)
    (project / "0b7e1a52-5c7e-4f3e-9a43-1d2f3c4b5a69.jsonl").write_text("".join(lines))


@needs_ccusage
def test_streamed_message_counts_its_largest_snapshot_in_both(tmp_path, capsys):
    """Claude Code writes one line per content block of a streamed message, each with the
    usage of that moment; both count one (message id, request id) once, the largest."""
    ts = time.time() - 3600
    _transcript(tmp_path, _claude("msg_1", "req_1", ts, 1), _claude("msg_1", "req_1", ts + 1, 250),
                _claude("msg_1", "req_1", ts + 2, 250))
    ours, theirs = compare(tmp_path, capsys)
    assert ours == theirs and list(ours.values()) == [[3, 250, 0, 0]]


def _rollout(tmp_path, events, model="gpt-5-codex"):
    ts = time.time() - 3600
    day = time.gmtime(ts)
    sessions = tmp_path / "codex" / "sessions" / time.strftime("%Y/%m/%d", day)
    sessions.mkdir(parents=True)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", day)
    thread = "0199a213-81c0-7800-8aa1-bbab2a035a53"
    lines = [{"timestamp": stamp, "type": "session_meta",
              "payload": {"id": thread, "cwd": "/p", "timestamp": stamp}},
             {"timestamp": stamp, "type": "turn_context", "payload": {"model": model,
                                                                      "cwd": "/p"}}]
    for info in events:
        lines.append({"timestamp": stamp, "type": "event_msg",
                      "payload": {"type": "token_count", "info": info}})
    (sessions / f"rollout-{time.strftime('%Y-%m-%dT%H-%M-%S', day)}-{thread}.jsonl").write_text(
        "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines))


def _usage(inp, cached, written, out):
    return {"input_tokens": inp, "cached_input_tokens": cached,
            "cache_write_input_tokens": written, "output_tokens": out,
            "reasoning_output_tokens": 0, "total_tokens": inp + out}


@needs_ccusage
def test_codex_cache_writes_are_split_out_of_input_in_both(tmp_path, capsys):
    """codex >= 0.145 reports `cache_write_input_tokens` inside `input_tokens`: fresh input
    is input - cached - written (usage.codex_part), in both."""
    usage = _usage(1000, 200, 300, 50)
    _rollout(tmp_path, [{"total_token_usage": usage, "last_token_usage": usage}])
    ours, theirs = compare(tmp_path, capsys)
    assert list(ours.values()) == [[500, 50, 200, 300]]
    assert ours == theirs


@needs_ccusage
def test_codex_repeated_and_null_token_counts_count_once_in_both(tmp_path, capsys):
    """codex repeats a token count with the same total (and writes `info: null` after a
    stream failure): neither adds anything for those."""
    first, second = _usage(1000, 200, 0, 50), _usage(1500, 400, 0, 80)
    step = _usage(500, 200, 0, 30)
    _rollout(tmp_path, [{"total_token_usage": first, "last_token_usage": first},
                        {"total_token_usage": first, "last_token_usage": first},
                        None,
                        {"total_token_usage": second, "last_token_usage": step}])
    ours, theirs = compare(tmp_path, capsys)
    assert list(ours.values()) == [[1100, 80, 400, 0]]
    assert ours == theirs


@needs_ccusage
def test_difference_codex_total_moving_more_than_the_last_request(tmp_path, capsys):
    """DIFFERENCE, on purpose: when a token count's cumulative `total_token_usage` moved by
    more than its `last_token_usage` (requests between two counts that have no count of their
    own, e.g. a compaction or a retried request), ccusage adds `last_token_usage` and loses
    the rest; llm-shim adds the change of the total, which is what the thread spent (as the
    call-time harvest does, harvest/codex.py)."""
    first, second = _usage(1000, 200, 0, 50), _usage(1500, 400, 0, 80)
    _rollout(tmp_path, [{"total_token_usage": first, "last_token_usage": first},
                        {"total_token_usage": second, "last_token_usage": _usage(100, 0, 0, 5)}])
    ours, theirs = compare(tmp_path, capsys)
    (key,) = ours
    assert ours[key] == [800 + 300, 80, 400, 0]             # first + (second - first)
    assert theirs[key] == [800 + 100, 50 + 5, 200 + 0, 0]   # first + second's last request


@needs_ccusage
def test_difference_claude_cache_writes_total_not_the_breakdown(tmp_path, capsys):
    """DIFFERENCE, on purpose: a Claude usage has `cache_creation_input_tokens` (the cache
    writes the API bills) and a `cache_creation` breakdown by lifetime (5 min / 1 h). When the
    two disagree (a proxy or stub that does not split them; the real acceptance run shows it),
    ccusage counts the breakdown's sum and llm-shim the total."""
    line = json.loads(_claude("msg_1", "req_1", time.time() - 3600, 40))
    line["message"]["usage"].update(cache_creation_input_tokens=20, cache_creation={
        "ephemeral_1h_input_tokens": 4, "ephemeral_5m_input_tokens": 3})
    _transcript(tmp_path, json.dumps(line, separators=(",", ":")) + "\n")
    ours, theirs = compare(tmp_path, capsys)
    (key,) = ours
    assert ours[key] == [3, 40, 0, 20] and theirs[key] == [3, 40, 0, 4 + 3]
