"""The hot telemetry modules import nothing heavy, even while recording a call."""

import os
import subprocess
import sys
import textwrap

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEAVY = {"yaml", "tabulate", "psutil", "argparse", "importlib.metadata", "signal", "enum", "re",
         "json", "subprocess", "sqlite3", "dataclasses", "typing", "pathlib", "platformdirs",
         "datetime", "inspect", "logging", "hashlib", "ast", "fnmatch", "glob"}

SCRIPT = textwrap.dedent("""
    import os, sys, time
    sys.path.insert(0, {repo!r})
    from shim.telemetry import record, spool, usage
    cfg = {{"policies": {{"privacy": "metadata", "project": "hash"}},
           "tools": {{"claude": {{"adapter": "claude"}}}}, "agents": {{}}}}
    decision = {{"agent": "default", "tool": "claude", "tool_requested": "claude",
                "mode": "oneshot", "reasons": ["x"], "prompt_chars": 5}}
    use = None
    if {tap!r}:
        tap = usage.tap_for("claude", "json")
        tap.feed(open({sample!r}, "rb").read())
        use = tap.result()
    now = time.time()
    rec = record.make_attempt(decision, {{"exit_code": 0, "started_at": now, "ended_at": now,
                              "usage": use, "prompt_text": "hello"}}, cfg,
                              invocation_id=record.new_invocation_id(), attempt=1,
                              cwd=os.getcwd(), environ=os.environ)
    assert rec["prompt_hash"] and rec["project"].startswith("sha256:")
    assert spool.append(rec)
""")


def imported_modules(tmp_path, tap):
    script = tmp_path / "hot.py"
    sample = os.path.join(REPO, "tests", "telemetry", "data", "claude-json-ok.json")
    script.write_text(SCRIPT.format(repo=REPO, tap=tap, sample=sample))
    proc = subprocess.run([os.path.realpath(sys.executable), "-I", "-S", "-X", "importtime",
                           str(script)], env=dict(os.environ), capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    names = set()
    for line in proc.stderr.decode().splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    assert "shim.telemetry.spool" in names
    return names


@pytest.mark.parametrize("tap", [False, True], ids=["plain", "one-shot-json-tap"])
def test_recording_a_call_imports_nothing_heavy(tmp_path, tap):
    names = imported_modules(tmp_path, tap=tap)
    assert not {n for n in names if n in HEAVY or n.split(".")[0] in HEAVY}
    if tap:
        assert "_json" in names  # the C scanner, not json (which imports re and enum)
