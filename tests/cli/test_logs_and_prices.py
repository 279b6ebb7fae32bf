"""`llm-shim logs` and `llm-shim prices` through the real parser (in process)."""

import json
import time

import jsonschema
import pytest

from shim import paths
from shim.telemetry import spool
from tests.support.cli import run
from tests.support.records import claude_usage, data_path, logs_schema


def test_logs_json_matches_the_documented_schema(make_record, capsys, cfg):
    spool.append(make_record(outcome={"usage": claude_usage()}))
    spool.append(make_record(decision={"tool": "codex", "tool_requested": "claude",
                                       "model": "gpt-5.5", "reasons": ["fallback"]},
                             outcome={"exit_code": 1, "failure_class": "rate_limited",
                                      "usage": None}, attempt=2))
    spool.append(make_record(outcome={"blocked": True, "block_reason": "budget daily",
                                      "exit_code": 75}))
    code, out, err = run(capsys, "logs", "--json", "-n", "5")
    assert code == 0 and err == ""
    rows = json.loads(out)
    jsonschema.validate(rows, logs_schema())
    assert len(rows) == 3
    required = {"invocation_id", "attempt", "started_at", "agent", "tool", "model_requested",
                "model", "tier", "exit_code", "failure_class", "blocked", "input_tokens",
                "output_tokens", "cache_read_tokens", "cache_write_tokens", "cost_usd",
                "cost_source"}
    assert required <= set(rows[0])
    by_source = {r["cost_source"] for r in rows}
    assert "reported" in by_source


def test_logs_json_limit_and_order(make_record, capsys):
    base = time.time()
    for i in range(8):
        spool.append(make_record(outcome={"started_at": base + i, "ended_at": base + i + 1}))
    code, out, _ = run(capsys, "logs", "--json", "-n", "5")
    rows = json.loads(out)
    assert len(rows) == 5
    assert [r["started_at"] for r in rows] == sorted((r["started_at"] for r in rows),
                                                     reverse=True)


def test_logs_table(make_record, capsys):
    spool.append(make_record(decision={"model_requested": "opus", "model": "claude-opus-4-8",
                                       "reasons": ["agent auto: simple -> cheap"]},
                             outcome={"usage": claude_usage()}))
    code, out, _ = run(capsys, "logs")
    assert code == 0
    assert "opus->claude-opus-4-8" in out and "$0.0003" in out and "simple -> cheap" in out


def test_logs_empty(capsys):
    code, out, _ = run(capsys, "logs")
    assert code == 0 and "no calls recorded" in out
    code, out, _ = run(capsys, "logs", "--json")
    assert json.loads(out) == []


def test_logs_prune(make_record, capsys):
    now = time.time()
    spool.append(make_record(outcome={"started_at": now - 100 * 86400,
                                      "ended_at": now - 100 * 86400 + 1}))
    spool.append(make_record(outcome={"started_at": now - 10, "ended_at": now - 9}))
    code, out, _ = run(capsys, "logs", "prune", "--older-than", "90d")
    assert code == 0 and out.startswith("pruned 1 attempts")
    _, out, _ = run(capsys, "logs", "--json")
    assert len(json.loads(out)) == 1


@pytest.mark.parametrize("age", ["90", "d", "-3d", "1y"])
def test_logs_prune_bad_age_is_a_usage_error(capsys, age):
    code, _, err = run(capsys, "logs", "prune", f"--older-than={age}")
    assert code == 2 and err.startswith("llm-shim: logs prune: cannot read the age")


def test_logs_on_a_corrupt_database_points_to_repair(make_record, capsys):
    paths.ensure_dir(paths.data_dir())
    with open(paths.database_file(), "wb") as fh:
        fh.write(b"garbage" * 1000)
    spool.append(make_record())
    code, _, err = run(capsys, "logs")
    assert code == 1 and "llm-shim logs repair" in err and err.count("\n") == 1
    code, out, _ = run(capsys, "logs", "repair")
    assert code == 0 and "moved the damaged database" in out and "imported 1 rows" in out
    _, out, _ = run(capsys, "logs", "--json")
    assert len(json.loads(out)) == 1


def test_prices_import_show_clear(capsys):
    code, out, _ = run(capsys, "prices", "import", data_path("litellm-small.json"))
    assert code == 0 and "imported" in out and "claude-sonnet-5" in out
    code, out, _ = run(capsys, "prices", "show", "--json")
    shown = {m["model"]: m for m in json.loads(out)["models"]}
    assert shown["claude-sonnet-5"]["input"] == 2.0
    assert shown["claude-sonnet-5"]["source"] == "imported"
    code, out, _ = run(capsys, "prices", "clear")
    assert code == 0 and "removed" in out
    _, out, _ = run(capsys, "prices", "show", "--json")
    assert {m["model"]: m for m in json.loads(out)["models"]}["claude-sonnet-5"]["input"] == 3.0


def test_prices_import_snapshot_and_usage_errors(capsys):
    code, out, _ = run(capsys, "prices", "import", "--snapshot")
    assert code == 0 and "prices-litellm-snapshot.json" in out
    code, _, err = run(capsys, "prices", "import")
    assert code == 2 and "FILE or --snapshot" in err
    code, _, err = run(capsys, "prices", "import", "/no/such/file.json")
    assert code == 1 and err.startswith("llm-shim: prices import: cannot read")
