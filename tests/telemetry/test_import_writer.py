"""The import's writer with its packed storage (m016: `import_entries` maps each entry to its
import row, the row's `entries` hold the values): one message in several files of one run
counts once with its largest usage, whichever batch and process path each file takes; what is
stored is what a later import and ingestion read back; and m016 converts m015's entries."""

import sqlite3
import struct
import time

import pytest

from shim import paths
from shim.telemetry import imports, migrations, store
from tests.support.transcripts import claude_line, run_import

NOW = time.time()
MODEL = "claude-sonnet-4-5-20250929"


@pytest.fixture
def claude(tmp_path, monkeypatch):
    root = tmp_path / "claude"
    (root / "projects" / "-p").mkdir(parents=True)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(root))
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex"))
    return root / "projects" / "-p"


def _rows():
    conn = store.connect()
    try:
        return conn.execute(
            "SELECT SUM(input_tokens), SUM(output_tokens), SUM(cache_read_tokens), "
            "SUM(cache_write_tokens), SUM(entry_count), COUNT(*) FROM attempts "
            "WHERE source = 'import'").fetchone()
    finally:
        conn.close()


def _stored(*msg_ids):
    conn = store.connect()
    try:
        keys = [imports.entry_key("claude", f"{m}:req_{m}") for m in msg_ids]
        found = imports.stored_entries(conn, keys)
        return [found.get(k) and found[k][3:8] for k in keys]
    finally:
        conn.close()


@pytest.mark.parametrize("files", [3, 20])          # in this process / in worker processes
@pytest.mark.parametrize("batch", [1, 50000])       # a commit after every file / one commit
def test_a_message_in_several_files_counts_once_with_its_largest_usage(
        claude, monkeypatch, files, batch):
    monkeypatch.setattr(imports, "BATCH_ENTRIES", batch)
    # the same message m0 in every file, its usage growing file by file (a resumed session
    # copies earlier messages into its new transcript); each file has messages of its own
    for n in range(files):
        lines = claude_line("m0", NOW - 3000, out=10 + n, inp=5, read=100 + n, write=20)
        lines += "".join(claude_line(f"f{n}-{i}", NOW - 2000 + 10 * n + i, out=1, inp=0,
                                     read=0, write=0) for i in range(3))
        (claude / f"s-{n:02d}.jsonl").write_text(lines)
    summary = run_import()
    last = files - 1
    assert summary["entries"] == 4 * files
    assert summary["new"] == 3 * files + 1 + (last if batch == 1 else 0)  # grown: written again
    assert _rows()[:5] == (5, 10 + last + 3 * files, 100 + last, 20, 1 + 3 * files)
    assert _stored("m0", "f0-0") == [(5, 10 + last, 100 + last, 20, None), (0, 1, 0, 0, None)]
    # nothing new: nothing changes, and a file read again adds nothing
    again = run_import()
    assert again["new"] == 0
    conn = store.connect()
    conn.execute("DELETE FROM import_files")
    conn.close()
    assert run_import()["new"] == 0
    assert _rows()[:5] == (5, 10 + last + 3 * files, 100 + last, 20, 1 + 3 * files)


def test_a_later_file_grows_a_message_a_committed_batch_holds(claude, monkeypatch):
    monkeypatch.setattr(imports, "BATCH_ENTRIES", 1)
    (claude / "a.jsonl").write_text(claude_line("m1", NOW - 60, out=10) +
                                    claude_line("m2", NOW - 50, out=7))
    run_import()
    (claude / "b.jsonl").write_text(claude_line("m1", NOW - 59, out=25) +
                                    claude_line("m3", NOW - 40, out=1))
    (claude / "c.jsonl").write_text(claude_line("m1", NOW - 58, out=30))
    summary = run_import()
    assert summary["new"] == 3  # m1 grown in b and again in c (two batches), m3 new
    assert _rows()[1] == 30 + 7 + 1
    assert _stored("m1", "m2", "m3") == [(5, 30, 100, 20, None), (5, 7, 100, 20, None),
                                         (5, 1, 100, 20, None)]


def test_ingestion_takes_out_the_grown_values(claude, make_record, cfg):
    from shim.telemetry import ingest, spool

    start = NOW - 100
    (claude / "s-1.jsonl").write_text(claude_line("m1", start + 1, out=40) +
                                      claude_line("m2", start + 500, out=5))
    (claude / "s-2.jsonl").write_text(claude_line("m1", start + 2, out=60))
    run_import()
    assert _rows()[1] == 65
    rec = make_record(decision={"mode": "interactive"},
                      outcome={"started_at": start, "ended_at": start + 10})
    rec["harvest"]["cwd"] = "/p"
    rec["harvest"]["claude_config_dir"] = str(claude.parent.parent)
    spool.append(rec)
    ingest.ingest(cfg=cfg)
    assert _rows()[1] == 5  # m1's 60 taken out of its import row, not its first 40
    assert _stored("m1", "m2") == [None, (5, 5, 100, 20, None)]
    conn = store.connect()
    keys, values = conn.execute("SELECT keys, entries FROM import_rows "
                                "WHERE length(keys) > 0").fetchone()
    conn.close()
    assert len(keys) == 8 and len(values) == 56  # m1 is gone from its row too


def _packed(*keys):
    return struct.pack(f"<{len(keys)}q", *keys)


def test_m016_converts_entries_and_keeps_what_counts(tmp_path):
    path = str(tmp_path / "t.db")
    conn = sqlite3.connect(path, isolation_level=None)
    migrations.migrate(conn, target=14)
    a, b, ghost = migrations.hash64("import:claude:a"), migrations.hash64("import:claude:b"), 7
    conn.executemany("INSERT INTO import_rows (id, invocation_id, session, first, last, keys) "
                     "VALUES (?, ?, 1, 10.0, 20.0, ?)",
                     [(a, "import:claude:a", _packed(11, 12, 13, 11)),  # 13 gone, 11 twice
                      (b, "import:claude:b", _packed(21))])
    conn.executemany("INSERT INTO import_entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [
        (11, a, 10.0, 1, 2, 3, 4, None, 0.5),
        (12, a, 11.5, None, 9, None, None, 6, None),
        (14, a, 20.0, 0, 1, 0, 0, 0, 0.0),        # not listed in its row's keys
        (21, b, 15.0, 7, 7, 7, 7, 7, 1e-9),
        (31, ghost, 12.0, 1, 1, 1, 1, 1, 1.0)])   # its row is missing: dropped
    conn.close()
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrations.migrate(conn) == migrations.LATEST
    assert conn.execute("SELECT key, row FROM import_entries ORDER BY key").fetchall() == \
        [(11, a), (12, a), (14, a), (21, b)]
    assert imports.stored_entries(conn, [11, 12, 13, 14, 21, 31]) == {
        11: (11, a, 10.0, 1, 2, 3, 4, None, 0.5),
        12: (12, a, 11.5, None, 9, None, None, 6, None),
        14: (14, a, 20.0, 0, 1, 0, 0, 0, 0.0),
        21: (21, b, 15.0, 7, 7, 7, 7, 7, 1e-9)}
    keys, values = conn.execute("SELECT keys, entries FROM import_rows WHERE id = ?",
                                (a,)).fetchone()
    assert keys == _packed(11, 12, 14)
    assert struct.unpack("<d5qd", values[56:112])[:6] == (11.5, -1, 9, -1, -1, 6)
    conn.close()


def test_the_store_holds_no_entry_values_twice(claude):
    (claude / "a.jsonl").write_text(claude_line("m1", NOW - 60) + claude_line("m2", NOW - 50))
    run_import()
    conn = sqlite3.connect(paths.database_file())
    columns = [r[1] for r in conn.execute("PRAGMA table_info(import_entries)")]
    conn.close()
    assert columns == ["key", "row"]


@pytest.mark.parametrize("rows", [1, 7, 200])  # entries per INSERT: one, a few, more than all
def test_entries_go_in_several_to_a_statement(
        claude, monkeypatch, rows):
    # 20 files (worker processes) of 11 messages: 220 entries, 220 % 7 = 3 in the last,
    # single-row statement
    monkeypatch.setattr(imports, "ENTRY_ROWS", rows)
    for n in range(20):
        (claude / f"s-{n:02d}.jsonl").write_text("".join(
            claude_line(f"m{n}-{i}", NOW - 3000 + 10 * n + i, out=1 + i, inp=n)
            for i in range(11)))
    assert run_import()["new"] == 220
    conn = store.connect()
    try:
        stored = dict(conn.execute("SELECT key, row FROM import_entries"))
    finally:
        conn.close()
    keys = [imports.entry_key("claude", f"m{n}-{i}:req_m{n}-{i}")
            for n in range(20) for i in range(11)]
    assert sorted(stored) == sorted(keys)
    found = imports.stored_entries(store.connect(), keys)
    assert all(stored[key] == found[key][1] for key in keys)  # each key maps to its row
    assert _rows()[:2] == (sum(range(20)) * 11, 20 * sum(range(1, 12)))
    assert run_import()["new"] == 0


@pytest.mark.parametrize("files", [3, 20])          # in this process / in worker processes
def test_a_large_import_checkpoints_past_the_middle_and_at_the_end(claude, monkeypatch, files):
    seen = []
    commit = imports._Writer.commit

    def watched(self, done):
        seen.append(self.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
        return commit(self, done)

    monkeypatch.setattr(imports._Writer, "commit", watched)
    monkeypatch.setattr(imports, "BATCH_ENTRIES", 1)
    monkeypatch.setattr(imports, "CHECKPOINT_AT", 0.5)
    for n in range(files):  # files of one size
        (claude / f"s-{n:02d}.jsonl").write_text(claude_line(f"m{n:02d}", NOW - 3000 + n))
    conn = store.connect()
    statements = []

    class Recorded:  # the connection, with the statements run outside executemany listed
        def __getattr__(self, name):
            return getattr(conn, name)

        def execute(self, sql, *args):
            statements.append(sql)
            return conn.execute(sql, *args)

    try:
        assert imports.run(Recorded())["new"] == files
        assert conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
    finally:
        conn.close()
    large = files >= imports.PARALLEL_MIN_FILES
    assert set(seen) == ({0} if large else {1000})
    # the WAL copied into the database once past CHECKPOINT_AT of the bytes (10 of the 20
    # files: BATCH_ENTRIES 1 commits each), and the rest after the last batch
    checkpoints = [i for i, sql in enumerate(statements)
                   if sql == "PRAGMA wal_checkpoint(PASSIVE)"]
    commits = [i for i, sql in enumerate(statements) if sql == "PRAGMA wal_autocheckpoint"]
    assert len(checkpoints) == (2 if large else 0)
    if large:
        assert sum(c < checkpoints[0] for c in commits) == 10
    assert statements[-1] == ("PRAGMA wal_checkpoint(PASSIVE)" if large
                              else "PRAGMA cache_size = -2000")
    assert _rows()[4] == files
