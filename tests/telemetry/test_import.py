"""`llm-shim import`: incremental, idempotent, interrupted, rewritten files, .zst, several
Claude config dirs, counted once with the shim's own harvest, and budgets that see it."""

import copy
import json
import os
import subprocess
import sys
import time

import pytest

from shim.telemetry import imports, ingest, store
from tests.support import gen_transcripts
from tests.support.transcripts import claude_line, iso as _iso, run_import as do_import

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOW = time.time()


@pytest.fixture
def env(tmp_path, monkeypatch):
    claude = tmp_path / "claude"
    codex = tmp_path / "codex"
    (claude / "projects" / "-p").mkdir(parents=True)
    codex.mkdir()
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))
    monkeypatch.setenv("CODEX_HOME", str(codex))
    return {"claude": claude, "codex": codex, "tmp": tmp_path,
            "transcript": claude / "projects" / "-p" / "s-1.jsonl"}


def totals():
    """{(tool, UTC day, model): [input, output, cache read, cache write]} of the store."""
    conn = store.connect()
    try:
        rows = conn.execute(
            "SELECT tool, date(started_at, 'unixepoch'), model, SUM(input_tokens), "
            "SUM(output_tokens), SUM(cache_read_tokens), SUM(cache_write_tokens) FROM attempts "
            "GROUP BY 1, 2, 3").fetchall()
    finally:
        conn.close()
    return {(t, d, m): list(v) for t, d, m, *v in rows}


def count_rows():
    """Imported entries (each message, token count or llm row once)."""
    conn = store.connect()
    try:
        return conn.execute("SELECT count(*) FROM import_entries").fetchone()[0]
    finally:
        conn.close()


def count_import_rows():
    conn = store.connect()
    try:
        return conn.execute("SELECT count(*), SUM(entry_count) FROM attempts "
                            "WHERE source = 'import'").fetchone()
    finally:
        conn.close()


def generate(env, **kw):
    out = env["tmp"] / "gen"
    written = gen_transcripts.generate(str(out), **kw)
    os.environ["CLAUDE_CONFIG_DIR"] = str(out / "claude")
    os.environ["CODEX_HOME"] = str(out / "codex")
    return out, written


def test_import_equals_what_was_written_and_a_second_run_reads_nothing(env):
    _, written = generate(env, sessions=20, messages=600, days=5, codex_share=0.4, seed=3)
    first = do_import()
    assert first["new"] == first["entries"] > 0
    assert totals() == written
    rows = count_rows()
    import_rows, entries = count_import_rows()
    assert entries == rows == first["entries"] and import_rows < rows / 2  # summed per 15 min
    again = do_import()
    assert again["changed"] == 0 and again["read"] == 0 and again["new"] == 0
    assert count_rows() == rows
    # forgetting the offsets reads every file again, and still nothing doubles
    conn = store.connect()
    conn.execute("DELETE FROM import_files")
    conn.close()
    do_import()
    assert count_rows() == rows and totals() == written


def test_imported_rows_are_marked_priced_and_carry_project_branch_and_session(env):
    env["transcript"].write_text(claude_line("m1", NOW - 60, cwd="/work/app", branch="feat/x"))
    do_import()
    conn = store.connect()
    row = conn.execute("SELECT source, usage_source, project, git_branch, session_id, cost_usd, "
                       "baseline_cost_usd, attempt FROM attempts").fetchone()
    provider = conn.execute("SELECT provider FROM attempts").fetchone()[0]
    conn.close()
    assert provider == "anthropic"  # a dated model id the config does not list: the tool's
    assert row[:5] == ("import", "import", "/work/app", "feat/x", "s-1")
    assert row[5] > 0 and row[6] is None and row[7] == 0  # priced; no savings claimed


def test_killed_half_way_resumes_with_no_duplicates(env):
    _, written = generate(env, sessions=10, messages=500, days=4, codex_share=0.3, seed=5)
    environ = dict(os.environ, LLM_SHIM_IMPORT_CRASH_AFTER="3", PYTHONPATH=REPO)
    proc = subprocess.run([sys.executable, "-m", "shim", "import"], env=environ,
                          capture_output=True, text=True)
    if proc.returncode != 9:  # `python -m shim` may be the shim entry: use the CLI module
        proc = subprocess.run([sys.executable, "-c",
                               "import sys; from shim.cli import main; sys.exit(main.main())",
                               "import"], env=environ, capture_output=True, text=True)
    assert proc.returncode == 9, proc.stderr
    assert 0 < count_rows() and totals() != written  # really interrupted half way
    do_import()
    assert totals() == written


def test_appended_partial_line_and_growing_message(env):
    path = env["transcript"]
    whole = claude_line("m2", NOW - 50, out=30)
    path.write_text(claude_line("m1", NOW - 60) + whole[:40])  # m2 still being written
    do_import()
    assert count_rows() == 1
    with open(path, "a") as fh:
        fh.write(whole[40:])
        fh.write(claude_line("m2", NOW - 49, out=90))  # the same message, later block: larger
    do_import()
    assert count_rows() == 2
    assert sum(v[1] for v in totals().values()) == 10 + 90


def test_truncated_and_rewritten_files_are_read_again(env):
    path = env["transcript"]
    path.write_text(claude_line("m1", NOW - 60) + claude_line("m2", NOW - 50))
    do_import()
    # rewritten in place, same inode: m1 kept, m2 replaced by m3 (a longer line)
    with open(path, "r+") as fh:
        fh.seek(0)
        fh.write(claude_line("m1", NOW - 60) + claude_line("m3", NOW - 40, out=12345))
        fh.truncate()
    do_import()
    outs = sorted(v[1] for v in totals().values())
    assert sum(outs) == 10 + 10 + 12345  # m1 once, m2 (it happened), m3
    # truncated to a shorter new content: read from the start, not from the old offset
    path.write_text(claude_line("m4", NOW - 30, out=7))
    do_import()
    assert sum(v[1] for v in totals().values()) == 10 + 10 + 12345 + 7


def test_zst_rollouts_are_read(env):
    zstandard = pytest.importorskip("zstandard")
    out, written = generate(env, sessions=4, messages=80, days=2, codex_share=1.0, seed=7)
    for directory, _, files in os.walk(out / "codex"):
        for name in files:
            path = os.path.join(directory, name)
            with open(path, "rb") as fh:
                data = fh.read()
            with open(path + ".zst", "wb") as fh:
                fh.write(zstandard.ZstdCompressor().compress(data))
            os.unlink(path)
    summary = do_import()
    assert summary["unreadable"] == [] and totals() == written


def test_comma_separated_claude_config_dirs(env, tmp_path, monkeypatch):
    other = tmp_path / "claude-work"
    (other / "projects" / "-q").mkdir(parents=True)
    (other / "projects" / "-q" / "s-2.jsonl").write_text(claude_line("w1", NOW - 10, out=3,
                                                                     session="s-2"))
    env["transcript"].write_text(claude_line("h1", NOW - 20, out=4))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", f"{env['claude']}, {other}")
    do_import()
    assert sum(v[1] for v in totals().values()) == 7


def test_subagent_transcripts_are_read(env):
    sub = env["claude"] / "projects" / "-p" / "s-1" / "subagents"
    sub.mkdir(parents=True)
    (sub / "agent-1.jsonl").write_text(claude_line("a1", NOW - 5, out=11))
    do_import()
    assert sum(v[1] for v in totals().values()) == 11


def test_a_message_the_shim_harvested_is_not_imported_again(env):
    env["transcript"].write_text(claude_line("m1", NOW - 60) + claude_line("m2", NOW - 50))
    conn = store.connect()
    store.insert_claims(conn, {("claude", "m1:req_m1"): ("abc", 1)}, time.time())
    conn.close()
    summary = do_import()
    assert summary["counted_by_shim"] == 1 and count_rows() == 1


def test_a_shim_call_ingested_after_the_import_takes_its_messages_over(env, make_record, cfg):
    start = NOW - 100
    env["transcript"].write_text(claude_line("m1", start + 1, out=40) +
                                 claude_line("m2", start + 500, out=5))
    do_import()
    assert count_rows() == 2
    rec = make_record(decision={"mode": "interactive"},
                      outcome={"started_at": start, "ended_at": start + 10})
    rec["harvest"]["cwd"] = "/p"
    rec["harvest"]["claude_config_dir"] = str(env["claude"])
    spool_rec(rec)
    ingest.ingest(cfg=cfg)
    conn = store.connect()
    rows = conn.execute("SELECT source, output_tokens FROM attempts ORDER BY started_at").fetchall()
    conn.close()
    assert rows == [(None, 40), ("import", 5)]  # m1 counted once: by the shim call


def spool_rec(rec):
    from shim.telemetry import spool

    spool.append(rec)


def test_dry_run_writes_nothing(env):
    env["transcript"].write_text(claude_line("m1", NOW - 60))
    summary = do_import(dry_run=True)
    assert summary["entries"] == 1 and summary["tokens"]["claude"][1] == 10
    assert count_rows() == 0 and do_import()["new"] == 1


def test_since_skips_older_entries(env):
    env["transcript"].write_text(claude_line("old", NOW - 10 * 86400) + claude_line("new", NOW))
    summary = do_import(since=NOW - 86400)
    assert summary["before_since"] == 1 and count_rows() == 1


def test_cli_import_and_report_source_filter(env, capsys):
    from shim.cli import main

    env["transcript"].write_text(claude_line("m1", NOW - 60, out=77))
    assert main.main(["import"]) == 0
    out = capsys.readouterr().out
    assert "imported claude" in out and "77 output" in out
    assert main.main(["report", "--json", "--source", "import", "--since", "2d"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["totals"]["output_tokens"] == 77
    assert main.main(["report", "--json", "--source", "shim", "--since", "2d"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["totals"]["output_tokens"] == 0


def test_cli_import_reset_reads_every_file_again_and_doubles_nothing(env, capsys):
    """`import --reset` forgets the files read (imports.forget_files), not the rows."""
    from shim.cli import main

    env["transcript"].write_text(claude_line("m1", NOW - 60, out=77))
    assert main.main(["import", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["read"] == 1
    assert main.main(["import", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["read"] == 0
    assert main.main(["import", "--reset", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["read"] == 1
    assert count_rows() == 1 and count_import_rows()[1] == 1


def test_report_imports_first_when_a_log_changed(env, capsys):
    from shim.cli import main

    env["transcript"].write_text(claude_line("m1", NOW - 60, out=21))
    assert main.main(["report", "--json", "--since", "2d"]) == 0
    assert json.loads(capsys.readouterr().out)["totals"]["output_tokens"] == 21
    with open(env["transcript"], "a") as fh:
        fh.write(claude_line("m2", NOW - 30, out=4))
    assert main.main(["report", "--json", "--since", "2d"]) == 0
    assert json.loads(capsys.readouterr().out)["totals"]["output_tokens"] == 25


def test_budget_admission_counts_imported_ide_spend(env, monkeypatch):
    from shim import adapters
    from shim.policy import engine
    from shim.routing import decide

    cfg = copy.deepcopy(ingest.embedded_config())
    cfg["policies"]["budgets"] = {"b": {"scope": "global", "period": "day",
                                        "limit": {"usd": 1.0, "type": "hard"}}}
    # an IDE session today, outside the shim: ~$1.5 of opus output
    env["transcript"].write_text(claude_line("ide", time.time() - 5, out=100000, read=0,
                                             write=0, model="claude-opus-4-1-20250805"))
    request = adapters.parse("claude", ["-p", "hi"], cfg)
    gate = engine.admit(decide(request, cfg, "default"), request, cfg, {})
    assert gate["blocked"] and gate["error"].exit_code == 75
    # and without the imported spend the same call is admitted
    conn = store.connect()
    conn.execute("DELETE FROM attempts WHERE source = 'import'")
    conn.close()
    os.environ["LLM_SHIM_IMPORT"] = "off"
    try:
        gate = engine.admit(decide(request, cfg, "default"), request, cfg, {})
    finally:
        del os.environ["LLM_SHIM_IMPORT"]
    assert not gate["blocked"]


def test_report_by_branch_and_session(env, capsys):
    from shim.cli import main

    env["transcript"].write_text(claude_line("m1", NOW - 60, out=5, branch="main") +
                                 claude_line("m2", NOW - 50, out=6, branch="feat/y"))
    other = env["claude"] / "projects" / "-p" / "s-9.jsonl"
    other.write_text(claude_line("m3", NOW - 40, out=7, session="s-9", branch="main"))
    assert main.main(["report", "--json", "--since", "2d", "--by", "branch"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    by_branch = {}
    for row in rows:
        by_branch[row["branch"]] = by_branch.get(row["branch"], 0) + row["output_tokens"]
    assert by_branch == {"main": 12, "feat/y": 6}
    assert main.main(["report", "--json", "--since", "2d", "--by", "session,source"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    by_session = {}
    for row in rows:
        assert row["source"] == "import"
        by_session[row["session"]] = by_session.get(row["session"], 0) + row["output_tokens"]
    assert by_session == {"s-1": 11, "s-9": 7}


@pytest.mark.parametrize("text", [
    "2026-12-06T10:00:00.123Z", "2026-12-06T10:00:59Z", "2026-12-06T10:00:00.5Z",
    "2026-12-06 10:00:00", "2026-12-06T10:00:00+02:00", "2026-02-30T10:00:00.000Z",
    "2026-12-06T10:00:61.000Z", "2026-12-06T10:00:00.1x3Z", "2024-02-29T23:59:59.999Z", "x",
    None, 1796551200, "2026-12-06T10:00:00.\u00b2Z", "2026-12-06T10:00:\u00b2\u00b3.000Z"])
def test_fast_timestamps_agree_with_the_harvest_parser(text):
    from shim.telemetry.harvest import parse_time
    from shim.telemetry.imports.timestamps import epoch

    assert epoch(text) == parse_time(text)


def test_cached_timestamps_agree_with_the_harvest_parser():
    """The second reading of an hour comes from the cache (hour, ":MM:SS", fraction): the same
    float as the first reading and as harvest.parse_time, for every minute and second."""
    from shim.telemetry.harvest import parse_time
    from shim.telemetry.imports import timestamps

    texts = ["2026-11-30T23:%02d:%02d%s" % (m, s, f) for m in range(60) for s in (0, 7, 59)
             for f in (".000Z", ".123Z", ".999Z", ".5Z", "Z")]
    first = [timestamps.epoch(t) for t in texts]
    assert "2026-11-30T23" in timestamps._hours
    assert [timestamps.epoch(t) for t in texts] == first == [parse_time(t) for t in texts]


def test_report_by_session_lists_first_prompt_duration_models_and_cost(env, capsys):
    from shim.cli import main

    prompt = json.dumps({"type": "user", "sessionId": "s-1", "cwd": "/p",
                         "timestamp": _iso(NOW - 120),
                         "message": {"role": "user", "content": "x" * 42}}) + "\n"
    env["transcript"].write_text(
        prompt + claude_line("m1", NOW - 100, out=1000)
        + claude_line("m2", NOW - 40, out=500, model="claude-haiku-4-5-20251001"))
    assert main.main(["report", "--json", "--since", "2d", "--by", "session"]) == 0
    doc = json.loads(capsys.readouterr().out)
    import jsonschema

    with open(os.path.join(REPO, "docs", "report-schema.json"), encoding="utf-8") as fh:
        jsonschema.validate(doc, json.load(fh))
    (item,) = doc["sessions"]
    assert item["session"] == "s-1" and item["first_prompt_chars"] == 42
    assert item["duration_s"] == pytest.approx(60, abs=0.01)
    assert set(item["models"]) == {"claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001"}
    assert item["cost_usd"] == pytest.approx(sum(item["models"].values()))
    assert item["output_tokens"] == 1500
    assert main.main(["report", "--since", "2d", "--by", "session"]) == 0
    out = capsys.readouterr().out
    assert "sessions" in out and "42 chars" in out and "1m00s" in out


def test_logs_json_with_import_rows_matches_the_documented_schema(env, capsys):
    import jsonschema

    from shim.cli import main
    from tests.support.records import logs_schema

    env["transcript"].write_text(claude_line("m1", NOW - 60))
    assert main.main(["logs", "--json"]) == 0  # imports first
    rows = json.loads(capsys.readouterr().out)
    assert [r["source"] for r in rows] == ["import"] and rows[0]["entry_count"] == 1
    jsonschema.validate(rows, logs_schema())


def test_budget_admission_imports_a_bounded_slice_and_says_so(env, monkeypatch, capsys):
    cfg = copy.deepcopy(ingest.embedded_config())
    lines = "".join(claude_line(f"m{i}", NOW - 100 + i, out=1) for i in range(40))
    env["transcript"].write_text(lines)
    monkeypatch.setattr(imports, "ADMISSION_BYTES", len(lines) // 4)
    conn = store.connect()
    try:
        summary = imports.refresh(conn, cfg, bounded=True, what="budget")
    finally:
        conn.close()
    assert 0 < count_rows() < 40 and summary["remaining"] == 1
    assert "changed log files not imported yet" in capsys.readouterr().err
    for _ in range(8):  # later calls take the next slices
        conn = store.connect()
        imports.refresh(conn, cfg, bounded=True)
        conn.close()
    assert count_rows() == 40


def test_messages_inside_a_shim_calls_session_window_are_not_imported(env):
    """A `claude -p --output-format json` call through the shim got its usage from the stream
    (no harvest claim); its transcript is skipped inside the call's window, not after."""
    start = NOW - 300
    conn = store.connect()
    store.insert_attempts(conn, [{"invocation_id": "a" * 32, "attempt": 1, "started_at": start,
                                  "ended_at": start + 20, "tool": "claude", "session_id": "s-1",
                                  "output_tokens": 40}])
    conn.close()
    env["transcript"].write_text(claude_line("m1", start + 10, out=40)
                                 + claude_line("m2", start + 100, out=3))
    summary = do_import()
    assert summary["counted_by_shim"] == 1 and count_rows() == 1
    assert sum(v[1] for v in totals().values()) == 43


def test_llm_logs_db_turns_and_responses_incrementally(env, tmp_path, monkeypatch):
    from datetime import datetime, timezone

    from tests.telemetry.test_harvest import make_llm_db

    user = tmp_path / "llm-user"
    monkeypatch.setenv("LLM_USER_PATH", str(user))
    conn = make_llm_db(str(user / "logs.db"))
    details = json.dumps({"prompt_tokens_details": {"cached_tokens": 4}})
    when = datetime.fromtimestamp(NOW - 60, timezone.utc).isoformat()
    conn.execute("INSERT INTO turns (id, thread_id, model, input_tokens, output_tokens, "
                 "token_details, datetime_utc) VALUES ('t1', 'th1', 'gpt-4o-mini', 11, 7, ?, ?)",
                 (details, when))
    conn.execute("INSERT INTO turns (id, thread_id, model, input_tokens, output_tokens, "
                 "datetime_utc) VALUES ('t2', 'th1', 'gpt-4o-mini', NULL, NULL, ?)", (when,))
    conn.execute("INSERT INTO responses (id, model, input_tokens, output_tokens, datetime_utc, "
                 "conversation_id) VALUES ('r1', 'gpt-4o', 100, 50, ?, 'c1')", (when,))
    conn.commit()
    first = do_import()
    assert first["tokens"]["llm"] == [(11 - 4) + 100, 7 + 50, 4, 0]  # t2: no usage, no row
    conn.execute("INSERT INTO turns (id, thread_id, model, input_tokens, output_tokens, "
                 "datetime_utc) VALUES ('t3', 'th1', 'gpt-4o-mini', 5, 5, ?)", (when,))
    conn.commit()
    conn.close()
    second = do_import()
    assert second["tokens"]["llm"] == [5, 5, 0, 0] and second["new"] == 1
    assert do_import()["changed"] == 0
    assert count_rows() == 3


def test_repair_keeps_what_was_imported_so_nothing_counts_twice(env):
    from shim import paths

    env["transcript"].write_text(claude_line("m1", NOW - 60, out=9))
    do_import()
    before = totals()
    result = store.repair(force=True)
    assert result["imports"] == "copied"
    assert do_import()["new"] == 0 and totals() == before
    # a damaged copy of the import tables: the import rows go, the next import rebuilds them
    conn = store.connect()
    assert store._drop_imports(conn) == "rebuilt"
    conn.close()
    do_import()
    assert totals() == before
    assert os.path.exists(paths.database_file())


def test_import_since_an_unreadable_date_is_a_usage_error(env, capsys):
    from shim.cli import main

    assert main.main(["import", "--since", "someday"]) == 2
    assert "llm-shim: import: cannot read the date 'someday'" in capsys.readouterr().err
