"""Attempt records for tests that write telemetry without running a shim: Decisions, outcomes,
usage, a record factory, the record's documented keys and the JSON Schema `llm-shim logs --json`
is documented against.

The telemetry tests and the `logs` command tests (tests/cli) share these; their conftests
re-export the fixtures.
"""

import json
import os
import re
import time

import pytest

from shim.telemetry import ingest, record
from tests.support import REPO

# Sample files (price lists, transcripts) the telemetry and CLI tests read.
DATA = os.path.join(REPO, "tests", "telemetry", "data")


def data_path(name):
    return os.path.join(DATA, name)


def logs_schema():
    """The JSON Schema block of docs/telemetry.md."""
    with open(os.path.join(REPO, "docs", "telemetry.md"), encoding="utf-8") as fh:
        text = fh.read()
    block = re.search(r"```json\n(\{\s*\"\$schema\".*?)\n```", text, re.S).group(1)
    return json.loads(block)


def contract_keys():
    """The keys of the "Attempt record" table in docs/internals.md."""
    with open(os.path.join(REPO, "docs", "internals.md"), encoding="utf-8") as fh:
        text = fh.read()
    section = text.split("## Attempt record", 1)[1].split("\n## ", 1)[0]
    keys = []
    for line in section.splitlines():
        if line.startswith("| `"):
            keys.extend(re.findall(r"`([a-z_]+)`", line.split("|")[1]))
    return keys


@pytest.fixture
def cfg():
    """The embedded default config, with `_aliases` as the compiled config has it."""
    return ingest.embedded_config()


def make_decision(**over):
    decision = {
        "agent": "default", "agent_reason": "no rule matched",
        "tool_requested": "claude", "tool": "claude",
        "model_requested": None, "model": None, "provider": None, "tier": None,
        "complexity": None, "features": None,
        "mode": "oneshot", "output_format": "text", "prompt_chars": 11,
        "argv": ["-p", "hello world"], "changed": False,
        "reasons": ["no agent rule matched; nothing rewritten"],
        "baseline_model": "claude-opus-4-8", "fallbacks": [],
    }
    decision.update(over)
    return decision


def make_outcome(**over):
    now = time.time()
    outcome = {
        "exit_code": 0, "started_at": now, "ended_at": now + 0.25, "usage": None,
        "failure_class": None, "blocked": False, "block_reason": None,
        "budget_override": False, "prompt_text": "hello world", "response_text": "Hello.",
    }
    outcome.update(over)
    return outcome


def claude_usage(**over):
    usage = {
        "input_tokens": 11, "output_tokens": 7, "cache_read_tokens": 3, "cache_write_tokens": 5,
        "reasoning_tokens": None, "cost_usd": 0.00026275, "model": "claude-opus-4-8",
        "session_id": "08d037f8-0000-4000-8000-000000000001", "parts": None, "error": None,
    }
    usage.update(over)
    return usage


@pytest.fixture
def make_record(cfg, tmp_path):
    """make_record(decision={...}, outcome={...}, invocation_id=..., attempt=...)."""

    def make(decision=None, outcome=None, invocation_id=None, attempt=1, config=None,
             environ=None):
        return record.make_attempt(
            make_decision(**(decision or {})), make_outcome(**(outcome or {})), config or cfg,
            invocation_id=invocation_id or record.new_invocation_id(), attempt=attempt,
            cwd=str(tmp_path), environ=environ if environ is not None else dict(os.environ))

    return make
