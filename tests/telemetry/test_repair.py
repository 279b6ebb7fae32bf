"""`llm-shim logs repair` repairs (issue 15, item 8): a damaged 100-byte header or a few
damaged pages lose only what they held, the count kept is reported, and the damaged file is
never deleted."""

import os
import shutil
import sqlite3

import pytest

from shim import paths
from shim.cli.commands import logs
from shim.telemetry import ingest, recover, spool, store

N = 600


@pytest.fixture
def filled(make_record, cfg):
    """A store with N attempt rows (prompts long enough to spread them over many pages)."""
    for i in range(N):
        assert spool.append(make_record(outcome={"prompt_text": f"prompt {i} " + "x" * 200}))
    assert ingest.ingest(cfg=cfg) == N
    conn = store.connect()
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        ids = {r[0] for r in conn.execute("SELECT invocation_id FROM attempts")}
    finally:
        conn.close()
    return {"page_size": page_size, "ids": ids}


def _overwrite(offset, data):
    with open(paths.database_file(), "r+b") as fh:
        fh.seek(offset)
        fh.write(data)


def _ids():
    conn = store.connect()
    try:
        return {r[0] for r in conn.execute("SELECT invocation_id FROM attempts")}
    finally:
        conn.close()


def test_zeroed_header_keeps_every_row(filled, capsys):
    with open(paths.database_file(), "rb") as fh:
        original = fh.read()
    _overwrite(0, b"\0" * 100)
    assert recover.header_damaged(paths.database_file())
    assert logs.repair_logs() == 0
    out = capsys.readouterr().out
    assert f"kept {N} attempts and 0 counter rows" in out
    assert "header rebuilt (page size 4096)" in out
    assert _ids() == filled["ids"]
    kept = [n for n in os.listdir(paths.data_dir()) if ".corrupt-" in n]
    assert len(kept) == 1, kept  # the damaged file, byte for byte, and no scratch copies
    with open(os.path.join(paths.data_dir(), kept[0]), "rb") as fh:
        assert fh.read() == b"\0" * 100 + original[100:]


def test_garbage_header_with_a_wrong_page_size_is_probed(filled):
    _overwrite(0, b"\xff" * 100)
    result = store.repair()
    assert result["salvaged"]["attempts"] == N
    assert _ids() == filled["ids"]


def test_a_few_damaged_pages_lose_only_their_rows(filled, capsys):
    size = filled["page_size"]
    pages = os.path.getsize(paths.database_file()) // size
    assert pages > 30
    # Leaf pages of the attempts table in the middle of it (by dbstat, so a change in the
    # schema's size, e.g. a migration's triggers, cannot move them onto the schema's pages).
    conn = sqlite3.connect(paths.database_file())
    try:
        leaves = [r[0] for r in conn.execute(
            "SELECT pageno FROM dbstat WHERE name = 'attempts' AND pagetype = 'leaf' "
            "ORDER BY pageno")]
    finally:
        conn.close()
    assert len(leaves) > 10
    for page in (leaves[len(leaves) // 3], leaves[len(leaves) // 2],
                 leaves[len(leaves) // 2 + 1]):  # table pages in the middle
        _overwrite((page - 1) * size, b"\xde\xad\xbe\xef" * (size // 4))
    assert logs.repair_logs() == 0
    kept = _ids()
    assert kept < filled["ids"]
    # Three pages of ~16 rows each are gone at most (plus a torn row at each edge).
    assert len(kept) >= N - 3 * (size // 200) - 6, len(kept)
    out = capsys.readouterr().out
    assert f"kept {len(kept)} attempts" in out
    assert [n for n in os.listdir(paths.data_dir()) if ".corrupt-" in n]


def test_without_the_sqlite3_shell_a_header_rebuild_still_works(filled, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    _overwrite(0, b"\0" * 100)
    result = store.repair()
    assert result["salvaged"]["attempts"] == N
    assert result["ways"] == ["header rebuilt (page size 4096)"]


def test_header_for_is_what_sqlite_writes(filled):
    with open(paths.database_file(), "rb") as fh:
        head = fh.read(100)
    ours = recover.header_for(filled["page_size"], os.path.getsize(paths.database_file())
                              // filled["page_size"])
    assert ours[:18] == head[:18] and ours[20:24] == head[20:24] and ours[44:48] == head[44:48]


def test_sqlite3_shell_recover_is_tried_when_it_works(filled, tmp_path):
    if recover.shell() is None:
        pytest.skip("the sqlite3 shell is not installed (apt-get install sqlite3)")
    probe = tmp_path / "probe.db"
    shutil.copyfile(paths.database_file(), probe)
    if not recover._shell_recover(str(probe), str(tmp_path / "probe-out.db")) or \
            not store._salvage(str(tmp_path / "probe-out.db"), "attempts", ["invocation_id",
                                                                           "attempt"]):
        pytest.skip("this sqlite3 shell's .recover does not work (built without the "
                    "sqlite_dbpage virtual table, as Debian's 3.40 is)")
    _overwrite(0, b"\0" * 100)
    result = store.repair()
    assert "sqlite3 .recover" in result["ways"]
    assert result["salvaged"]["attempts"] == N
