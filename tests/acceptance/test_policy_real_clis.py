"""The policy engine in front of the REAL claude, codex and llm (acceptance: loopback stub in a
private network namespace, docs/acceptance.md). Proves that failures are classified from what
the real CLIs print, and that a fallback chain gives exactly one answer."""

import json
import os
import subprocess

import pytest
import yaml

from tests.support.launchers import write_launcher

pytestmark = pytest.mark.acceptance
REPLY = "Hello from stub."


@pytest.fixture
def shims(real_env, tmp_path):
    directory = tmp_path / "shims"
    directory.mkdir()
    for name in ("claude", "codex", "llm"):
        write_launcher(directory / name)
    # codex exec refuses to run outside a git repository without --skip-git-repo-check.
    subprocess.run(["git", "init", "-q", str(real_env.work_dir)], check=True,
                   capture_output=True)
    return directory


def configure(real_env, data):
    real_env.shim_home.mkdir(parents=True, exist_ok=True)
    (real_env.shim_home / "config.yaml").write_text(yaml.safe_dump(data))


def attempts(real_env):
    assert os.environ["LLM_SHIM_HOME"] == str(real_env.shim_home)
    from shim.telemetry import ingest, store

    conn = store.connect()
    try:
        ingest.ingest(conn)
        return [dict(zip([d[0] for d in cur.description], row))
                for cur in [conn.execute("SELECT * FROM attempts ORDER BY started_at, attempt")]
                for row in cur]
    finally:
        conn.close()


NO_FALLBACK = {"policies": {"fallback": {"triggers": [], "chains": {
    "claude": [{"tool": "claude", "model": "haiku"}],
    "codex": [{"tool": "codex", "model": "gpt-5.5"}]}}}}


@pytest.mark.parametrize("mode, expected", [
    ("429", "rate_limited"), ("529", "overloaded"), ("401", "auth"), ("403", "auth"),
    ("drop", "network"),
])
def test_real_claude_failures_are_classified(real_env, stub, shims, mode, expected):
    configure(real_env, NO_FALLBACK)
    stub.set_mode(mode)
    for argv in (["claude", "-p", "say hi", "--output-format", "json"], ["claude", "-p", "say hi"]):
        result = real_env.run(argv, path_prefix=[shims])
        assert result.returncode == 1, result.stderr
    assert [r["failure_class"] for r in attempts(real_env)] == [expected, expected]


@pytest.mark.parametrize("mode, expected", [
    ("429", "rate_limited"), ("401", "auth"), ("500", "overloaded"), ("503", "overloaded"),
    ("drop", "network"),
])
def test_real_codex_failures_are_classified(real_env, stub, shims, mode, expected):
    configure(real_env, NO_FALLBACK)
    stub.set_mode(mode)
    for argv in (["codex", "exec", "--json", "say hi"], ["codex", "exec", "say hi"]):
        result = real_env.run(argv, path_prefix=[shims])
        assert result.returncode == 1, result.stderr
    assert [r["failure_class"] for r in attempts(real_env)] == [expected, expected]


@pytest.mark.parametrize("mode, expected", [("401", "auth"), ("drop", "network"),
                                            ("429", "rate_limited")])
def test_real_llm_failures_are_classified(real_env, stub, shims, mode, expected):
    configure(real_env, {"policies": {"fallback": {"triggers": [], "chains": {
        "llm": [{"tool": "llm", "model": "gpt-4o"}]}}}})
    stub.set_mode(mode)
    result = real_env.run(["llm", "-m", "gpt-4o-mini", "say hi"], path_prefix=[shims])
    assert result.returncode == 1, result.stderr
    assert [r["failure_class"] for r in attempts(real_env)] == [expected]


def test_real_claude_rate_limited_falls_back_to_real_codex(real_env, stub, shims):
    configure(real_env, {"policies": {"fallback": {"chains": {"claude": [
        {"tool": "codex", "model": "gpt-5.5"}]}}}})
    stub.set_mode("429", api="anthropic")
    result = real_env.run(["claude", "-p", "rename x to count"], path_prefix=[shims])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == REPLY
    assert result.stdout.count(REPLY) == 1
    assert "llm-shim: fallback: claude failed (rate_limited); trying codex (gpt-5.5)" \
        in result.stderr
    calls = stub.requests(model_calls=True)
    assert [(c["api"], c["status"]) for c in calls] == [("anthropic", 429), ("responses", 200)]
    assert calls[1]["model"] == "gpt-5.5"
    assert "rename x to count" in calls[1]["prompt"]
    rows = attempts(real_env)
    assert [(r["tool"], r["failure_class"]) for r in rows] == [("claude", "rate_limited"),
                                                                ("codex", None)]


def test_real_claude_json_overloaded_falls_back_to_haiku_with_one_result(real_env, stub, shims):
    configure(real_env, {"policies": {"fallback": {"chains": {"claude": [
        {"tool": "claude", "model": "haiku"}]}}}})
    stub.set_mode("1*529")
    result = real_env.run(["claude", "-p", "say hi", "--output-format", "json"],
                          path_prefix=[shims])
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.strip().splitlines()
    out = json.loads(line)
    assert (out["is_error"], out["result"]) == (False, REPLY)
    calls = stub.requests(model_calls=True)
    # claude 2.1.332 with no --model asks for its default, claude-opus-5-5
    assert [(c["model"], c["status"]) for c in calls] == [
        ("claude-opus-5-5", 529), ("claude-haiku-4-5-20251001", 200)]
    rows = attempts(real_env)
    assert [r["failure_class"] for r in rows] == ["overloaded", None]
    assert rows[1]["cost_usd"] and rows[1]["cost_usd"] > 0
