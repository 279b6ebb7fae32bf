"""Telemetry as the shims write it: concurrent calls lose nothing, and prompts stay private."""

import os
import sqlite3
import subprocess

import pytest

from shim.telemetry import ingest, store


@pytest.mark.slow
def test_16_processes_times_50_calls_give_exactly_800_rows(shims, fake_cli, isolated_env):
    fake_cli("claude", script="#!/bin/sh\nexit 0\n")
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(shims), str(fake_cli.bin_dir), "/usr/bin", "/bin"])
    loop = "for i in $(seq 50); do claude -p \"call $i\" || echo FAILED $i >&2; done"
    procs = [subprocess.Popen(["sh", "-c", loop], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for _ in range(16)]
    # A reader ingesting while the shims write must neither duplicate nor drop a row.
    conn = store.connect()
    while any(p.poll() is None for p in procs):
        ingest.ingest(conn)
    outputs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert all(err == b"" for _, err in outputs), [e for _, e in outputs if e][:1]
    ingest.ingest(conn)
    rows = conn.execute("SELECT count(*), count(DISTINCT invocation_id) FROM attempts").fetchone()
    assert rows == (800, 800)


def test_metadata_privacy_keeps_the_prompt_out_of_every_file(shims, fake_cli, isolated_env):
    fake_cli("claude")
    marker = "zebra-quartz-7781 secret prompt text"
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(shims), str(fake_cli.bin_dir), "/usr/bin", "/bin"])
    for agent in ("default", "auto"):
        proc = subprocess.run(["claude", "-p", marker], env=dict(env, LLM_SHIM_AGENT=agent),
                              capture_output=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
    spooled = (isolated_env["shim_home"] / "spool" / "spool.log").read_bytes()
    assert spooled.count(b"prompt_chars") == 4  # per call: its start line and its end record
    conn = store.connect()
    assert ingest.ingest(conn) == 2
    conn.close()
    files = [p for p in isolated_env["shim_home"].rglob("*") if p.is_file()]
    assert any(p.name == "telemetry.db" for p in files)
    for path in files:
        assert marker.encode() not in path.read_bytes(), f"prompt text found in {path}"


def _shim_env(shims, fake_cli):
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(shims), str(fake_cli.bin_dir), "/usr/bin", "/bin"])
    return env


def _rows(table="attempts"):
    conn = store.connect()
    try:
        ingest.ingest(conn)
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(f"SELECT * FROM {table} ORDER BY started_at")]
    finally:
        conn.close()


CLAUDE_JSON_ANSWER = ('{"type":"result","subtype":"success","is_error":false,'
                      '"result":"the answer text","session_id":"s-1","total_cost_usd":0.001,'
                      '"usage":{"input_tokens":3,"output_tokens":4},"modelUsage":{}}\n')


def test_every_call_through_a_shim_has_its_prompt_hash(shims, fake_cli, isolated_env):
    fake_cli("claude")
    env = _shim_env(shims, fake_cli)
    for prompt in ("same prompt", "same prompt", "another prompt"):
        assert subprocess.run(["claude", "-p", prompt], env=env, timeout=60).returncode == 0
    rows = _rows()
    hashes = [r["prompt_hash"] for r in rows]
    assert all(hashes) and hashes[0] == hashes[1] != hashes[2]
    assert [r["prompt_chars"] for r in rows] == [11, 11, 14]
    assert all(r["prompt_text"] is None and r["response_text"] is None for r in rows)


def test_privacy_full_stores_the_prompt_and_the_answer(shims, fake_cli, isolated_env):
    fake_cli("claude")
    (isolated_env["shim_home"]).mkdir(parents=True, exist_ok=True)
    (isolated_env["shim_home"] / "config.yaml").write_text("policies: {privacy: full}\n")
    env = dict(_shim_env(shims, fake_cli), FAKE_STDOUT=CLAUDE_JSON_ANSWER)
    proc = subprocess.run(["claude", "-p", "what is the answer", "--output-format", "json"],
                          env=env, capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode() == CLAUDE_JSON_ANSWER  # passed through unchanged
    (row,) = _rows()
    assert (row["prompt_text"], row["response_text"]) == ("what is the answer",
                                                          "the answer text")
    assert row["prompt_hash"]


def test_telemetry_disabled_keeps_only_the_counter_budgets_need(shims, fake_cli, isolated_env):
    fake_cli("claude")
    (isolated_env["shim_home"]).mkdir(parents=True, exist_ok=True)
    (isolated_env["shim_home"] / "config.yaml").write_text("telemetry: {enabled: false}\n")
    env = dict(_shim_env(shims, fake_cli), FAKE_STDOUT=CLAUDE_JSON_ANSWER)
    proc = subprocess.run(["claude", "-p", "hi", "--output-format", "json"], env=env,
                          capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert _rows() == []
    (counter,) = _rows("counters")
    assert (counter["tool"], counter["output_tokens"]) == ("claude", 4)
