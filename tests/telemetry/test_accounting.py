"""Exact accounting (issue 17): codex cache writes, resumed and compressed codex rollouts,
CLAUDE_CODE_PROJECT_DIR_NAME, messages copied between claude sessions."""

import os
import sqlite3

import pytest

from shim.telemetry import harvest, prices, usage
from shim.telemetry.harvest import claude, codex, zst
from tests.telemetry.conftest import (CWD, SID, T0, T1, assistant, data_path, iso,
                                      write_jsonl)
from tests.telemetry.test_harvest import rollout_line

WEEK = 7 * 86400.0
TID = "0199aaaa-1111-7222-8333-444455556666"


def run_tap(data):
    tap = usage.tap_for("codex", "jsonl")
    tap.feed(memoryview(data))
    return tap.result()


# --- codex: cache writes are a subset of input_tokens -----------------------------------------

def test_codex_json_cache_writes_are_not_fresh_input():
    with open(data_path("codex-cache-write.jsonl"), "rb") as fh:
        res = run_tap(fh.read())
    # REAL_CLIS.md: input 100 = 30 fresh + 40 cache read + 30 cache write
    assert (res["input_tokens"], res["cache_read_tokens"], res["cache_write_tokens"]) == \
        (30, 40, 30)
    assert (res["output_tokens"], res["reasoning_tokens"]) == (10, 2)


def test_codex_json_without_the_cache_write_field_still_parses():
    old = b'{"type":"turn.completed","usage":{"input_tokens":100,"cached_input_tokens":40,' \
          b'"output_tokens":10,"reasoning_output_tokens":2}}\n'
    res = run_tap(old)
    assert (res["input_tokens"], res["cache_read_tokens"], res["cache_write_tokens"]) == \
        (60, 40, 0)


def codex_usage(inp, cached, written, out):
    return {"input_tokens": inp, "cached_input_tokens": cached,
            "cache_write_input_tokens": written, "output_tokens": out,
            "reasoning_output_tokens": 0, "total_tokens": inp + out}


def token_count(t, total, last):
    return rollout_line(t, "event_msg", {"type": "token_count", "info": {
        "total_token_usage": codex_usage(*total), "last_token_usage": codex_usage(*last)}})


def rollout(t_begin, thread=TID, cwd=CWD, model="gpt-6.1-sol"):
    return [rollout_line(t_begin, "session_meta", {"id": thread, "cwd": cwd}),
            rollout_line(t_begin, "turn_context", {"model": model}),
            token_count(t_begin + 5, (1000, 0, 0, 100), (1000, 0, 0, 100))]


def rollout_path(home, t_begin, thread=TID, suffix=".jsonl"):
    day = iso(t_begin)[:10].split("-")
    return os.path.join(home, "sessions", *day,
                        f"rollout-{iso(t_begin)[:19].replace(':', '-')}-{thread}{suffix}")


def test_codex_rollout_cache_writes_are_not_fresh_input(tmp_path):
    home = str(tmp_path / "codex")
    write_jsonl(rollout_path(home, T0), rollout(T0 - 60) + [
        token_count(T0 + 5, (1100, 40, 30, 110), (100, 40, 30, 10))], mtime=T0 + 5)
    got = codex.harvest(home, CWD, T0, T1)
    assert (got["input_tokens"], got["cache_read_tokens"], got["cache_write_tokens"]) == \
        (30, 40, 30)


def test_an_older_rollout_without_the_cache_write_field_still_parses(tmp_path):
    home = str(tmp_path / "codex")

    def old_count(t, total, last):  # codex < 0.145: no cache_write_input_tokens at all
        line = token_count(t, total, last)
        for usage in line["payload"]["info"].values():
            usage.pop("cache_write_input_tokens")
        return line

    write_jsonl(rollout_path(home, T0), [
        rollout_line(T0 - 60, "session_meta", {"id": TID, "cwd": CWD}),
        old_count(T0 + 5, (100, 40, 0, 10), (100, 40, 0, 10))], mtime=T0 + 5)
    got = codex.harvest(home, CWD, T0, T1)
    assert (got["input_tokens"], got["cache_read_tokens"], got["cache_write_tokens"],
            got["output_tokens"]) == (60, 40, 0, 10)


def test_codex_cache_writes_are_priced_at_the_cache_write_rate_else_the_input_rate(cfg):
    table = prices.load_table(cfg)
    split = {"input_tokens": 30, "cache_read_tokens": 40, "cache_write_tokens": 30,
             "output_tokens": 10}
    # gpt-6.1-sol has a cache-write price in LiteLLM's file: $2 in, $0.10 read, $2.50 write
    sol = prices.price_record({"model": "gpt-6.1-sol", **split}, None, table)
    assert sol["cost_usd"] == pytest.approx((30 * 2 + 40 * 0.1 + 30 * 2.5 + 10 * 10) / 1e6)
    # gpt-5-mini has none: a cache write costs what fresh input does ($0.25), never 0
    mini = prices.price_record({"model": "gpt-5-mini", **split}, None, table)
    assert mini["cost_usd"] == pytest.approx((30 * 0.25 + 40 * 0.025 + 30 * 0.25 + 10 * 2) / 1e6)


# --- codex: resumed threads and compressed rollouts -------------------------------------------

def make_state_db(home, rows):
    conn = sqlite3.connect(os.path.join(home, "state_5.sqlite"))
    conn.execute("CREATE TABLE threads (id TEXT PRIMARY KEY, rollout_path TEXT NOT NULL, "
                 "created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, cwd TEXT NOT NULL, "
                 "archived INTEGER NOT NULL DEFAULT 0)")
    conn.executemany("INSERT INTO threads VALUES (?, ?, ?, ?, ?, 0)", rows)
    conn.commit()
    conn.close()


@pytest.fixture
def resumed_week_old(tmp_path):
    """A thread begun a week before T0, resumed at T0: the rollout stays under its first day."""
    home = str(tmp_path / "codex")
    path = rollout_path(home, T0 - WEEK)
    write_jsonl(path, rollout(T0 - WEEK) + [
        rollout_line(T0 + 1, "turn_context", {"model": "gpt-5-mini"}),
        token_count(T0 + 5, (1500, 200, 100, 150), (500, 200, 100, 50))], mtime=T0 + 5)
    return home, path


def test_a_resumed_week_old_thread_is_harvested_through_codex_state_db(resumed_week_old):
    home, path = resumed_week_old
    make_state_db(home, [(TID, path, int(T0 - WEEK), int(T0 + 5), CWD),
                         ("old", "/gone/rollout-old.jsonl", 1, 2, CWD)])
    got = harvest.collect({"tool": "codex", "codex_home": home, "cwd": CWD,
                           "session_id": None}, T0, T1)
    assert (got["input_tokens"], got["cache_read_tokens"], got["cache_write_tokens"],
            got["output_tokens"]) == (200, 200, 100, 50)
    assert got["model"] == "gpt-5-mini" and got["session_id"] == TID


def test_codex_state_db_in_milliseconds_too(resumed_week_old):
    home, path = resumed_week_old
    make_state_db(home, [(TID, path, int((T0 - WEEK) * 1000), int((T0 + 5) * 1000), CWD)])
    assert codex.threads_updated_since(home, T0) == [path]
    assert codex.threads_updated_since(home, T0 + 60) == []
    assert codex.find_thread(home, TID) == [path]  # the database's path, no directory scan


def test_a_resumed_week_old_thread_is_found_by_its_id(resumed_week_old):
    home, _ = resumed_week_old  # no state database: the id suffix finds the file
    got = codex.harvest(home, "/elsewhere", T0, T1, session_id=TID)
    assert got["output_tokens"] == 50


def test_an_archived_thread_is_found_by_its_id(tmp_path):
    home = str(tmp_path / "codex")
    name = os.path.basename(rollout_path(home, T0 - WEEK))
    path = os.path.join(home, "archived_sessions", name)
    write_jsonl(path, rollout(T0 - WEEK) + [
        token_count(T0 + 5, (1010, 0, 0, 101), (10, 0, 0, 1))], mtime=T0 + 5)
    assert codex.find_thread(home, TID) == [path]
    assert codex.harvest(home, CWD, T0, T1, session_id=TID)["output_tokens"] == 1


def compress(path):
    import zstandard

    with open(path, "rb") as src, open(path + ".zst", "wb") as dst:
        dst.write(zstandard.ZstdCompressor().compress(src.read()))
    stat = os.stat(path)
    os.utime(path + ".zst", (stat.st_atime, stat.st_mtime))
    os.unlink(path)
    return path + ".zst"


def test_a_stale_state_db_path_falls_back_to_the_id_scan(resumed_week_old):
    home, path = resumed_week_old
    archived = os.path.join(home, "archived_sessions", os.path.basename(path))
    os.makedirs(os.path.dirname(archived))
    os.rename(path, archived)
    make_state_db(home, [(TID, path, int(T0 - WEEK), int(T0 + 5), CWD)])  # the old place
    assert codex.find_thread(home, TID) == [archived]
    assert codex.find_thread(home, "no-such-thread") == []


def test_a_zst_rollout_is_read(resumed_week_old):
    pytest.importorskip("zstandard")
    home, path = resumed_week_old
    packed = compress(path)
    assert codex.find_thread(home, TID) == [packed]
    got = codex.harvest(home, CWD, T0, T1, session_id=TID)
    assert (got["input_tokens"], got["output_tokens"]) == (200, 50)


def test_a_zst_rollout_is_bounded_like_a_plain_one(tmp_path):
    pytest.importorskip("zstandard")
    path = str(tmp_path / "big.jsonl")
    with open(path, "wb") as fh:
        for i in range(1000):
            fh.write(b'{"n": %d}\n' % i)
    packed = compress(path)
    lines = harvest.read_lines(packed, limit=100)
    assert lines[-1] == b'{"n": 999}' and len(lines) < 12
    assert all(line.startswith(b'{"n": ') for line in lines)  # no partial first line


def test_without_a_zstd_binding_a_zst_rollout_is_skipped(tmp_path, monkeypatch):
    def missing(path):
        raise ImportError("no zstd")

    monkeypatch.setattr(zst, "open_stream", missing)
    path = tmp_path / "rollout-x.jsonl.zst"
    path.write_bytes(b"\x28\xb5\x2f\xfd")
    assert harvest.read_lines(str(path)) == []


# --- claude -------------------------------------------------------------------------------------

def test_claude_project_dir_name_moves_the_transcripts(tmp_path, make_record):
    cfg_dir = tmp_path / "claude-cfg"
    write_jsonl(str(cfg_dir / "projects" / "shared-name" / f"{SID}.jsonl"),
                [assistant(T0 + 2, "msg_A", "req_A", 7, inp=11)], mtime=T0 + 3)
    rec = make_record(outcome={"usage": None},
                      environ={"HOME": str(tmp_path), "CLAUDE_CONFIG_DIR": str(cfg_dir),
                               "CLAUDE_CODE_PROJECT_DIR_NAME": "shared-name"})
    hint = dict(rec["harvest"], cwd=CWD)
    assert hint["claude_project_dir_name"] == "shared-name"
    got = harvest.collect(hint, T0, T1)
    assert (got["input_tokens"], got["output_tokens"]) == (11, 7)
    # without the variable the cwd's own folder is read, and it is empty
    assert harvest.collect(dict(hint, claude_project_dir_name=None), T0, T1) is None


def test_claude_project_dir_name_munged_like_a_cwd_is_found_too(tmp_path):
    path = tmp_path / "projects" / "my-team-repo" / f"{SID}.jsonl"
    write_jsonl(str(path), [assistant(T0 + 2, "m", "r", 3)], mtime=T0 + 3)
    assert claude.transcript_candidates(str(tmp_path), CWD, None, "my.team repo") == [str(path)]


def test_claude_project_dir_name_is_a_name_not_a_path(tmp_path):
    assert claude.transcript_candidates(str(tmp_path), CWD, None, "../../etc") == []
    write_jsonl(str(tmp_path / "projects" / "-tmp-exp-work" / "s.jsonl"), [], mtime=T0)
    assert claude.transcript_candidates(str(tmp_path), CWD, None, "../x") == \
        [str(tmp_path / "projects" / "-tmp-exp-work" / "s.jsonl")]


def test_a_message_copied_into_a_resumed_session_counts_once(tmp_path):
    cfg_dir = tmp_path / "claude-cfg"
    project = cfg_dir / "projects" / "-tmp-exp-work"
    first = assistant(T0 + 2, "msg_A", "req_A", 7, inp=11)
    write_jsonl(str(project / f"{SID}.jsonl"), [first], mtime=T0 + 3)
    fork = "aaaaaaaa-5d6f-4e3a-9b8c-7d6e5f4a3b2c"
    write_jsonl(str(project / f"{fork}.jsonl"), [
        dict(first, sessionId=fork),                            # copied by --resume/--fork
        assistant(T0 + 9, "msg_B", "req_B", 5, inp=3, sid=fork)], mtime=T0 + 10)
    got = claude.harvest(str(cfg_dir), CWD, T0, T1)
    assert (got["input_tokens"], got["output_tokens"]) == (11 + 3, 7 + 5)


# --- doctor says when no zstd decompressor is there ---------------------------------------------

def test_doctor_warns_when_no_zstd_binding_and_codex_is_configured(monkeypatch):
    from shim.doctor import checks

    monkeypatch.setattr(zst, "binding", lambda: None)
    got = checks.check_zstd({"tools": {"claude": {}, "codex": {}}})
    assert got["status"] == "warn" and "zstandard" in got["detail"]
    assert "llm-shim[zstd]" in got["hint"]
    assert checks.check_zstd({"tools": {"claude": {}}})["ok"]


def test_doctor_names_the_zstd_binding_in_use():
    from shim.doctor import checks

    got = checks.check_zstd({"tools": {"codex": {}}})
    assert got["ok"] == (zst.binding() is not None)
    if got["ok"]:
        assert zst.binding() in got["detail"]
