"""The learned grammar through real shim processes: subcommands stay untouched under a pinned
agent, a learned table is read on the hot path without starting anything, and a changed
binary is relearned once, in the background."""

import json
import os
import time

import pytest

from shim import paths
from shim.adapters import claude, codex, learned
from shim.telemetry import ingest, store

PINNED = "agents:\n  pinned: {model: sonnet}\n  pinned-codex: {model: gpt-5-mini}\n"
NEW_CLAUDE = ("attach", "gateway", "import", "kill", "logs", "project", "purge", "respawn", "rm",
              "stop", "ultrareview")


@pytest.fixture
def pinned_config(isolated_env):
    directory = paths.config_dir()
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "config.yaml"), "w") as fh:
        fh.write(PINNED)


def _argv(fake):
    return [c["argv_text"] for c in fake.calls()]


@pytest.mark.parametrize("sub", sorted(claude.SUBCOMMANDS))
def test_pinned_agent_claude_subcommand_untouched(run_shim, shims, fake_cli, pinned_config, sub):
    fake = fake_cli("claude")
    proc = run_shim([str(shims / "claude"), sub, "arg"], env={"LLM_SHIM_AGENT": "pinned"})
    assert proc.returncode == 0, proc.stderr
    assert _argv(fake) == [[sub, "arg"]]


@pytest.mark.parametrize("args", [[sub] for sub in sorted(codex.META_COMMANDS)]
                         + [["exec", "fork", "abc"], ["exec", "review"]])
def test_pinned_agent_codex_subcommand_untouched(run_shim, shims, fake_cli, pinned_config, args):
    fake = fake_cli("codex")
    proc = run_shim([str(shims / "codex")] + args, env={"LLM_SHIM_AGENT": "pinned-codex"})
    assert proc.returncode == 0, proc.stderr
    assert _argv(fake) == [args]


SESSION_CALLS = [
    ("codex", ["resume", "--last"], "resume"), ("codex", ["fork", "--last"], "fork"),
    ("codex", ["exec", "resume", "--last"], "resume"),
    ("codex", ["exec", "resume", "--last", "go on"], "resume"), ("codex", ["review"], None),
    ("claude", ["--resume", "abc"], "resume"), ("claude", ["-c"], "resume"),
    ("claude", ["--continue", "-p", "go on"], "resume"), ("claude", ["--from-pr", "12"], "resume"),
    ("claude", ["--teleport"], "remote session"), ("claude", ["--cloud"], "remote session"),
    ("claude", ["--desktop", "-c"], "remote session"),
]


@pytest.mark.parametrize("tool, args, why", SESSION_CALLS)
def test_pinned_agent_session_call_untouched_and_recorded(run_shim, shims, fake_cli,
                                                          pinned_config, tool, args, why):
    fake = fake_cli(tool)
    agent = "pinned" if tool == "claude" else "pinned-codex"
    proc = run_shim([str(shims / tool)] + args, env={"LLM_SHIM_AGENT": agent})
    assert proc.returncode == 0, proc.stderr
    assert _argv(fake) == [args]
    if why is None:
        return
    conn = store.connect()
    try:
        ingest.ingest(conn)
        (reasons,) = conn.execute("SELECT reasons FROM attempts").fetchone()
    finally:
        conn.close()
    assert "%s: passed through untouched" % why in json.loads(reasons)


def test_pinned_agent_still_sets_the_model_of_a_prompt(run_shim, shims, fake_cli, pinned_config):
    fake = fake_cli("claude")
    run_shim([str(shims / "claude"), "-p", "hi", "--restricted"], env={"LLM_SHIM_AGENT": "pinned"})
    assert _argv(fake) == [["--model", "claude-sonnet-5", "-p", "hi", "--restricted"]]


def _store(fake, flags=None, subcommands=()):
    key = learned.identity(str(fake.path))
    table = {"tool": "claude", "key": key, "version": "9.9.9", "learned_at": time.time(),
             "commands": {"": {"flags": dict(flags or {}), "subcommands": list(subcommands)}}}
    assert learned.write(learned.cache_file("claude", key[0]), table)
    return key


def test_learned_table_is_used_and_nothing_is_started_on_a_hit(
        run_shim, shims, fake_cli, pinned_config, monkeypatch):
    monkeypatch.delenv("LLM_SHIM_LEARN")  # the real default: relearn when needed
    fake = fake_cli("claude")
    key = _store(fake, {"--brandnew": 1}, ["brandsub"])
    env = {"LLM_SHIM_AGENT": "pinned"}
    run_shim([str(shims / "claude"), "-p", "hi", "--brandnew", "v"], env=env)
    run_shim([str(shims / "claude"), "brandsub"], env=env)
    time.sleep(1.0)  # a relearn would have run the fake with --version by now
    assert _argv(fake) == [["--model", "claude-sonnet-5", "-p", "hi", "--brandnew", "v"],
                           ["brandsub"]]
    assert not os.path.exists(learned.lock_file("claude", str(fake.path)))
    assert learned.lookup("claude", str(fake.path))[0]["key"] == key


FAKE_WITH_HELP = r'''#!{python} -S
import json, os, sys
with open({record!r}, "a") as fh:
    fh.write(json.dumps({{"argv_text": sys.argv[1:], "argv": []}}) + "\n")
if sys.argv[1:] == ["--version"]:
    print("9.9.10 (Claude Code)")
elif sys.argv[1:] == ["--help"]:
    print("Options:\n  -p, --print  Print\n  --fresh <x>  New\n\nCommands:\n  freshsub  New\n")
'''


def test_a_changed_binary_is_relearned_once_in_the_background(
        run_shim, shims, fake_cli, pinned_config, monkeypatch, tmp_path):
    import sys

    monkeypatch.delenv("LLM_SHIM_LEARN")
    record = tmp_path / "claude.calls.jsonl"
    fake = fake_cli("claude", FAKE_WITH_HELP.format(python=sys.executable, record=str(record)))
    old = _store(fake)
    os.utime(fake.path, ns=(time.time_ns(), old[2] + 5 * 10**9))  # "upgraded"
    env = {"LLM_SHIM_AGENT": "pinned"}
    for _ in range(3):
        run_shim([str(shims / "claude"), "freshsub"], env=env)
    deadline = time.time() + 30
    while time.time() < deadline:
        table, status = learned.lookup("claude", str(fake.path))
        if status == "hit" and not os.path.exists(learned.lock_file("claude", str(fake.path))):
            break
        time.sleep(0.2)
    assert status == "hit" and table["version"] == "9.9.10"
    calls = _argv(fake)
    assert calls.count(["--version"]) == 1 and calls.count(["--help"]) == 1, calls
    # The first call was parsed before any relearn: `freshsub` was a prompt. Now it is a
    # subcommand, left untouched. (The learner's own runs may interleave with the calls.)
    run_shim([str(shims / "claude"), "freshsub"], env=env)
    user_calls = [c for c in _argv(fake) if c not in (["--version"], ["--help"])]
    assert user_calls[0] == ["--model", "claude-sonnet-5", "freshsub"]
    assert user_calls[-1] == ["freshsub"] and len(user_calls) == 4


def test_a_dry_run_starts_no_relearn(run_shim, shims, fake_cli, monkeypatch):
    monkeypatch.delenv("LLM_SHIM_LEARN")
    fake = fake_cli("claude")  # no table learned yet: a real call would start the learner
    proc = run_shim([str(shims / "claude"), "-p", "hi"], env={"LLM_SHIM_DRY_RUN": "1"})
    assert proc.returncode == 0, proc.stderr
    time.sleep(1.0)
    assert fake.calls() == []
    assert not os.path.exists(learned.lock_file("claude", str(fake.path)))
