"""A call whose shim is SIGKILLed is recorded from its start line as `killed` (issue 15, 4)."""

import json
import os
import sqlite3
import subprocess
import time

import pytest

from shim.telemetry import ingest, record, spool, starts, store
from tests.support.launchers import write_launcher
from tests.telemetry.conftest import make_decision

# A fake claude that writes a transcript line (its usage, as the real one does as it goes),
# then hangs until it is killed.
HANGING_CLAUDE = r'''#!{python} -S
import json, os, sys, time
cwd = os.getcwd()
project = "".join(c if c.isalnum() else "-" for c in cwd)
d = os.path.join(os.environ["CLAUDE_CONFIG_DIR"], "projects", project)
os.makedirs(d, exist_ok=True)
now = time.time()
stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%03dZ" % int(now % 1 * 1000)
line = {{"type": "assistant", "requestId": "req_k", "sessionId": "sess-killed",
        "timestamp": stamp, "version": "2.1.197", "cwd": cwd,
        "message": {{"id": "msg_k", "model": "claude-opus-4-8", "role": "assistant",
                    "content": [{{"type": "text", "text": "partial"}}],
                    "usage": {{"input_tokens": 1000, "output_tokens": 2000,
                              "cache_read_input_tokens": 0,
                              "cache_creation_input_tokens": 0}}}}}}
with open(os.path.join(d, "sess-killed.jsonl"), "w") as fh:
    fh.write(json.dumps(line) + "\n")
open(os.environ["FAKE_READY"], "w").close()
time.sleep(120)
'''


def _rows(conn):
    conn.row_factory = sqlite3.Row
    return [dict(r) for r in conn.execute("SELECT * FROM attempts ORDER BY started_at")]


def _wait_for(path, timeout=30):
    deadline = time.time() + timeout
    while not os.path.exists(path):
        assert time.time() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def test_a_sigkilled_shim_leaves_a_killed_row_with_harvested_usage(
        tmp_path, fake_cli, isolated_env, monkeypatch):
    import sys

    fake_cli("claude", script=HANGING_CLAUDE.format(python=sys.executable))
    shims = tmp_path / "shims"
    shims.mkdir()
    write_launcher(shims / "claude")
    ready = tmp_path / "ready"
    env = dict(os.environ, PATH=os.pathsep.join([str(shims), str(fake_cli.bin_dir), "/usr/bin",
                                                 "/bin"]),
               CLAUDE_CONFIG_DIR=str(tmp_path / "claude-config"), FAKE_READY=str(ready))
    proc = subprocess.Popen(["claude", "-p", "a long task"], env=env, cwd=str(tmp_path),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for(ready)
        monkeypatch.setattr(starts, "KILLED_AFTER", 0.0)
        conn = store.connect()
        # While the shim runs, its start line waits: no row, nothing lost.
        assert ingest.ingest(conn) == 0
        assert _rows(conn) == []
        assert (isolated_env["shim_home"] / "spool" / starts.PENDING_NAME).exists()
        proc.kill()  # SIGKILL: the shim can write nothing more
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()
    time.sleep(0.2)
    assert ingest.ingest(conn) == 1
    (row,) = _rows(conn)
    assert (row["tool"], row["mode"], row["failure_class"], row["exit_code"]) == \
        ("claude", "oneshot", "killed", None)
    assert row["prompt_chars"] == len("a long task")
    assert any(r.startswith("killed: the shim (pid ") for r in json.loads(row["reasons"]))
    # Usage from claude's own transcript, priced like any harvested call.
    assert (row["input_tokens"], row["output_tokens"], row["usage_source"]) == \
        (1000, 2000, "harvest")
    assert row["cost_usd"] > 0
    # Nothing waits any more, and a second ingestion adds nothing.
    assert ingest.ingest(conn) == 0
    assert len(_rows(conn)) == 1
    conn.close()


def _start_line(invocation_id, started_at, pid):
    decision = make_decision()
    line = record.make_start(decision, {}, invocation_id=invocation_id, attempt=1,
                             cwd="/tmp/w", environ={"HOME": "/nonexistent"}, prompt="hi")
    line["started_at"] = started_at
    line["record"]["started_at"] = started_at
    line["pid"] = pid
    return line


def _dead_pid():
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_start_lines_are_paired_and_only_dead_old_ones_become_killed(monkeypatch):
    monkeypatch.setattr(starts, "KILLED_AFTER", 1.0)
    sleeper = subprocess.Popen(["sleep", "30"])  # a shim still running its call
    try:
        time.sleep(0.3)
        began = time.time()
        time.sleep(1.2)
        now = time.time()
        host = os.uname().nodename
        ended = _start_line("a" * 32, now - 600, _dead_pid())
        alive = _start_line("b" * 32, began, sleeper.pid)
        young = _start_line("c" * 32, now - 0.1, _dead_pid())
        dead = _start_line("d" * 32, now - 600, _dead_pid())
        in_db = _start_line("e" * 32, now - 600, _dead_pid())
        reused = _start_line("g" * 32, now - 600, sleeper.pid)  # that pid started after it
        killed, pending = starts.resolve(
            [ended, alive, young, dead, in_db, dict(dead), reused], {("a" * 32, 1)},
            lambda keys: {k for k in keys if k[0] == "e" * 32}, now=now, host=host)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert [r["invocation_id"] for r in killed] == ["d" * 32, "g" * 32]
    assert killed[0]["failure_class"] == "killed" and killed[0]["ended_at"] == now
    assert sorted(p["invocation_id"] for p in pending) == ["b" * 32, "c" * 32]
    # A database that cannot be read kills nothing: every line waits.
    killed, pending = starts.resolve([dead], set(), lambda keys: None, now=now, host=host)
    assert killed == [] and len(pending) == 1


def test_a_late_end_record_replaces_the_killed_row(monkeypatch):
    monkeypatch.setattr(starts, "KILLED_AFTER", 0.0)
    line = _start_line("f" * 32, time.time() - 5, _dead_pid())
    assert spool.append(line)
    conn = store.connect()
    assert ingest.ingest(conn) == 1
    assert [r["failure_class"] for r in _rows(conn)] == ["killed"]
    end = dict(line["record"], failure_class=None, exit_code=0, ended_at=time.time())
    assert spool.append(end)
    assert ingest.ingest(conn) == 1
    (row,) = _rows(conn)
    assert (row["failure_class"], row["exit_code"]) == (None, 0)
    conn.close()


def test_every_call_through_the_proxy_writes_a_start_line_before_its_end(
        tmp_path, fake_cli, isolated_env):
    fake_cli("claude")
    shims = tmp_path / "shims"
    shims.mkdir()
    write_launcher(shims / "claude")
    env = dict(os.environ, PATH=os.pathsep.join([str(shims), str(fake_cli.bin_dir), "/usr/bin",
                                                 "/bin"]))
    assert subprocess.run(["claude", "-p", "hi"], env=env, timeout=60).returncode == 0
    lines = (isolated_env["shim_home"] / "spool" / spool.SPOOL_NAME).read_bytes().splitlines()
    kinds = [ingest._literal(raw).get("kind") for raw in lines]
    assert kinds == ["start", None]
    conn = store.connect()
    assert ingest.ingest(conn) == 1
    assert [r["failure_class"] for r in _rows(conn)] == [None]
    assert not (isolated_env["shim_home"] / "spool" / starts.PENDING_NAME).exists()
    conn.close()


@pytest.mark.parametrize("privacy", ["off"])
def test_a_killed_call_with_telemetry_off_still_counts_for_budgets(privacy, monkeypatch):
    monkeypatch.setattr(starts, "KILLED_AFTER", 0.0)
    cfg = {"policies": {"privacy": privacy}}
    line = record.make_start(make_decision(), cfg, invocation_id="9" * 32, attempt=1,
                             cwd="/tmp/w", environ={"HOME": "/nonexistent"}, prompt="hi")
    line["started_at"] -= 5
    line["pid"] = _dead_pid()
    assert "prompt_hash" not in line["record"]  # a counter: nothing about the prompt
    assert spool.append(line)
    conn = store.connect()
    assert ingest.ingest(conn) == 1
    assert conn.execute("SELECT tool FROM counters").fetchall() == [("claude",)]
    conn.close()


def test_logs_shows_a_killed_call_as_killed_not_none_killed():
    from shim.cli.commands import logs

    row = {"blocked": 0, "failure_class": "killed", "exit_code": None}
    assert logs.outcome(row) == "killed"
    assert logs.outcome(dict(row, failure_class="config", exit_code=3)) == "3 config"
