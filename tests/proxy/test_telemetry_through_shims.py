"""Telemetry as the shims write it: concurrent calls lose nothing, and prompts stay private."""

import os
import sqlite3
import subprocess
import sys

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
    assert spooled.count(b"prompt_chars") == 2
    conn = store.connect()
    assert ingest.ingest(conn) == 2
    conn.close()
    files = [p for p in isolated_env["shim_home"].rglob("*") if p.is_file()]
    assert any(p.name == "telemetry.db" for p in files)
    for path in files:
        assert marker.encode() not in path.read_bytes(), f"prompt text found in {path}"
