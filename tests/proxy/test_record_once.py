"""A call reads its git state and hashes its prompt once, for its start line and its record
alike (attempt.record_memo), on the plain path and through the policy gate."""

import ast
import json
import os

import pytest

from shim import proxy
from shim.telemetry import record, spool


@pytest.fixture
def counted(monkeypatch, fake_cli, tmp_path):
    fake_cli("claude")
    monkeypatch.setenv("PATH", os.pathsep.join([str(fake_cli.bin_dir), "/usr/bin", "/bin"]))
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/feat/x\n")
    monkeypatch.chdir(repo)
    calls = {"git": 0, "hash": 0}
    real_git, real_hash = record.git_state, record.salted_hash

    def git_state(cwd):
        calls["git"] += 1
        return real_git(cwd)

    def salted_hash(text):
        calls["hash"] += 1
        return real_hash(text)

    monkeypatch.setattr(record, "git_state", git_state)
    monkeypatch.setattr(record, "salted_hash", salted_hash)
    return calls


def spool_lines():
    with open(spool.spool_file(), encoding="utf-8") as fh:
        return [ast.literal_eval(line) for line in fh]


def check_one_call(calls):
    lines = spool_lines()
    start = next(x["record"] for x in lines if x.get("kind") == "start")
    end = next(x for x in lines if x.get("kind") is None)
    assert start["git_branch"] == end["git_branch"] == "feat/x"
    assert start["prompt_hash"] == end["prompt_hash"] is not None
    assert calls == {"git": 1, "hash": 1}


def test_a_plain_call(counted):
    assert proxy.main("claude", ["-p", "hello"]) == 0
    check_one_call(counted)


def test_a_gated_call(counted, isolated_env):
    isolated_env["shim_home"].mkdir(exist_ok=True)
    (isolated_env["shim_home"] / "config.yaml").write_text(json.dumps({"policies": {
        "budgets": {"b": {"scope": "global", "period": "day",
                          "limit": {"usd": 100.0, "type": "hard"}, "reserve_usd": 0.01}},
        "rate_limits": {"r": {"scope": "global", "calls_per_minute": 1000}}}}))
    assert proxy.main("claude", ["-p", "hello"]) == 0
    check_one_call(counted)


def test_two_calls_in_one_process_each_read_their_own_state(counted, tmp_path):
    assert proxy.main("claude", ["-p", "hello"]) == 0
    (tmp_path / "repo" / ".git" / "HEAD").write_text("ref: refs/heads/other\n")
    assert proxy.main("claude", ["-p", "bye"]) == 0
    ends = [x for x in spool_lines() if x.get("kind") is None]
    assert [e["git_branch"] for e in ends] == ["feat/x", "other"]
    assert counted == {"git": 2, "hash": 2}
