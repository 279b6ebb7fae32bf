"""The import stamp (shim.telemetry.importstamp): budget admission skips the import package when
nothing changed in the tools' logs, and sees every kind of change that the import would."""

import json
import os
import subprocess
import sys
import time

import pytest

from shim.telemetry import imports, importstamp, store
from tests.support.transcripts import claude_line

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PAST = time.time() - 100


@pytest.fixture
def logs(tmp_path, monkeypatch):
    claude = tmp_path / "claude"
    codex = tmp_path / "codex"
    (claude / "projects" / "-p" / "s-0" / "subagents").mkdir(parents=True)
    (codex / "sessions" / "2026" / "12" / "06").mkdir(parents=True)
    llm = tmp_path / "llm"
    llm.mkdir()
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))
    monkeypatch.setenv("CODEX_HOME", str(codex))
    monkeypatch.setenv("LLM_USER_PATH", str(llm))
    transcript = claude / "projects" / "-p" / "s-1.jsonl"
    transcript.write_text(claude_line("m1", time.time() - 60, out=3))
    return {"claude": claude, "codex": codex, "llm": llm, "transcript": transcript,
            "tmp": tmp_path}


def backdate(root):
    """Directories last changed a while ago (a fresh one may be racy: no stamp then)."""
    for directory, _dirs, _files in os.walk(root):
        os.utime(directory, (PAST, PAST))


def unchanged():
    conn = store.connect()
    try:
        return importstamp.unchanged(os.environ, conn)
    finally:
        conn.close()


def refresh(bounded=False, **kw):
    conn = store.connect()
    try:
        return imports.refresh(conn, bounded=bounded, **kw)
    finally:
        conn.close()


def append(path, text):
    with open(path, "a") as fh:
        fh.write(text)


CHANGES = {
    "appended": lambda l: append(l["transcript"], claude_line("m2", time.time(), out=4)),
    "new session": lambda l: (l["transcript"].parent / "s-2.jsonl").write_text(
        claude_line("m3", time.time(), out=5, session="s-2")),
    "new project": lambda l: ((l["claude"] / "projects" / "-q").mkdir(),
                              (l["claude"] / "projects" / "-q" / "s-3.jsonl").write_text("")),
    "new subagent": lambda l: (l["transcript"].parent / "s-0" / "subagents" / "a.jsonl")
    .write_text(""),
    "new codex day": lambda l: (
        (l["codex"] / "sessions" / "2026" / "12" / "07").mkdir(),
        (l["codex"] / "sessions" / "2026" / "12" / "07" / "rollout-x.jsonl").write_text("")),
    "codex rollout": lambda l: (l["codex"] / "sessions" / "2026" / "12" / "06"
                                / "rollout-y.jsonl").write_text(""),
    "llm database": lambda l: (l["llm"] / "logs.db").write_bytes(b""),
    "touched": lambda l: os.utime(l["transcript"], (PAST, PAST)),
    "home claude dir": lambda l: (l["tmp"] / "home" / ".claude").mkdir(),
    "new store": lambda l: (os.unlink(store.paths.database_file()),
                            store.connect().close()),
}


def test_a_complete_import_leaves_a_stamp_that_matches_until_something_changes(logs):
    backdate(logs["tmp"])
    assert not unchanged()  # no stamp yet
    summary = refresh()
    assert summary["new"] == 1
    assert unchanged()
    assert refresh()["changed"] == 0  # and the import agrees: nothing to read
    assert unchanged()


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_every_change_the_import_would_see_breaks_the_stamp(logs, change):
    backdate(logs["tmp"])
    refresh()
    assert unchanged()
    CHANGES[change](logs)
    assert not unchanged()


def test_other_roots_break_the_stamp(logs, monkeypatch):
    backdate(logs["tmp"])
    refresh()
    monkeypatch.setenv("CODEX_HOME", str(logs["tmp"] / "elsewhere"))
    assert not unchanged()


def test_no_stamp_when_a_directory_just_changed(logs):
    """A directory changed within the file system's mtime tick could change again unseen."""
    refresh()  # the fixture's directories are brand new
    assert not unchanged()
    backdate(logs["tmp"])
    refresh()
    assert unchanged()


def test_a_slice_that_leaves_work_for_later_leaves_no_stamp(logs, monkeypatch):
    lines = "".join(claude_line(f"m{i}", time.time() - 100 + i, out=1) for i in range(40))
    logs["transcript"].write_text(lines)
    backdate(logs["tmp"])
    refresh()
    assert unchanged()
    append(logs["transcript"], lines.replace('"m', '"n'))
    monkeypatch.setattr(imports, "ADMISSION_BYTES", len(lines) // 4)
    monkeypatch.setattr(imports, "ADMISSION_SECONDS", 60.0)  # the bytes bound the slice
    assert refresh(bounded=True, quiet=True)["remaining"] == 1
    assert not unchanged()
    for _ in range(8):
        refresh(bounded=True, quiet=True)
    assert unchanged()


def test_a_damaged_stamp_is_no_stamp(logs):
    backdate(logs["tmp"])
    refresh()
    with open(importstamp.stamp_file(), "wb") as fh:
        fh.write(b"\x00garbage")
    assert not unchanged()


GATED = r"""
import sys
from shim import adapters
from shim.config import compiled
from shim.policy import engine
from shim.routing import decide
cfg = compiled.load()
request = adapters.parse("claude", ["-p", "hi"], cfg)
gate = engine.admit(decide(request, cfg, "default"), request, cfg, {})
print(gate["blocked"], "shim.telemetry.imports" in sys.modules)
"""


def gated_call(extra=None):
    proc = subprocess.run([sys.executable, "-c", GATED], cwd=REPO, capture_output=True,
                          text=True, env=dict(os.environ, **(extra or {})), timeout=120)
    assert proc.returncode == 0, proc.stderr
    blocked, imported = proc.stdout.split()
    return blocked == "True", imported == "True"


def one_dollar_budget(isolated_env):
    """A hard $1.00 daily budget (reserving $0.01 a call) in the isolated user config."""
    isolated_env["shim_home"].mkdir(exist_ok=True)
    with open(os.path.join(isolated_env["shim_home"], "config.yaml"), "w") as fh:
        json.dump({"policies": {"budgets": {"b": {
            "scope": "global", "period": "day", "limit": {"usd": 1.0, "type": "hard"},
            "reserve_usd": 0.01}}}}, fh)


def test_admission_loads_the_import_package_only_when_a_log_changed(logs, isolated_env):
    one_dollar_budget(isolated_env)
    backdate(logs["tmp"])
    assert gated_call() == (False, True)       # no stamp yet: imports, leaves the stamp
    assert gated_call() == (False, False)      # nothing changed: not even loaded
    assert gated_call({"LLM_SHIM_IMPORT": "off"}) == (False, False)
    # an IDE session appends ~$1.5 of opus output: imported before admission, and counted
    append(logs["transcript"], claude_line("ide", time.time() - 5, out=100000, read=0,
                                           write=0, model="claude-opus-4-1-20250805"))
    assert gated_call() == (True, True)


def test_import_off_is_honoured_before_any_import(logs, isolated_env):
    one_dollar_budget(isolated_env)
    assert gated_call({"LLM_SHIM_IMPORT": "off"}) == (False, False)  # no stamp, still off
    assert not os.path.exists(importstamp.stamp_file())
