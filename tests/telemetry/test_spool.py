"""The spool: one line per append, claim by rename, exactly-once under concurrency."""

import ast
import os
import subprocess
import sys
import textwrap
import time

from shim import paths
from shim.telemetry import ingest, spool, store

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def rec(i, attempt=1):
    return {"v": 1, "invocation_id": f"{i:032x}", "attempt": attempt,
            "started_at": 1_700_000_000.0 + i, "ended_at": 1_700_000_001.0 + i,
            "agent": "default", "tool": "llm", "reasons": ["line\nbreak", "quote ' \""],
            "prompt_chars": i}


def test_append_writes_one_private_line():
    assert spool.append(rec(1))
    assert spool.append(rec(2))
    path = spool.spool_file()
    with open(path, "rb") as fh:
        lines = fh.read().split(b"\n")
    assert lines[-1] == b"" and len(lines) == 3
    assert ast.literal_eval(lines[0].decode()) == rec(1)  # newlines inside values are escaped
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert os.stat(paths.spool_dir()).st_mode & 0o777 == 0o700


def test_surrogates_from_undecodable_argv_survive():
    weird = {"v": 1, "invocation_id": "a" * 32, "attempt": 1, "started_at": 1.0,
             "reasons": ["\udcff raw byte"]}
    assert spool.append(weird)
    claimed = spool.claim()
    records, rejected = ingest.parse(b"".join(c.read() for c in claimed))
    assert records == [weird] and rejected == []


def test_append_reopens_after_the_spool_was_claimed():
    assert spool.append(rec(1))
    claimed = spool.claim()
    assert len(claimed) == 1
    assert spool.append(rec(2))  # lands in a new spool.log, not in the claimed file
    assert rec(2)["invocation_id"].encode() not in claimed[0].read()
    for c in claimed:
        c.done()
    assert os.path.exists(spool.spool_file())
    assert not [n for n in os.listdir(paths.spool_dir()) if n.startswith("claimed-")]


def test_a_writer_holding_the_old_inode_cannot_write_into_a_claimed_file():
    """Simulate the race: a writer opened spool.log, then an ingester renamed it."""
    assert spool.append(rec(1))
    path = spool.spool_file()
    stale = os.open(path, os.O_WRONLY | os.O_APPEND)
    claimed = spool.claim()
    try:
        assert not spool._names_inode(path, os.fstat(stale))  # the check a writer makes
    finally:
        os.close(stale)
        for c in claimed:
            c.done()


def test_leftover_claimed_files_are_picked_up_and_locked_ones_skipped():
    assert spool.append(rec(1))
    first = spool.claim()
    first[0].keep()  # e.g. the database was locked: the file stays for the next run
    assert spool.append(rec(2))
    busy = spool.claim()       # another ingester holding both files
    assert len(busy) == 2
    assert spool.claim() == []  # non-blocking: files in use are not taken twice
    for c in busy:
        c.done()
    assert spool.claim() == []


def test_unwritable_spool_warns_once_and_returns_false(capsys, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    assert spool.append(rec(1), spool_dir=str(blocker / "spool")) is False
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("llm-shim: warning: telemetry:")


def test_needs_ingest_uses_the_size_bound():
    spool.last_size = None
    assert not spool.needs_ingest()
    assert spool.append(rec(1))
    assert not spool.needs_ingest(bound=10_000)
    assert spool.needs_ingest(bound=10)


def test_torn_line_is_rejected_but_the_next_record_survives():
    good = spool.encode(rec(7))
    data = b"{'v': 1, 'invocation_id': 'torn" + good + spool.encode(rec(8)) + b"garbage\n"
    records, rejected = ingest.parse(data)
    assert [r["invocation_id"] for r in records] == [rec(7)["invocation_id"],
                                                     rec(8)["invocation_id"]]
    assert rejected == [b"{'v': 1, 'invocation_id': 'torn", b"garbage"]


def test_rejected_lines_are_kept_after_a_successful_ingest(cfg):
    path = spool.spool_file()
    paths.ensure_dir(os.path.dirname(path))
    with open(path, "ab") as fh:
        fh.write(b"not a record\n" + spool.encode(rec(3)))
    assert ingest.ingest(cfg=cfg) == 1
    with open(os.path.join(paths.spool_dir(), spool.REJECTED_NAME), "rb") as fh:
        assert fh.read() == b"not a record\n"


WRITER = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {repo!r})
    from shim.telemetry import spool
    worker = int(sys.argv[1])
    for i in range(50):
        time.sleep(0.002)  # spread the appends so ingesters claim in between
        ok = spool.append({{"v": 1, "invocation_id": "%016x%016x" % (worker, i), "attempt": 1,
                           "started_at": 1700000000.0 + i, "ended_at": 1700000000.5 + i,
                           "agent": "w%d" % worker, "tool": "llm", "reasons": ["x" * 300]}})
        assert ok
""")

INGESTER = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, {repo!r})
    from shim.telemetry import ingest
    out, stop = sys.argv[1], sys.argv[2]
    cfg = ingest.embedded_config()
    open(out + ".ready", "w").close()
    original = ingest.parse
    def spy(data):
        records, bad = original(data)
        with open(out, "a") as fh:
            fh.write("".join("%s:%s\\n" % (r["invocation_id"], r["attempt"]) for r in records))
        return records, bad
    ingest.parse = spy
    while not os.path.exists(stop):
        ingest.ingest(cfg=cfg, timeout=60)
    ingest.ingest(cfg=cfg, timeout=60)
""")


def test_16_writers_x_50_with_concurrent_ingesters_exactly_800_rows(tmp_path, cfg):
    writer = tmp_path / "writer.py"
    writer.write_text(WRITER.format(repo=REPO))
    ingester = tmp_path / "ingester.py"
    ingester.write_text(INGESTER.format(repo=REPO))
    stop = tmp_path / "stop"
    env = dict(os.environ)
    seen = [tmp_path / f"seen-{n}.txt" for n in range(3)]
    ingesters = [subprocess.Popen([sys.executable, str(ingester), str(s), str(stop)], env=env)
                 for s in seen]
    deadline = time.monotonic() + 60
    while not all(os.path.exists(f"{s}.ready") for s in seen) and time.monotonic() < deadline:
        time.sleep(0.01)
    writers = [subprocess.Popen([sys.executable, str(writer), str(w)], env=env,
                                stderr=subprocess.PIPE) for w in range(16)]
    for proc in writers:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
        assert err == b""  # no warning from any append
    stop.write_text("")
    for proc in ingesters:
        assert proc.wait(timeout=120) == 0
    ingest.ingest(cfg=cfg)  # whatever the last ingester left (nothing, normally)

    conn = store.connect()
    try:
        rows = conn.execute("SELECT invocation_id, attempt FROM attempts").fetchall()
    finally:
        conn.close()
    assert len(rows) == 800
    assert len(set(rows)) == 800
    expected = {("%016x%016x" % (w, i), 1) for w in range(16) for i in range(50)}
    assert set(rows) == expected
    # every spooled line was parsed by exactly one ingester: claims never overlapped
    parsed = [line for s in seen if s.exists() for line in s.read_text().split()]
    assert len(parsed) == 800 and len(set(parsed)) == 800
    assert [n for n in os.listdir(paths.spool_dir())
            if n.startswith("claimed-") or n == spool.REJECTED_NAME] == []


def test_writers_never_block_on_a_slow_ingester(cfg):
    """An ingester holding its claimed file does not stop appends to the new spool."""
    assert spool.append(rec(1))
    held = spool.claim()
    started = time.monotonic()
    for i in range(20):
        assert spool.append(rec(100 + i))
    assert time.monotonic() - started < 30  # generous: only a deadlock would fail this
    for c in held:
        c.done()
    assert ingest.ingest(cfg=cfg) == 20
