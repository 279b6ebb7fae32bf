"""Harvested usage equals what fixture logs (shaped like REAL_CLIS.md sections 4-6) contain."""

import json
import os
import sqlite3
from datetime import datetime, timezone

import pytest

from shim.telemetry import harvest
from shim.telemetry.harvest import claude, codex, llm
from tests.telemetry.conftest import (CWD, OTHER_SID, SID, T0, T1, assistant, iso,
                                      write_jsonl)


def test_project_dir_name_replaces_every_non_alphanumeric():
    assert claude.project_dir_name("/tmp/exp/work") == "-tmp-exp-work"
    assert claude.project_dir_name("/home/a.b/my_proj-1") == "-home-a-b-my-proj-1"


def test_claude_harvest_by_cwd(claude_dir):
    got = harvest.collect({"tool": "claude", "claude_config_dir": claude_dir, "cwd": CWD,
                           "session_id": None}, T0, T1)
    assert got["input_tokens"] == 11 + 20 + 100
    assert got["output_tokens"] == 7 + 40 + 9            # largest snapshot of msg_A, once
    assert got["cache_read_tokens"] == 3 + 16
    assert got["cache_write_tokens"] == 5
    assert got["reasoning_tokens"] is None
    assert got["model"] == "claude-opus-4-8"
    assert got["session_id"] == SID
    assert sorted((p["model"], p["output_tokens"]) for p in got["parts"]) == [
        ("claude-haiku-4-5-20251001", 9), ("claude-opus-4-8", 7), ("claude-opus-4-8", 40)]


def test_claude_harvest_by_session_id_ignores_the_cwd(claude_dir):
    got = claude.harvest(claude_dir, "/somewhere/else", T0, T1, session_id=OTHER_SID)
    assert got["output_tokens"] == 555 and got["session_id"] == OTHER_SID


def test_claude_harvest_outside_the_window_is_none(claude_dir):
    assert claude.harvest(claude_dir, CWD, T1 + 3600, T1 + 3700) is None
    assert claude.harvest(claude_dir, "/no/such/project", T0, T1) is None


def test_claude_harvest_skips_a_call_that_ended_just_before_this_one(tmp_path):
    """Agent pipelines call `claude -p` back to back in one cwd: the previous session's
    answer, written half a second before this call started, is not this call's usage."""
    project = tmp_path / "cfg" / "projects" / "-tmp-exp-work"
    write_jsonl(str(project / "prev.jsonl"),
                [assistant(T0 - 0.5, "msg_prev", "req_prev", 70, inp=110, sid="prev")],
                mtime=T0 - 0.4)
    write_jsonl(str(project / f"{SID}.jsonl"),
                [assistant(T0 + 0.2, "msg_now", "req_now", 7, inp=11)], mtime=T0 + 0.3)
    got = claude.harvest(str(tmp_path / "cfg"), CWD, T0, T0 + 1)
    assert (got["input_tokens"], got["output_tokens"], got["session_id"]) == (11, 7, SID)


def rollout_line(t, kind, payload):
    return {"timestamp": iso(t), "type": kind, "payload": payload}


def token_count(t, total, last):
    def usage(inp, cached, out, reasoning):
        return {"input_tokens": inp, "cached_input_tokens": cached, "cache_write_input_tokens": 0,
                "output_tokens": out, "reasoning_output_tokens": reasoning,
                "total_tokens": inp + out}
    return rollout_line(t, "event_msg", {"type": "token_count", "info": {
        "total_token_usage": usage(*total), "last_token_usage": usage(*last),
        "last_usage_includes_reasoning": False, "model_context_window": 258400},
        "rate_limits": {"limit_id": "codex", "primary": None}})


TID = "01a200bb-a1dc-7542-b3ec-ff613198595d"


@pytest.fixture
def codex_home(tmp_path):
    home = tmp_path / "codex-home"
    day = home / "sessions" / "2026" / "11" / "22"
    write_jsonl(str(day / f"rollout-2026-11-22T09-00-00-{TID}.jsonl"), [
        rollout_line(T0 - 3600, "session_meta", {"id": TID, "cwd": CWD, "cli_version": "0.169.0",
                                                 "originator": "codex_exec", "source": "exec"}),
        rollout_line(T0 - 3600, "turn_context", {"model": "gpt-5.5", "approval_policy": "never"}),
        token_count(T0 - 3590, (100, 40, 10, 2), (100, 40, 10, 2)),   # the earlier turn
        rollout_line(T0 + 1, "turn_context", {"model": "gpt-5-mini"}),
        token_count(T0 + 5, (160, 60, 25, 5), (60, 20, 15, 3)),
        token_count(T0 + 5, (160, 60, 25, 5), (60, 20, 15, 3)),        # repeated event
        rollout_line(T0 + 6, "event_msg", {"type": "token_count", "info": None}),
        token_count(T0 + 9, (300, 100, 40, 9), (140, 40, 15, 4)),
        rollout_line(T0 + 9, "event_msg", {"type": "task_complete",
                                           "last_agent_message": "Hello from stub."}),
        token_count(T1 + 600, (900, 100, 90, 9), (600, 0, 50, 0)),     # a later resume
    ], mtime=T1 + 600)
    # same window, another project
    write_jsonl(str(day / "rollout-2026-11-22T10-00-01-other.jsonl"), [
        rollout_line(T0, "session_meta", {"id": "other", "cwd": "/tmp/elsewhere"}),
        token_count(T0 + 5, (1000, 0, 100, 0), (1000, 0, 100, 0)),
    ], mtime=T0 + 5)
    # a date directory far from the window is never listed, whatever its contents
    write_jsonl(str(home / "sessions" / "2026" / "10" / "01" / "rollout-x.jsonl"), [
        rollout_line(T0, "session_meta", {"id": "x", "cwd": CWD}),
        token_count(T0 + 5, (7777, 0, 7777, 0), (7777, 0, 7777, 0)),
    ], mtime=T0 + 5)
    return str(home)


def test_codex_harvest_takes_the_delta_of_cumulative_totals(codex_home):
    got = harvest.collect({"tool": "codex", "codex_home": codex_home, "cwd": CWD,
                           "session_id": None}, T0, T1)
    assert got["input_tokens"] == 200 - 60        # input includes cached: fresh = 140
    assert got["cache_read_tokens"] == 60
    assert got["output_tokens"] == 30
    assert got["reasoning_tokens"] == 7
    assert got["model"] == "gpt-5-mini"           # turn_context of this window
    assert got["session_id"] == TID
    assert [(p["input_tokens"], p["cache_read_tokens"]) for p in got["parts"]] == \
        [(40, 20), (100, 40)]                      # one part per request, for tiers


def test_codex_harvest_by_thread_id(codex_home):
    got = codex.harvest(codex_home, "/not/the/cwd", T0, T1, session_id=TID)
    assert got["output_tokens"] == 30


def test_codex_date_dirs_cover_the_window_only(codex_home):
    dirs = codex.date_dirs(os.path.join(codex_home, "sessions"), T0, T1)
    assert any(d.endswith(os.path.join("2026", "11", "22")) for d in dirs)
    assert not any(d.endswith(os.path.join("2026", "10", "01")) for d in dirs)
    assert len(dirs) <= 6


def make_llm_db(path, table="turns"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE responses (id TEXT PRIMARY KEY, model TEXT, prompt TEXT, "
                 "response TEXT, input_tokens INTEGER, output_tokens INTEGER, "
                 "token_details TEXT, datetime_utc TEXT, conversation_id TEXT)")
    if table == "turns":
        conn.execute("CREATE TABLE turns (id TEXT PRIMARY KEY, thread_id TEXT, model TEXT, "
                     "resolved_model TEXT, options_json TEXT, input_tokens INTEGER, "
                     "output_tokens INTEGER, token_details TEXT, duration_ms INTEGER, "
                     "datetime_utc TEXT, response_json TEXT)")
    return conn


def test_llm_harvest_reads_turns_in_the_window(tmp_path):
    user = tmp_path / "llm-user"
    conn = make_llm_db(str(user / "logs.db"))
    details = json.dumps({"completion_tokens_details": {"reasoning_tokens": 2},
                          "prompt_tokens_details": {"cached_tokens": 4}})
    rows = [
        ("t1", "th1", "gpt-4o-mini", "gpt-4o-mini-2024-07-18", 11, 7, details,
         datetime.fromtimestamp(T0 + 5, timezone.utc).isoformat()),
        ("t2", "th1", "4o-mini", None, 20, 3, None,
         datetime.fromtimestamp(T0 + 6, timezone.utc).replace(tzinfo=None).isoformat()),
        ("t0", "th0", "gpt-4o", None, 999, 999, None,
         datetime.fromtimestamp(T0 - 600, timezone.utc).isoformat()),     # before the window
        ("t3", "th1", "gpt-4o-mini", None, None, None, None,
         datetime.fromtimestamp(T0 + 7, timezone.utc).isoformat()),       # silent failure
    ]
    conn.executemany("INSERT INTO turns (id, thread_id, model, resolved_model, input_tokens, "
                     "output_tokens, token_details, datetime_utc) VALUES (?,?,?,?,?,?,?,?)", rows)
    conn.commit()
    conn.close()
    got = harvest.collect({"tool": "llm", "llm_user_path": str(user)}, T0, T1)
    assert got["input_tokens"] == (11 - 4) + 20
    assert got["cache_read_tokens"] == 4
    assert got["output_tokens"] == 10
    assert got["reasoning_tokens"] == 2
    assert got["model"] == "gpt-4o-mini-2024-07-18"
    assert got["session_id"] == "th1"


def test_llm_harvest_legacy_responses_table(tmp_path):
    user = tmp_path / "llm-old"
    conn = make_llm_db(str(user / "logs.db"), table=None)
    conn.execute("INSERT INTO responses (id, model, input_tokens, output_tokens, token_details, "
                 "datetime_utc, conversation_id) VALUES (?,?,?,?,?,?,?)",
                 ("r1", "claude-3.5-haiku", 30, 5,
                  json.dumps({"cache_read_input_tokens": 10, "cache_creation_input_tokens": 2}),
                  datetime.fromtimestamp(T0 + 1, timezone.utc).isoformat(), "c1"))
    conn.commit()
    conn.close()
    got = llm.harvest(str(user), T0, T1)
    assert (got["input_tokens"], got["cache_read_tokens"], got["cache_write_tokens"]) == (30, 10, 2)
    assert got["output_tokens"] == 5 and got["model"] == "claude-3.5-haiku"


def test_llm_harvest_without_a_database(tmp_path):
    assert llm.harvest(str(tmp_path / "nothing"), T0, T1) is None


def test_collect_never_raises(tmp_path):
    user = tmp_path / "broken"
    user.mkdir()
    (user / "logs.db").write_bytes(b"this is not sqlite" * 100)
    assert harvest.collect({"tool": "llm", "llm_user_path": str(user)}, T0, T1) is None
    assert harvest.collect({"tool": "unknown"}, T0, T1) is None
    assert harvest.collect(None, T0, T1) is None


def test_read_lines_is_bounded(tmp_path):
    path = tmp_path / "big.jsonl"
    path.write_bytes(b"a" * 100 + b"\n" + b"b" * 10 + b"\n" + b"c" * 10 + b"\n")
    assert harvest.read_lines(str(path), limit=25) == [b"b" * 10, b"c" * 10]


def _two_sessions_in_one_cwd(tmp_path):
    """Calls A (started T0) and B (started T0 + 0.1) ran at once in one directory; A's session
    answered at T0 + 0.4 (11/7 tokens), B's at T0 + 0.5 (20/9)."""
    project = tmp_path / "cfg" / "projects" / "-tmp-exp-work"
    write_jsonl(str(project / "sa.jsonl"),
                [assistant(T0 + 0.4, "msg_a", "req_a", 7, inp=11, sid="sa")], mtime=T0 + 0.6)
    write_jsonl(str(project / "sb.jsonl"),
                [assistant(T0 + 0.5, "msg_b", "req_b", 9, inp=20, sid="sb")], mtime=T0 + 0.7)
    return str(tmp_path / "cfg")


@pytest.mark.parametrize("order", ["a-first", "b-first"])
def test_two_calls_at_once_in_one_cwd_never_count_a_session_twice(tmp_path, order):
    cfg_dir = _two_sessions_in_one_cwd(tmp_path)
    claims = harvest.Claims()
    windows = {"a": (T0, T0 + 0.8), "b": (T0 + 0.1, T0 + 0.9)}
    got = {}
    for name in (["a", "b"] if order == "a-first" else ["b", "a"]):
        claims.owner = (name, 1)
        hint = {"tool": "claude", "claude_config_dir": cfg_dir, "cwd": CWD,
                "session_id": None, "oneshot": True}
        got[name] = harvest.collect(hint, *windows[name], claims=claims)
    assert sorted(g["session_id"] for g in got.values()) == ["sa", "sb"]
    assert sum(g["input_tokens"] for g in got.values()) == 11 + 20
    assert sum(g["output_tokens"] for g in got.values()) == 7 + 9
    if order == "a-first":  # ingested in start order, each gets its own
        assert (got["a"]["session_id"], got["b"]["session_id"]) == ("sa", "sb")


def test_an_interactive_window_keeps_every_unclaimed_session(tmp_path):
    """An interactive claude can start a new session inside one process (/clear)."""
    cfg_dir = _two_sessions_in_one_cwd(tmp_path)
    got = claude.harvest(cfg_dir, CWD, T0, T0 + 1, oneshot=False, claims=harvest.Claims())
    assert (got["input_tokens"], got["output_tokens"]) == (31, 16)


def test_two_llm_calls_at_once_each_take_their_own_conversation(tmp_path):
    """llm's log has no cwd: two one-shot calls at once see both rows in their windows."""
    user = tmp_path / "llm-user"
    conn = make_llm_db(str(user / "logs.db"))
    stamp = lambda t: datetime.fromtimestamp(t, timezone.utc).isoformat()  # noqa: E731
    conn.executemany("INSERT INTO turns (id, thread_id, model, input_tokens, output_tokens, "
                     "datetime_utc) VALUES (?,?,?,?,?,?)",
                     [("ra", "tha", "gpt-4o-mini", 11, 7, stamp(T0 + 0.4)),
                      ("rb", "thb", "gpt-4o-mini", 20, 9, stamp(T0 + 0.5))])
    conn.commit()
    conn.close()
    claims = harvest.Claims()
    hint = {"tool": "llm", "llm_user_path": str(user), "oneshot": True}
    got = []
    for owner, window in (("a", (T0, T0 + 0.8)), ("b", (T0 + 0.1, T0 + 0.9))):
        claims.owner = (owner, 1)
        got.append(harvest.collect(hint, *window, claims=claims))
    assert [g["session_id"] for g in got] == ["tha", "thb"]
    assert [g["input_tokens"] for g in got] == [11, 20]
