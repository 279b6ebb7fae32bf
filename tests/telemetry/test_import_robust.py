"""`llm-shim import` against hostile and damaged input (issue #19, the auditor's gaps): a
malformed field skips one entry, never the import; a bounded slice keeps what it parsed; a
killed import leaves no process holding the lock; unreadable files are said, not hidden."""

import json
import os
import sqlite3
import time

import pytest

from shim.telemetry import imports, store
from shim.telemetry.imports import validate
from tests.support.transcripts import claude_entry as claude_obj, iso as _iso, run_import as do_import

NOW = time.time()


def line(obj):
    return json.dumps(obj, separators=(",", ":")) + "\n"


@pytest.fixture
def env(tmp_path, monkeypatch):
    claude = tmp_path / "claude"
    codex = tmp_path / "codex"
    (claude / "projects" / "-p").mkdir(parents=True)
    (codex / "sessions").mkdir(parents=True)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))
    monkeypatch.setenv("CODEX_HOME", str(codex))
    monkeypatch.setenv("LLM_USER_PATH", str(tmp_path / "llm-user"))
    return {"claude": claude, "codex": codex, "tmp": tmp_path,
            "transcript": claude / "projects" / "-p" / "s-1.jsonl"}


def stored():
    conn = store.connect()
    try:
        return conn.execute(
            "SELECT model, session_id, project, git_branch, input_tokens, output_tokens, "
            "cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_usd, entry_count "
            "FROM attempts").fetchall()
    finally:
        conn.close()


HOSTILE = [{}, [], [1, 2], {"a": 1}, 5, -5, 1e308, -1e308, 3.5, True, False, "12",
           "x" * 10000, "\ud800", None, "", 2 ** 64, -(2 ** 63), 10 ** 13]
# json.dumps writes float("inf") as Infinity, which json.loads reads back: transcripts may too
HOSTILE_RAW = ["Infinity", "-Infinity", "NaN", "1e999", "-0", "0.0"]
CLAUDE_PATHS = [("sessionId",), ("cwd",), ("gitBranch",), ("timestamp",), ("requestId",),
                ("uuid",), ("message", "id"), ("message", "model"),
                ("message", "usage", "input_tokens"), ("message", "usage", "output_tokens"),
                ("message", "usage", "cache_read_input_tokens"),
                ("message", "usage", "cache_creation_input_tokens"), ("message", "usage"),
                ("message",)]


def _set(obj, path, value):
    for key in path[:-1]:
        obj = obj[key]
    obj[path[-1]] = value


def _assert_store_sane():
    for row in stored():
        model, session, project, branch, *counts = row
        for text in (model, session, project, branch):
            assert text is None or isinstance(text, str)
        for count in counts[:5] + counts[6:]:
            assert count is None or (isinstance(count, int)
                                     and 0 <= count <= 10 * validate.MAX_TOKENS)


@pytest.mark.parametrize("path", CLAUDE_PATHS, ids=".".join)
def test_hostile_claude_fields_skip_one_entry_never_the_import(env, path):
    """Every hostile value in every field: the good message beside it is imported, the store
    holds only well-typed values, and report answers."""
    from shim.cli import main

    text = line(claude_obj("good", NOW - 500, out=7))
    for n, value in enumerate(HOSTILE):
        obj = claude_obj(f"h{n}", NOW - 400 + n, out=3)
        _set(obj, path, value)
        text += line(obj)
    for n, raw in enumerate(HOSTILE_RAW):
        obj = claude_obj(f"r{n}", NOW - 300 + n, out=3)
        _set(obj, path, "@RAW@")
        text += line(obj).replace('"@RAW@"', raw)
    env["transcript"].write_text(text)
    summary = do_import()
    assert summary["unreadable"] == []
    outs = [row[5] for row in stored()]
    assert sum(outs) >= 7  # the good entry at least
    _assert_store_sane()
    assert main.main(["report", "--json", "--since", "2d"]) == 0
    assert main.main(["logs", "--json"]) == 0


@pytest.mark.parametrize("path,value", [
    (("sessionId",), {"a": 1}), (("cwd",), ["/p"]), (("message", "model"), 5),
    (("message", "usage", "output_tokens"), 1e308),
    (("message", "usage", "output_tokens"), -5), (("message", "usage", "input_tokens"), -1),
    (("gitBranch",), {"b": 1}), (("sessionId",), "\ud800")])
def test_the_auditors_fields_are_counted_as_malformed(env, path, value, capsys):
    from shim.cli import main

    bad = claude_obj("bad", NOW - 100)
    _set(bad, path, value)
    env["transcript"].write_text(line(claude_obj("good", NOW - 200, out=7)) + line(bad))
    assert main.main(["import"]) == 0
    out = capsys.readouterr().out
    assert "1 entries skipped: malformed" in out
    assert [row[5] for row in stored()] == [7]


def test_report_says_malformed_entries_were_skipped(env, capsys):
    from shim.cli import main

    bad = claude_obj("bad", NOW - 100)
    bad["sessionId"] = {"nested": True}
    env["transcript"].write_text(line(claude_obj("good", NOW - 200, out=7)) + line(bad))
    assert main.main(["report", "--json", "--since", "2d"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["totals"]["output_tokens"] == 7
    assert "1 entries skipped: malformed" in captured.err


def codex_lines(thread, model, cwd, totals, ts=NOW - 100):
    out = [line({"timestamp": _iso(ts), "type": "session_meta",
                 "payload": {"id": thread, "cwd": cwd}}),
           line({"timestamp": _iso(ts), "type": "turn_context", "payload": {"model": model}})]
    for n, total in enumerate(totals):
        out.append(line({"timestamp": _iso(ts + n + 1), "type": "event_msg",
                         "payload": {"type": "token_count", "info": {"total_token_usage": {
                             "input_tokens": total, "cached_input_tokens": 0,
                             "output_tokens": total, "reasoning_output_tokens": 0}}}}))
    return "".join(out)


@pytest.mark.parametrize("n", range(len(HOSTILE)))
def test_hostile_codex_fields_never_stop_the_import(env, n):
    value = HOSTILE[n]
    day = env["codex"] / "sessions" / "2026" / "12" / "06"
    day.mkdir(parents=True)
    (day / "rollout-good.jsonl").write_text(codex_lines("t-good", "gpt-5", "/p", [10]))
    (day / "rollout-a.jsonl").write_text(codex_lines(value, "gpt-5", "/p", [10, 20]))
    (day / "rollout-b.jsonl").write_text(codex_lines("t-b", value, value, [10]))
    (day / "rollout-c.jsonl").write_text(codex_lines("t-c", "gpt-5", "/p", [value, 10]))
    summary = do_import()
    assert summary["unreadable"] == []
    assert summary["tokens"]["codex"][1] >= 10  # the good rollout
    _assert_store_sane()


@pytest.mark.parametrize("n", range(len(HOSTILE)))
def test_hostile_llm_rows_never_stop_the_import(env, n):
    from tests.telemetry.test_harvest import make_llm_db

    value = HOSTILE[n]
    if isinstance(value, (dict, list)):
        value = json.dumps(value)  # SQLite stores text, numbers, blobs
    db = env["tmp"] / "llm-user" / "logs.db"
    conn = make_llm_db(str(db))
    when = _iso(NOW - 60)
    conn.execute("INSERT INTO turns (id, thread_id, model, input_tokens, output_tokens, "
                 "datetime_utc) VALUES ('good', 'th', 'gpt-4o-mini', 11, 7, ?)", (when,))
    for column in ("thread_id", "model", "input_tokens", "output_tokens", "datetime_utc"):
        row = {"id": f"bad-{column}", "thread_id": "th", "model": "gpt-4o-mini",
               "input_tokens": 1, "output_tokens": 1, "datetime_utc": when}
        row[column] = value
        try:
            conn.execute("INSERT INTO turns (id, thread_id, model, input_tokens, "
                         "output_tokens, datetime_utc) VALUES (:id, :thread_id, :model, "
                         ":input_tokens, :output_tokens, :datetime_utc)", row)
        except (sqlite3.Error, OverflowError, UnicodeEncodeError):
            pass  # a value SQLite itself refuses cannot be in a logs.db either
    conn.commit()
    conn.close()
    summary = do_import()
    assert summary["unreadable"] == []
    assert summary["tokens"]["llm"][1] >= 7
    _assert_store_sane()


def test_refresh_never_raises_into_report(env, monkeypatch, capsys):
    from shim.cli import main

    env["transcript"].write_text(line(claude_obj("good", NOW - 200, out=7)))

    def broken(*a, **kw):
        raise TypeError("unhashable type: 'dict'")

    monkeypatch.setattr(imports, "run", broken)
    assert main.main(["report", "--json", "--since", "2d"]) == 0
    err = capsys.readouterr().err
    assert err.count("could not import the tools' own logs: TypeError") == 1


def test_validate_accepts_what_the_parsers_make():
    entry = {"tool": "claude", "key": "m:r", "ts": NOW, "model": "m", "session_id": "s",
             "cwd": "/p", "git_branch": None, "prompt_chars": 3, "input_tokens": 1,
             "output_tokens": 0, "cache_read_tokens": None, "cache_write_tokens": 2,
             "reasoning_tokens": None}
    assert validate.ok(entry)
    for key, bad in [("ts", float("nan")), ("ts", float("inf")), ("ts", "1"), ("key", 5),
                     ("tool", "gemini"), ("output_tokens", True), ("prompt_chars", -1),
                     ("input_tokens", validate.MAX_TOKENS + 1), ("model", b"m")]:
        assert not validate.ok(dict(entry, **{key: bad})), key


def test_an_unreadable_zst_is_said_by_report_and_makes_import_fail(env, monkeypatch, capsys):
    from shim.cli import main
    from shim.telemetry.harvest import zst

    def no_binding(path):
        raise ImportError("No module named 'zstandard'")

    monkeypatch.setattr(zst, "open_stream", no_binding)
    day = env["codex"] / "sessions" / "2026" / "12" / "06"
    day.mkdir(parents=True)
    (day / "rollout-old.jsonl.zst").write_bytes(b"\x28\xb5\x2f\xfd not really")
    assert main.main(["report", "--since", "2d"]) == 0
    err = capsys.readouterr().err
    assert "report: 1 log files could not be read (no zstd decompressor" in err
    assert main.main(["import"]) == 1
    err = capsys.readouterr().err
    assert "rollout-old.jsonl.zst: no zstd decompressor" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a mode 000 file")
def test_a_permission_error_names_the_errno(env, capsys):
    from shim.cli import main

    env["transcript"].write_text(line(claude_obj("good", NOW - 200)))
    env["transcript"].chmod(0)
    try:
        assert main.main(["import"]) == 1
    finally:
        env["transcript"].chmod(0o600)
    assert "Permission denied (errno 13)" in capsys.readouterr().err


def test_since_says_how_to_read_the_skipped_entries_later(env, capsys):
    from shim.cli import main

    env["transcript"].write_text(line(claude_obj("old", NOW - 10 * 86400))
                                 + line(claude_obj("new", NOW - 60)))
    assert main.main(["import", "--since", "2d"]) == 0
    assert "`llm-shim import --reset`" in capsys.readouterr().out


def test_unreadable_reasons_per_kind():
    import errno

    from shim.telemetry.imports.problems import unreadable_reason

    assert unreadable_reason("/x.jsonl", PermissionError(errno.EACCES, "denied")) \
        == "Permission denied (errno 13)"
    assert unreadable_reason("/r.jsonl.zst", ImportError("x")).startswith("no zstd")
    assert unreadable_reason("/logs.db", sqlite3.OperationalError("database is locked")) \
        == "SQLite: database is locked"


def count_entries():
    conn = store.connect()
    try:
        return conn.execute("SELECT count(*) FROM import_entries").fetchone()[0]
    finally:
        conn.close()


def test_a_slice_past_its_deadline_keeps_what_it_parsed_and_resumes(env, monkeypatch, capsys):
    """A parse that runs past the slice's time (here: a deadline already passed) used to be
    thrown away, so a large file was never imported by budget checks. Now each slice commits
    at least one piece of whole lines and the next goes on from its offset."""
    from shim.telemetry.imports import slices

    text = "".join(line(claude_obj(f"m{i}", NOW - 1000 + i, out=1)) for i in range(200))
    env["transcript"].write_text(text)
    monkeypatch.setattr(imports, "ADMISSION_SECONDS", 0.0)
    monkeypatch.setattr(slices, "CHUNK_BYTES", len(text) // 10)
    counts = []
    for _ in range(30):
        conn = store.connect()
        try:
            summary = imports.refresh(conn, bounded=True, what="budget")
        finally:
            conn.close()
        counts.append(count_entries())
        if not summary["remaining"]:
            break
    assert counts[0] > 0  # the first slice kept its piece
    assert counts == sorted(counts) and counts[-1] == 200
    assert 8 <= len(counts) <= 12  # about one piece per slice, resumed at the offset
    conn = store.connect()
    outs = conn.execute("SELECT SUM(output_tokens) FROM attempts").fetchone()[0]
    conn.close()
    assert outs == 200  # no entry twice, none lost at the piece boundaries


def test_the_slice_warning_is_printed_once_an_hour_and_says_how_to_catch_up(env, monkeypatch,
                                                                            capsys):
    text = "".join(line(claude_obj(f"m{i}", NOW - 1000 + i, out=1)) for i in range(100))
    env["transcript"].write_text(text)
    monkeypatch.setattr(imports, "ADMISSION_BYTES", len(text) // 20)
    for _ in range(3):
        conn = store.connect()
        try:
            imports.refresh(conn, bounded=True, what="budget")
        finally:
            conn.close()
    err = capsys.readouterr().err
    assert err.count("changed log files not imported yet") == 1
    assert "run `llm-shim import` to catch up" in err


def _cli_import(environ, **kw):
    import subprocess
    import sys

    return subprocess.Popen([sys.executable, "-c",
                             "import sys; from shim.cli import main; sys.exit(main.main())",
                             "import"], env=environ, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, **kw)


def test_a_killed_import_leaves_no_worker_holding_the_lock(env, tmp_path):
    """SIGKILL an import while its worker pool runs: the workers must go with it and not keep
    import.lock, so the next import finishes (bounded here by a timeout; it used to wait until
    the orphans were killed) and its totals equal a clean run."""
    import signal
    import subprocess

    import psutil

    from tests.telemetry.test_import import REPO, totals

    written, environ = _parallel_set(tmp_path, sessions=40, messages=40000, days=5, seed=11)
    environ["PYTHONPATH"] = REPO
    proc = _cli_import(environ)
    workers = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            workers = psutil.Process(proc.pid).children()
        except psutil.NoSuchProcess:
            break
        if len(workers) >= 2:
            break
        time.sleep(0.005)
    if len(workers) < 2:
        proc.kill()
        proc.wait()
        pytest.skip("the import finished before its workers were seen (a very fast machine)")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    gone, alive = psutil.wait_procs(workers, timeout=10)
    for p in alive:
        p.kill()
    assert not alive, "workers outlived the killed import"
    second = _cli_import(environ)
    try:
        second.wait(timeout=120)
    except subprocess.TimeoutExpired:
        second.kill()
        pytest.fail("the next import hung on import.lock")
    assert second.returncode == 0, second.stderr.read()
    assert totals() == written


def test_workers_close_the_inherited_lock(env, monkeypatch):
    """The worker initializer drops the lock descriptors a fork copied (the unit of the above)."""
    from shim.telemetry.imports import children

    monkeypatch.setattr(children, "_die_with_parent", lambda: None)  # not pytest's own death

    with imports.lock() as locked:
        assert locked and children.lock_fds
        (fd,) = tuple(children.lock_fds)
        dup = os.dup(fd)  # stands in for the forked worker's copy
        children.init(os.getppid(), (dup,))
        with pytest.raises(OSError):
            os.fstat(dup)
    children._parent = None
    assert not children.lock_fds


def test_report_says_once_that_an_import_was_already_running(env, capsys):
    from shim.cli import main

    env["transcript"].write_text(line(claude_obj("good", NOW - 200, out=7)))
    with imports.lock() as locked:
        assert locked
        assert main.main(["report", "--since", "2d"]) == 0
    err = capsys.readouterr().err
    assert err.count("another llm-shim import is running") == 1


@pytest.mark.parametrize("mode", ["full", "hash", "omit"])
def test_git_branch_and_head_follow_the_project_policy(env, tmp_path, make_record, cfg, mode):
    """A branch name (`acme-merger-2027`) tells as much as the path: `policies.project`
    applies to git_branch and git_head of shim calls and of imported rows alike."""
    import copy

    head = "0123456789abcdef0123456789abcdef01234567"
    git = tmp_path / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text("ref: refs/heads/secret-branch\n")
    (git / "refs" / "heads" / "secret-branch").write_text(head + "\n")
    config = copy.deepcopy(cfg)
    config.setdefault("policies", {})["project"] = mode
    rec = make_record(config=config)
    env["transcript"].write_text(line(claude_obj("m1", NOW - 60)).replace(
        '"gitBranch":"main"', '"gitBranch":"secret-branch"'))
    conn = store.connect()
    try:
        imports.run(conn, config)
        (branch,) = conn.execute("SELECT git_branch FROM attempts WHERE source = 'import'"
                                 ).fetchone()
    finally:
        conn.close()
    if mode == "full":
        assert (rec["git_branch"], rec["git_head"], branch) == ("secret-branch", head,
                                                                "secret-branch")
    elif mode == "omit":
        assert (rec["git_branch"], rec["git_head"], branch) == (None, None, None)
    else:
        for value in (rec["git_branch"], rec["git_head"], branch):
            assert value.startswith("sha256:") and "secret" not in value
        assert rec["git_branch"] == branch  # the same branch hashes alike: --by branch groups


def test_report_counts_imported_messages_not_buckets_and_claims_no_saving(env, capsys):
    from shim.cli import main

    start = (NOW // 900) * 900 - 1800  # three messages inside one quarter hour: one row
    env["transcript"].write_text("".join(line(claude_obj(f"m{i}", start + 10 * i, out=5))
                                         for i in range(3)))
    assert main.main(["report", "--json", "--since", "2d"]) == 0
    totals = json.loads(capsys.readouterr().out)["totals"]
    assert totals["imported_rows"] == 1 and totals["imported_messages"] == 3
    assert totals["invocations"] == 0 and "savings_usd" in totals  # keys kept as they were
    assert main.main(["report", "--since", "2d", "--wide"]) == 0
    out = capsys.readouterr().out
    total_line = next(ln for ln in out.splitlines() if ln.startswith("total"))
    cells = total_line.split()
    assert "3 imp" in total_line
    assert cells[cells.index("imp") + 1] == "0"  # attempts: no shim attempt, not 1 bucket
    assert cells[-1] == "-" and cells[-2] == "-"  # saved $ and saved %: nothing measurable
    assert "imp: 3 messages imported" in out


def test_html_cards_and_model_breakdown_count_imported_messages(env, tmp_path, capsys):
    """The HTML page (and the dashboard, which shares its sections) said `calls 0` and
    `saved $0.00` for a store of imported usage: its cards and its cost-per-model table now
    read as the text table does."""
    import xml.etree.ElementTree as ET

    from shim.cli import main

    start = (NOW // 900) * 900 - 1800
    env["transcript"].write_text("".join(line(claude_obj(f"m{i}", start + 10 * i, out=5))
                                         for i in range(3)))
    page = tmp_path / "r.html"
    assert main.main(["report", "--since", "2d", "--html", str(page)]) == 0
    capsys.readouterr()
    root = ET.parse(page).getroot()
    ns = "{http://www.w3.org/1999/xhtml}"
    cards = {d.text.strip(): d.find(ns + "b").text for d in root.iter(ns + "div")
             if d.get("class", "").startswith("card") and d.find(ns + "b") is not None}
    assert cards["calls"] == "3 imp" and cards["saved"] == "-"
    breakdown = next(t for t in root.iter(ns + "table") if t.get("id") == "model-breakdown")
    calls = [td.text for td in breakdown.iter(ns + "td") if td.get("data-field") == "invocations"]
    assert calls == ["3 imp"]


def test_logs_show_an_imported_rows_model_alone_and_its_message_count(env, capsys):
    from shim.cli import main

    start = (NOW // 900) * 900 - 1800
    env["transcript"].write_text("".join(line(claude_obj(f"m{i}", start + 10 * i, out=5))
                                         for i in range(2)))
    assert main.main(["logs", "--wide"]) == 0
    out = capsys.readouterr().out
    assert "claude-sonnet-4-5-20250929" in out and "->" not in out
    assert "imported 2" in out


def test_a_large_file_is_read_in_pieces_and_a_giant_line_is_stepped_over(env, monkeypatch):
    """A full import used to read a file's whole unread rest at once (a 300 MB line: 1.25 GB
    of memory). A large file is now read in pieces of whole lines, and a line longer than
    MAX_LINE_BYTES (a tool result, never a usage line) is stepped over without being read."""
    from shim.telemetry.imports import logfile, slices

    monkeypatch.setattr(slices, "LARGE_FILE_BYTES", 1000)
    monkeypatch.setattr(slices, "CHUNK_BYTES", 4096)
    monkeypatch.setattr(slices, "MAX_LINE_BYTES", 50_000)
    giant = line({"type": "user", "message": {"role": "user", "content": "x" * 200_000}})
    env["transcript"].write_text(line(claude_obj("m1", NOW - 100, out=3)) + giant
                                 + "".join(line(claude_obj(f"n{i}", NOW - 90 + i, out=1))
                                           for i in range(50)))
    spans = []
    real = logfile.read_span

    def spy(path, offset, limit=None):
        data, new_offset, tail = real(path, offset, limit)
        spans.append(len(data))
        return data, new_offset, tail

    monkeypatch.setattr(logfile, "read_span", spy)
    summary = do_import()
    assert summary["remaining"] == 0 and summary["unreadable"] == []
    assert sum(row[5] for row in stored()) == 3 + 50
    assert spans and max(spans) <= 4096  # never the file, never the giant line
    assert do_import()["changed"] == 0  # the offset reached the end: nothing left


def test_a_slice_does_not_count_an_unreadable_zst_as_left_for_later(env, monkeypatch):
    """Without a zstd decompressor no import can read a `.zst`: budget admission must not
    say "not imported yet, run llm-shim import" about it for ever."""
    from shim.telemetry.harvest import zst

    monkeypatch.setattr(zst, "binding", lambda: None)
    day = env["codex"] / "sessions" / "2026" / "12" / "06"
    day.mkdir(parents=True)
    (day / "rollout-old.jsonl.zst").write_bytes(b"\x28\xb5\x2f\xfd")
    conn = store.connect()
    try:
        summary = imports.refresh(conn, bounded=True, what="budget")
    finally:
        conn.close()
    assert summary["remaining"] == 0 and len(summary["unreadable"]) == 1


def test_the_batch_check_refuses_exactly_what_entry_ok_refuses():
    """imports._Parsed checks a file's entries in its own pass: the usual shape inline once an
    entry of the same text fields was accepted, anything else by validate.entry_ok. Every
    hostile value in every field, each right after valid entries that share the other fields
    (so the inline check is tried first), is still refused, and exactly what entry_ok refuses."""
    good = ("m:r", NOW, "s", "claude-sonnet-4-5", "/p", "main", 3, 1, 2, 3, 4, None)
    values = HOSTILE + [float("inf"), float("nan"), -0.0, validate.MAX_TS + 1.0,
                        validate.MAX_TOKENS + 1, "y" * (validate.MAX_TEXT + 1), b"m", ("s",)]
    found = [good, good[:11], list(good), dict(enumerate(good)), good + (None,)]
    for at in range(12):
        for value in values:
            found += [good, good[:at] + (value,) + good[at + 1:], good]
    expected = [e for e in found if validate.entry_ok("claude", e)]
    refused = len(found) - len(expected)
    assert refused > 12 * len(HOSTILE) // 2  # the hostile values were in there
    pricer = imports._Pricer({"rows": {}, "aliases": {}, "version": "t"})
    parsed = imports._Parsed("claude", found, pricer)
    clean = imports._Parsed("claude", expected, pricer)
    assert parsed.malformed == refused and clean.malformed == 0
    assert parsed.entries == clean.entries and parsed.prompts == clean.prompts
    assert parsed.groups == clean.groups
    assert imports._Parsed("gemini", [good], pricer).malformed == 1


@pytest.mark.parametrize("first", [False, True])
def test_a_first_import_starts_its_workers_before_the_store_is_made(env, tmp_path, first,
                                                                     monkeypatch):
    """start_early's workers read every file of a store that does not exist yet and the import
    stores what they read; when another import filled the store before the lock was taken
    (`first`), they are stopped and nothing is counted twice. Totals equal the written set."""
    from shim import paths
    from tests.telemetry.test_import import totals

    written, environ = _parallel_set(tmp_path, sessions=20, messages=2000, days=3, seed=5)
    path = paths.database_file()
    assert not os.path.exists(path)
    early = imports.start_early(path, environ)
    assert early is not None and not early.closed
    if first:
        do_import(environ=environ)
    else:  # the early workers' results are used: no other pool is started
        monkeypatch.setattr(imports, "_parsed", None)
    conn = store.connect()
    try:
        summary = imports.run(conn, environ=environ, early=early)
    finally:
        conn.close()
    assert early.closed
    assert summary["read"] == (0 if first else summary["files"])
    assert (summary["new"] == 0) == first
    assert totals() == written
    conn = store.connect()
    try:
        assert imports.start_early(path, environ) is None  # the store exists now
    finally:
        conn.close()


def _parallel_set(tmp_path, **size):
    """(what was written, an environment pointing at it) for a generated set of Claude and
    Codex logs large enough for the worker pool; skips on a machine of one core."""
    from tests.support import gen_transcripts

    if (os.cpu_count() or 1) < 2:
        pytest.skip("the worker pool needs 2 cores")
    out = tmp_path / "gen"
    written = gen_transcripts.generate(str(out), codex_share=0.3, **size)
    return written, dict(os.environ, CLAUDE_CONFIG_DIR=str(out / "claude"),
                         CODEX_HOME=str(out / "codex"))
