"""Ingestion end to end: costs, harvest, privacy on disk, and failing databases losing nothing."""

import os
import sqlite3

import pytest

from shim import paths
from shim.telemetry import ingest, spool, store
from tests.telemetry.conftest import claude_usage
from tests.telemetry.conftest import CWD, SID, T0, T1, assistant, write_jsonl


def spooled(make_record, n, **kw):
    records = [make_record(**kw) for _ in range(n)]
    for rec in records:
        assert spool.append(rec)
    return records


def count(table="attempts"):
    conn = store.connect()
    try:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


def newest_row():
    conn = store.connect()
    try:
        return store.recent(conn, 1)[0]
    finally:
        conn.close()


def claimed_files():
    return sorted(n for n in os.listdir(paths.spool_dir()) if n.startswith("claimed-"))


def test_ingest_prices_and_stores_every_record(make_record, cfg):
    spooled(make_record, 3, outcome={"usage": claude_usage()})
    assert ingest.ingest(cfg=cfg) == 3
    assert ingest.ingest(cfg=cfg) == 0
    row = newest_row()
    assert row["cost_source"] == "reported" and row["cost_usd"] == pytest.approx(0.00026275)
    assert row["computed_cost_usd"] == pytest.approx(0.00026275)
    assert (row["provider"], row["tier"]) == ("anthropic", "premium")  # from the model run
    assert row["baseline_cost_usd"] == pytest.approx(0.00026275)
    assert row["price_version"].startswith("config+snapshot-")
    assert os.listdir(paths.spool_dir()) == []


def test_reingesting_a_file_never_duplicates(make_record, cfg):
    recs = spooled(make_record, 2)
    assert ingest.ingest(cfg=cfg) == 2
    for rec in recs:  # e.g. a crash between COMMIT and unlink left the file behind
        assert spool.append(rec)
    assert ingest.ingest(cfg=cfg) == 0
    assert count() == 2


def test_off_mode_lands_in_counters_and_the_spend_view(make_record, cfg):
    cfg["policies"]["privacy"] = "off"
    spooled(make_record, 2, outcome={"usage": claude_usage()})
    cfg["policies"]["privacy"] = "metadata"
    spooled(make_record, 1, outcome={"usage": claude_usage()})
    assert ingest.ingest(cfg=cfg) == 3
    assert count("attempts") == 1 and count("counters") == 2
    conn = store.connect()
    try:
        total = conn.execute("SELECT count(*), sum(cost_usd) FROM spend").fetchone()
    finally:
        conn.close()
    assert total[0] == 3 and total[1] == pytest.approx(3 * 0.00026275)


def test_text_mode_usage_is_harvested_at_ingestion(make_record, cfg, claude_dir):
    rec = make_record(outcome={"usage": None, "started_at": T0, "ended_at": T1},
                      environ={"HOME": "/h", "CLAUDE_CONFIG_DIR": claude_dir})
    rec["harvest"]["cwd"] = CWD
    assert spool.append(rec)
    assert ingest.ingest(cfg=cfg) == 1
    row = newest_row()
    assert row["usage_source"] == "harvest"
    assert (row["input_tokens"], row["output_tokens"]) == (131, 56)
    assert row["session_id"] == SID and row["model"] == "claude-opus-4-8"
    assert row["cost_source"] == "computed"
    # per-request parts: opus for msg_A and msg_B, haiku for the subagent
    expected = (11 * 5 + 7 * 25 + 3 * 0.5 + 5 * 6.25 + 20 * 5 + 40 * 25 + 16 * 0.5
                + 100 * 1 + 9 * 5) / 1e6
    assert row["cost_usd"] == pytest.approx(expected)


def test_the_model_the_log_names_wins_over_the_one_asked_for(make_record, cfg, claude_dir):
    """`claude --model claude-sonnet-5 -p ...` in text mode, answered by opus (the log says so):
    the row names opus, with opus's provider and tier, not the model asked for."""
    rec = make_record(decision={"model": "claude-sonnet-5", "provider": "anthropic",
                                "tier": "standard"},
                      outcome={"usage": None, "started_at": T0, "ended_at": T1},
                      environ={"HOME": "/h", "CLAUDE_CONFIG_DIR": claude_dir})
    rec["harvest"]["cwd"] = CWD
    assert spool.append(rec)
    assert ingest.ingest(cfg=cfg) == 1
    row = newest_row()
    assert (row["model"], row["tier"]) == ("claude-opus-4-8", "premium")
    assert row["usage_source"] == "harvest"


def test_overlapping_calls_ingested_apart_never_count_a_session_twice(make_record, cfg, tmp_path):
    """Two text-mode calls at once in one directory, ingested by two separate `logs` runs:
    the database remembers which transcript entries the first counted."""
    project = tmp_path / "cfg" / "projects" / "-tmp-exp-work"
    write_jsonl(str(project / "sa.jsonl"),
                [assistant(T0 + 0.4, "msg_a", "req_a", 7, inp=11, sid="sa")], mtime=T0 + 0.6)
    write_jsonl(str(project / "sb.jsonl"),
                [assistant(T0 + 0.5, "msg_b", "req_b", 9, inp=20, sid="sb")], mtime=T0 + 0.7)
    env = {"HOME": "/h", "CLAUDE_CONFIG_DIR": str(tmp_path / "cfg")}
    for start, end in ((T0, T0 + 0.8), (T0 + 0.1, T0 + 0.9)):
        rec = make_record(outcome={"usage": None, "started_at": start, "ended_at": end},
                          environ=env)
        rec["harvest"]["cwd"] = CWD
        assert spool.append(rec)
        assert ingest.ingest(cfg=cfg) == 1
    conn = store.connect()
    try:
        rows = store.recent(conn, 2)
        claims = conn.execute("SELECT count(*) FROM harvest_claims").fetchone()[0]
    finally:
        conn.close()
    assert sorted(r["session_id"] for r in rows) == ["sa", "sb"]
    assert sum(r["input_tokens"] for r in rows) == 31
    assert claims == 2


def test_secrets_in_text_are_scrubbed(make_record, cfg):
    cfg["policies"]["privacy"] = "full"
    spooled(make_record, 1, decision={"reasons": ["key sk-ant-api03-abcdefghijklmnop used"]},
            outcome={"prompt_text": "my key is sk-proj-ABCDEFGHIJKLMNOPQRSTUV ok"})
    ingest.ingest(cfg=cfg)
    row = newest_row()
    assert "sk-proj-ABCD" not in row["prompt_text"] and "[REDACTED]" in row["prompt_text"]
    assert "sk-ant-api03" not in row["reasons"][0]


def _grep_home(marker):
    hits = []
    for root, _dirs, files in os.walk(os.environ["LLM_SHIM_HOME"]):
        for name in files:
            with open(os.path.join(root, name), "rb") as fh:
                if marker in fh.read():
                    hits.append(name)
    return hits


@pytest.mark.parametrize("mode", ["metadata", "full"])
def test_prompt_bytes_on_disk_only_in_full_mode(make_record, cfg, mode):
    cfg["policies"]["privacy"] = mode
    prompt = "MARKER-7f3e9a1c prompt text"
    answer = "MARKER-ANSWER-51d2 response text"
    spooled(make_record, 3, outcome={"prompt_text": prompt, "response_text": answer,
                                     "usage": claude_usage()})
    before = _grep_home(b"MARKER-")                       # spool only, so far
    conn = store.connect()
    try:
        assert ingest.ingest(conn, cfg=cfg) == 3
        conn.execute("SELECT * FROM attempts").fetchall()
        during = _grep_home(b"MARKER-")                   # database + WAL, connection open
        wal = os.path.exists(paths.database_file() + "-wal")
    finally:
        conn.close()
    after = _grep_home(b"MARKER-")
    assert wal
    if mode == "metadata":
        assert before == during == after == []
    else:  # the control: the same grep does find the text when it is meant to be kept
        assert before == ["spool.log"]
        assert "telemetry.db-wal" in during or "telemetry.db" in during


def test_locked_database_keeps_the_spool_and_the_next_run_imports_it(make_record, cfg, capsys):
    store.connect().close()
    spooled(make_record, 4)
    blocker = sqlite3.connect(paths.database_file(), isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        assert ingest.ingest(cfg=cfg, timeout=0.2) == 0
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "locked" in err and "spool" in err
    assert len(claimed_files()) == 1
    spooled(make_record, 1)
    assert ingest.ingest(cfg=cfg) == 5
    assert claimed_files() == [] and count() == 5


def test_read_only_database_keeps_the_spool(make_record, cfg, capsys):
    store.connect().close()
    spooled(make_record, 2)
    ro = sqlite3.connect(f"file:{paths.database_file()}?mode=ro", uri=True, isolation_level=None)
    try:
        assert ingest.ingest(ro, cfg=cfg) == 0
    finally:
        ro.close()
    assert "readonly" in capsys.readouterr().err.replace("read-only", "readonly")
    assert len(claimed_files()) == 1
    assert ingest.ingest(cfg=cfg) == 2


def _corrupt_index_page(path):
    """Overwrite the root page of the report index: the table stays readable, the file is not."""
    conn = sqlite3.connect(path)
    try:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'attempts_report'"
                            ).fetchone()[0]
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    with open(path, "r+b") as fh:
        fh.seek((root - 1) * page_size)
        fh.write(b"\xde\xad\xbe\xef" * (page_size // 4))


def test_corrupt_database_then_spool_then_repair_loses_nothing(make_record, cfg, capsys):
    first = spooled(make_record, 40)
    assert ingest.ingest(cfg=cfg) == 40
    _corrupt_index_page(paths.database_file())
    later = spooled(make_record, 7)
    assert ingest.ingest(cfg=cfg) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "llm-shim logs repair" in err
    assert len(claimed_files()) == 1

    result = store.repair()
    assert result["status"] == "repaired" and result["salvaged"]["attempts"] == 40
    assert os.path.exists(result["quarantined"])
    assert ingest.ingest(cfg=cfg) == 7
    conn = store.connect()
    try:
        ids = {r[0] for r in conn.execute("SELECT invocation_id FROM attempts")}
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    assert ids == {r["invocation_id"] for r in first + later}
    assert claimed_files() == []


def test_unreadable_database_file_is_quarantined_and_the_spool_survives(make_record, cfg,
                                                                       capsys):
    paths.ensure_dir(paths.data_dir())
    with open(paths.database_file(), "wb") as fh:
        fh.write(b"this is not a database" * 200)
    recs = spooled(make_record, 3)
    assert ingest.ingest(cfg=cfg) == 0
    assert "repair" in capsys.readouterr().err
    result = store.repair()
    assert result["status"] == "repaired" and result["salvaged"] == {"attempts": 0,
                                                                     "counters": 0}
    with open(result["quarantined"], "rb") as fh:
        assert fh.read().startswith(b"this is not a database")  # kept for the user
    assert ingest.ingest(cfg=cfg) == 3
    conn = store.connect()
    try:
        assert {r[0] for r in conn.execute("SELECT invocation_id FROM attempts")} == \
            {r["invocation_id"] for r in recs}
    finally:
        conn.close()


def test_repair_of_a_healthy_database_does_nothing():
    store.connect().close()
    assert store.repair()["status"] == "ok"
    assert [n for n in os.listdir(paths.data_dir()) if ".corrupt-" in n] == []
