"""Hand-written Claude Code transcript lines and an in-process import, for the import tests of
tests/telemetry and tests/team (gen_transcripts.py makes the large realistic sets)."""

import json
import time

from shim.telemetry import imports, store


def iso(ts):
    """A transcript's timestamp: UTC, milliseconds, `Z`."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + ".000Z"


def claude_entry(msg_id, ts, out=10, inp=5, read=100, write=20, session="s-1",
                 model="claude-sonnet-4-5-20250929", cwd="/p", branch="main"):
    """One assistant message as Claude Code writes it (a dict, for tests that damage it)."""
    return {"type": "assistant", "sessionId": session, "cwd": cwd, "gitBranch": branch,
            "timestamp": iso(ts), "requestId": "req_" + msg_id, "uuid": "u-" + msg_id,
            "message": {"id": msg_id, "model": model, "role": "assistant",
                        "content": [{"type": "text", "text": "x"}],
                        "usage": {"input_tokens": inp, "output_tokens": out,
                                  "cache_read_input_tokens": read,
                                  "cache_creation_input_tokens": write}}}


def claude_line(*args, separators=(",", ":"), **kw):
    """claude_entry as one JSONL line (`separators=None`: json's default spacing)."""
    return json.dumps(claude_entry(*args, **kw), separators=separators) + "\n"


def run_import(**kw):
    """`llm-shim import` in process on a connection of its own; its summary."""
    conn = store.connect()
    try:
        return imports.run(conn, **kw)
    finally:
        conn.close()
