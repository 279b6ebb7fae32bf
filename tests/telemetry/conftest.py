"""Fixtures for the telemetry tests: a config, Decisions and outcomes, and a record factory.

The autouse `isolated_env` of tests/conftest.py already gives every test its own
LLM_SHIM_HOME, so the spool, the database and the salt are private to the test.
"""

import json
import os
from datetime import datetime, timezone

import pytest

# Decisions, outcomes, usage and the record factory are shared with the `logs` command tests.
from tests.support.records import (  # noqa: F401
    DATA, cfg, claude_usage, data_path, make_decision, make_outcome, make_record)


# --- Claude Code transcripts (REAL_CLIS.md section 4), shared by the harvest and ingest tests --

T0 = datetime(2026, 11, 22, 10, 0, 0, tzinfo=timezone.utc).timestamp()
T1 = T0 + 60
CWD = "/tmp/exp/work"
SID = "0b9e2c1a-5d6f-4e3a-9b8c-7d6e5f4a3b2c"
OTHER_SID = "ffffffff-5d6f-4e3a-9b8c-7d6e5f4a3b2c"


def iso(t):
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="milliseconds") \
        .replace("+00:00", "Z")


def write_jsonl(path, lines, mtime):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        for line in lines:
            fh.write(json.dumps(line) + "\n")
    os.utime(path, (mtime, mtime))
    return path


def assistant(t, msg_id, req_id, out, inp=0, cr=0, cw=0, model="claude-opus-4-8", sid=SID,
              **extra):
    line = {"type": "assistant", "requestId": req_id, "sessionId": sid, "timestamp": iso(t),
            "version": "2.1.197", "cwd": CWD,
            "message": {"id": msg_id, "model": model, "role": "assistant",
                        "content": [{"type": "text", "text": "Hello from stub."}],
                        "usage": {"input_tokens": inp, "cache_creation_input_tokens": cw,
                                  "cache_read_input_tokens": cr, "output_tokens": out,
                                  "service_tier": "standard"}}}
    line.update(extra)
    return line


@pytest.fixture
def claude_dir(tmp_path):
    cfg = tmp_path / "claude-cfg"
    project = cfg / "projects" / "-tmp-exp-work"
    write_jsonl(str(project / f"{SID}.jsonl"), [
        {"type": "queue-operation", "operation": "enqueue", "timestamp": iso(T0 + 1)},
        {"type": "user", "sessionId": SID, "timestamp": iso(T0 + 1), "cwd": CWD,
         "message": {"role": "user", "content": "say hi"}},
        # a resumed session: an answer from yesterday is in the same file
        assistant(T0 - 86400, "msg_old", "req_old", 500, inp=1000),
        # streaming snapshots of one message: same (id, requestId), usage growing
        assistant(T0 + 2, "msg_A", "req_A", 1, inp=11, cr=3, cw=5),
        assistant(T0 + 3, "msg_A", "req_A", 7, inp=11, cr=3, cw=5),
        assistant(T0 + 3, "msg_A", "req_A", 7, inp=11, cr=3, cw=5),
        # a second request (tool use round trip)
        assistant(T0 + 10, "msg_B", "req_B", 40, inp=20, cr=16, cw=0),
        # an API failure is logged as a synthetic assistant message
        assistant(T0 + 20, "msg_err", "req_err", 0, model="<synthetic>",
                  isApiErrorMessage=True, error="rate_limit"),
        {"type": "last-prompt", "timestamp": iso(T0 + 21)},
    ], mtime=T0 + 21)
    write_jsonl(str(project / SID / "subagents" / "agent-1.jsonl"), [
        assistant(T0 + 5, "msg_S", "req_S", 9, inp=100, model="claude-haiku-4-5-20251001"),
    ], mtime=T0 + 6)
    # an old session of the same project: skipped by mtime without being read
    write_jsonl(str(project / "old-session.jsonl"),
                [assistant(T0 + 2, "msg_X", "req_X", 999, sid="old-session")], mtime=T0 - 3600)
    # another project
    write_jsonl(str(cfg / "projects" / "-tmp-other" / f"{OTHER_SID}.jsonl"),
                [assistant(T0 + 2, "msg_Y", "req_Y", 555, sid=OTHER_SID)], mtime=T0 + 3)
    return str(cfg)
