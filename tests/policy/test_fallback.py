"""Fallback chains end to end: real shims, fake CLIs failing like the real ones."""

import json
import subprocess
import time

import pytest

from tests.support.fakes import CLAUDE_ERRORS

CHAIN = {"policies": {"fallback": {"chains": {"claude": [
    {"tool": "codex", "model": "gpt-5.5"}, {"tool": "llm", "model": "gpt-4o-mini"}]}}}}
PROMPT = "rename the variable x to count in main.py"


@pytest.fixture
def env(shim_env):
    shim_env.install("claude", "codex", "llm")
    shim_env.config(CHAIN)
    return shim_env


def test_claude_rate_limited_falls_back_to_codex_with_the_prompt(env):
    proc = env.run(["claude", "-p", PROMPT], {"FAKE_CLAUDE_MODE": "429"})
    assert proc.returncode == 0, proc.stderr
    # One answer only: claude's error text (held back) never reaches stdout.
    assert proc.stdout == b"answer from codex gpt-5.5\n"
    assert b"llm-shim: fallback: claude failed (rate_limited); trying codex (gpt-5.5)" \
        in proc.stderr
    (codex_call,) = env.calls("codex")
    assert codex_call["argv"][0] == "exec"
    assert PROMPT in codex_call["argv"]
    assert codex_call["argv"][codex_call["argv"].index("-m") + 1] == "gpt-5.5"
    assert env.calls("llm") == []
    rows = env.attempts()
    assert [(r["attempt"], r["tool"], r["failure_class"], r["exit_code"]) for r in rows] == \
        [(1, "claude", "rate_limited", 1), (2, "codex", None, 0)]
    assert len({r["invocation_id"] for r in rows}) == 1
    assert "fallback 1: codex (gpt-5.5) after rate_limited on claude" in \
        json.loads(rows[1]["reasons"])


def test_chain_goes_on_until_one_answers(env):
    proc = env.run(["claude", "-p", PROMPT], {"FAKE_CLAUDE_MODE": "529",
                                             "FAKE_CODEX_MODE": "drop"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b"answer from llm gpt-4o-mini\n"
    rows = env.attempts()
    assert [(r["tool"], r["failure_class"]) for r in rows] == \
        [("claude", "overloaded"), ("codex", "network"), ("llm", None)]


def test_every_entry_failing_gives_the_last_answer_and_its_exit_code(env):
    proc = env.run(["claude", "-p", PROMPT], {"FAKE_CLAUDE_MODE": "529",
                                             "FAKE_CODEX_MODE": "500",
                                             "FAKE_LLM_MODE": "429"})
    assert proc.returncode == 1
    assert proc.stdout == b""  # llm prints its error on stderr, like the real one
    assert b"Error: Error code: 429" in proc.stderr
    assert [r["failure_class"] for r in env.attempts()] == \
        ["overloaded", "overloaded", "rate_limited"]


def test_a_class_that_is_not_a_trigger_keeps_the_first_answer(env):
    proc = env.run(["claude", "-p", PROMPT], {"FAKE_CLAUDE_MODE": "401"})
    assert proc.returncode == 1
    assert proc.stdout.decode().startswith(CLAUDE_ERRORS["401"][1])
    assert env.calls("codex") == []
    assert [r["failure_class"] for r in env.attempts()] == ["auth"]


def test_triggers_are_configurable(env):
    env.config({"policies": {"fallback": {"triggers": ["auth"], "chains": CHAIN["policies"][
        "fallback"]["chains"]}}})
    proc = env.run(["claude", "-p", PROMPT], {"FAKE_CLAUDE_MODE": "401"})
    assert proc.returncode == 0 and proc.stdout == b"answer from codex gpt-5.5\n"
    proc = env.run(["claude", "-p", PROMPT], {"FAKE_CLAUDE_MODE": "429"})
    assert proc.returncode == 1 and b"Request rejected (429)" in proc.stdout


def test_success_needs_no_fallback_and_streams_nothing_twice(env):
    proc = env.run(["claude", "-p", PROMPT])
    assert proc.returncode == 0
    assert proc.stdout == b"answer from claude\n"
    assert env.calls("codex") == [] and proc.stderr == b""
    assert [r["attempt"] for r in env.attempts()] == [1]


def test_missing_binary_moves_on(env):
    (env.fake_cli.bin_dir / "codex").unlink()
    proc = env.run(["claude", "-p", PROMPT], {"FAKE_CLAUDE_MODE": "429"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b"answer from llm gpt-4o-mini\n"
    assert b"codex (gpt-5.5) is not installed; trying the next entry" in proc.stderr
    assert [(r["tool"], r["failure_class"]) for r in env.attempts()] == \
        [("claude", "rate_limited"), ("codex", "binary_missing"), ("llm", None)]


def test_max_attempts(env):
    env.config({"policies": {"fallback": {"max_attempts": 2, "chains": CHAIN["policies"][
        "fallback"]["chains"]}}})
    proc = env.run(["claude", "-p", PROMPT], {"FAKE_CLAUDE_MODE": "429",
                                             "FAKE_CODEX_MODE": "429"})
    assert proc.returncode == 1
    # The second attempt was the last possible one: its output was not held back.
    assert b"exceeded retry limit, last status: 429" in proc.stderr
    assert env.calls("llm") == []
    assert len(env.attempts()) == 2


def test_json_output_falls_back_within_claude_and_prints_one_result(env):
    env.config({"policies": {"fallback": {"chains": {"claude": [
        {"tool": "codex", "model": "gpt-5.5"}, {"tool": "claude", "model": "haiku"}]}}}})
    proc = env.run(["claude", "-p", PROMPT, "--output-format", "json"],
                   {"FAKE_CLAUDE_MODE": "1*529"})
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.decode().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert result["is_error"] is False
    assert result["result"] == "answer from claude claude-haiku-4-5-20251001"
    rows = env.attempts()
    assert [(r["tool"], r["model"], r["failure_class"]) for r in rows] == [
        ("claude", None, "overloaded"),  # the error result names no model
        ("claude", "claude-haiku-4-5-20251001", None)]
    assert rows[1]["cost_usd"] == pytest.approx(0.10)  # read from the held JSON via the tap
    # codex cannot print claude's JSON faithfully: routing left it out of the chain.
    assert env.calls("codex") == []


def test_interactive_sessions_never_fall_back(env):
    proc = env.run(["claude"], {"FAKE_CLAUDE_MODE": "429"})
    assert proc.returncode == 1
    assert env.calls("codex") == []


@pytest.mark.parametrize("mode, expected", [
    ("429", "rate_limited"), ("529", "overloaded"), ("401", "auth"), ("drop", "network"),
    ("timeout", "timeout"), ("context", "context_too_long"), ("quota", "quota"),
])
def test_each_failure_class_is_recorded(shim_env, mode, expected):
    shim_env.install("claude", "codex")
    shim_env.config({"policies": {"fallback": {"triggers": [], "chains": {"claude": [
        {"tool": "codex", "model": "gpt-5.5"}]}}}})
    proc = shim_env.run(["claude", "-p", PROMPT], {"FAKE_CLAUDE_MODE": mode})
    assert proc.returncode == 1
    (row,) = shim_env.attempts()
    assert row["failure_class"] == expected


@pytest.mark.parametrize("mode, expected", [("429", "rate_limited"), ("401", "auth"),
                                            ("idle", "timeout"), ("missing_key", "auth")])
def test_codex_failures_are_classified_from_stderr(shim_env, mode, expected):
    shim_env.install("codex", "llm")
    shim_env.config({"policies": {"fallback": {"triggers": [], "chains": {"codex": [
        {"tool": "llm", "model": "gpt-4o-mini"}]}}}})
    proc = shim_env.run(["codex", "exec", PROMPT], {"FAKE_CODEX_MODE": mode})
    assert proc.returncode == 1
    (row,) = shim_env.attempts()
    assert row["failure_class"] == expected


def test_plain_call_without_chain_still_records_the_json_failure_class(shim_env):
    shim_env.install("claude")
    proc = shim_env.run(["claude", "-p", PROMPT, "--output-format", "json"],
                        {"FAKE_CLAUDE_MODE": "529"})
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["api_error_status"] == 529
    (row,) = shim_env.attempts()
    assert row["failure_class"] == "overloaded"


@pytest.mark.parametrize("how", ["pipe", "file"])
def test_the_fallback_gets_the_same_stdin(env, tmp_path, how):
    data = "diff --git a/main.py b/main.py\n" + "+x = 1\n" * 20000
    extra = {"FAKE_CLAUDE_MODE": "429", "FAKE_READ_STDIN": "1"}
    argv = ["claude", "-p", "review this diff"]
    if how == "pipe":
        proc = subprocess.run(argv, env=env.env(extra), input=data.encode(),
                              capture_output=True, timeout=60)
    else:
        path = tmp_path / "diff.txt"
        path.write_text(data)
        with open(path, "rb") as fh:
            proc = subprocess.run(argv, env=env.env(extra), stdin=fh, capture_output=True,
                                  timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b"answer from codex gpt-5.5\n"
    assert env.calls("claude")[0]["stdin"] == data
    assert env.calls("codex")[0]["stdin"] == data


def test_a_silent_stdin_pipe_costs_no_wait_and_late_data_still_reaches_both(env, tmp_path):
    """An agent's Popen(stdin=PIPE) that writes only after the call started: the first
    attempt starts at once (no up-front wait for data), and both attempts read all of it."""
    marker = tmp_path / "started"
    extra = {"FAKE_CLAUDE_MODE": "429", "FAKE_READ_STDIN": "1", "FAKE_STARTED": str(marker)}
    proc = subprocess.Popen(["claude", "-p", "review this diff"], env=env.env(extra),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    started = tmp_path / "started.claude"
    deadline = time.monotonic() + 2.5  # the old up-front wait for data was 3 s
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert started.exists(), "the first attempt waited for stdin data"
    out, err = proc.communicate(input=b"late data\n" * 1000, timeout=60)
    assert proc.returncode == 0, err
    assert out == b"answer from codex gpt-5.5\n"
    assert env.calls("claude")[0]["stdin"] == "late data\n" * 1000
    assert env.calls("codex")[0]["stdin"] == "late data\n" * 1000


def test_the_chains_deadline_stops_a_running_attempt(shim_env):
    """deadline_seconds bounds the whole chain: an attempt still running then is stopped
    (SIGTERM), classed timeout, and no further entry starts."""
    shim_env.install("claude", "codex")
    shim_env.config({"policies": {"fallback": {"deadline_seconds": 1, "chains": {
        "claude": [{"tool": "codex", "model": "gpt-5.5"}]}}}})
    started = time.monotonic()
    proc = shim_env.run(["claude", "-p", PROMPT], {"FAKE_CLAUDE_SLEEP": "30"})
    elapsed = time.monotonic() - started
    assert elapsed < 20, elapsed
    assert proc.returncode == 128 + 15
    assert proc.stderr.decode().splitlines() == [
        "llm-shim: fallback: claude stopped: the chain's deadline of 1 s "
        "(policies.fallback.deadline_seconds) passed"]
    assert shim_env.calls("codex") == []
    (row,) = shim_env.attempts()
    assert (row["failure_class"], row["exit_code"]) == ("timeout", 143)
