"""A call that falls open on our own error is still recorded (issue 15, deliverable 4)."""

import json
import os
import sqlite3
import subprocess

from shim.telemetry import ingest, store


def _rows():
    conn = store.connect()
    try:
        ingest.ingest(conn)
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT * FROM attempts ORDER BY started_at")]
    finally:
        conn.close()


def test_a_call_that_falls_open_on_a_config_error_is_recorded(shims, fake_cli, isolated_env):
    fake = fake_cli("claude")
    isolated_env["shim_home"].mkdir(parents=True, exist_ok=True)
    (isolated_env["shim_home"] / "config.yaml").write_text("policies: {budgets: [\n")
    env = dict(os.environ, PATH=os.pathsep.join([str(shims), str(fake_cli.bin_dir),
                                                 "/usr/bin", "/bin"]), FAKE_EXIT="3")
    proc = subprocess.run(["claude", "-p", "hello there"], env=env, capture_output=True,
                          timeout=60)
    assert proc.returncode == 3  # the tool's own exit code, untouched
    assert b"running the real claude unchanged" in proc.stderr
    assert len(fake.calls()) == 1
    (row,) = _rows()
    assert (row["tool"], row["agent"], row["mode"], row["exit_code"], row["failure_class"]) == \
        ("claude", None, "oneshot", 3, "config")
    assert row["duration_ms"] is not None and row["duration_ms"] >= 0
    (reason,) = json.loads(row["reasons"])
    assert reason.startswith("fail open (config): config: ")
    assert reason.endswith("; ran claude unchanged with 2 argument(s)")
    assert row["prompt_chars"] == len("hello there") and row["prompt_text"] is None


def test_an_internal_error_falls_open_and_is_recorded(fake_cli, isolated_env, monkeypatch):
    from shim import proxy

    fake_cli("claude")
    monkeypatch.setenv("PATH", os.pathsep.join([str(fake_cli.bin_dir), "/usr/bin", "/bin"]))

    def broken(*args, **kwargs):
        raise RuntimeError("a bug of ours")

    monkeypatch.setattr(proxy, "plan_call", broken)
    assert proxy.main("claude", ["-p", "hi"]) == 0
    (row,) = _rows()
    assert (row["failure_class"], row["exit_code"]) == ("internal", 0)
    assert json.loads(row["reasons"])[0].startswith(
        "fail open (internal): internal error: RuntimeError: a bug of ours")


def test_a_pure_pass_through_stays_unrecorded(shims, fake_cli, isolated_env):
    fake_cli("claude")
    env = dict(os.environ, PATH=os.pathsep.join([str(shims), str(fake_cli.bin_dir),
                                                 "/usr/bin", "/bin"]), LLM_SHIM_DISABLE="1")
    assert subprocess.run(["claude", "-p", "hi"], env=env, timeout=60).returncode == 0
    assert _rows() == []


FAKE_CLAUDE_WITH_TRANSCRIPT = r'''#!{python}
import json, os, sys, time
cwd = os.getcwd()
name = "".join(c if c.isalnum() else "-" for c in cwd)
folder = os.path.join(os.environ["CLAUDE_CONFIG_DIR"], "projects", name)
os.makedirs(folder, exist_ok=True)
sid = "0b9e2c1a-5d6f-4e3a-9b8c-7d6e5f4a3b2c"
stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".%03dZ" % (time.time() % 1 * 1000)
line = {{"type": "assistant", "requestId": "req_1", "sessionId": sid, "timestamp": stamp,
        "cwd": cwd, "version": "2.1.197",
        "message": {{"id": "msg_1", "model": "claude-sonnet-4-5", "role": "assistant",
                    "content": [{{"type": "text", "text": "hi"}}],
                    "usage": {{"input_tokens": 1000, "output_tokens": 500,
                              "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}}}}}
with open(os.path.join(folder, sid + ".jsonl"), "a") as fh:
    fh.write(json.dumps(line) + "\n")
time.sleep(0.2)
print("hi")
'''


def test_a_fail_open_call_gets_its_usage_and_cost_from_the_tools_own_logs(
        shims, fake_cli, isolated_env, tmp_path):
    """The fail-open record carries the harvest hint (tool, cwd, config dirs), so ingestion
    fills tokens and cost from claude's transcript: its spend does not disappear."""
    import sys

    fake_cli("claude", FAKE_CLAUDE_WITH_TRANSCRIPT.format(python=sys.executable))
    isolated_env["shim_home"].mkdir(parents=True, exist_ok=True)
    (isolated_env["shim_home"] / "config.yaml").write_text("policies: {budgets: {x: null}}\n")
    work = tmp_path / "work"
    work.mkdir()
    env = dict(os.environ, PATH=os.pathsep.join([str(shims), str(fake_cli.bin_dir),
                                                 "/usr/bin", "/bin"]),
               CLAUDE_CONFIG_DIR=str(tmp_path / "claude-config"))
    proc = subprocess.run(["claude", "-p", "hello there"], env=env, capture_output=True,
                          cwd=work, timeout=60)
    assert proc.returncode == 0, proc.stderr
    (row,) = _rows()
    assert row["failure_class"] == "config"
    assert (row["input_tokens"], row["output_tokens"], row["model"]) == \
        (1000, 500, "claude-sonnet-4-5"), row
    assert row["usage_source"] == "harvest"
    assert row["cost_usd"] is not None and row["cost_usd"] > 0
