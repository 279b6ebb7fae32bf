"""The attempt record: fields from the Decision and outcome, privacy, project, harvest hints."""

import ast
import hashlib
import os
import re

import pytest

from shim import paths
from shim.telemetry import prices, record, spool
from tests.support.records import contract_keys
from tests.telemetry.conftest import claude_usage

def test_new_invocation_id_is_32_hex():
    ids = {record.new_invocation_id() for _ in range(100)}
    assert len(ids) == 100 and all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)


def test_record_has_every_contract_key_and_is_one_literal_line(make_record):
    rec = make_record(outcome={"usage": claude_usage()})
    missing = set(contract_keys()) - set(rec) - {"harvest"}
    assert not missing
    assert ast.literal_eval(spool.encode(rec).decode()) == rec
    assert spool.encode(rec).count(b"\n") == 1


def test_fields_come_from_decision_and_usage(make_record):
    rec = make_record(decision={"tool_requested": "claude", "tool": "codex",
                                "model_requested": "opus", "model": "gpt-5.5",
                                "provider": "openai", "tier": "standard",
                                "complexity": "simple", "reasons": ["r1", "r2"]},
                      outcome={"exit_code": 3, "failure_class": "rate_limited",
                               "started_at": 100.0, "ended_at": 101.5,
                               "usage": claude_usage(model="gpt-5.5")},
                      attempt=2)
    assert rec["attempt"] == 2 and rec["exit_code"] == 3
    assert rec["failure_class"] == "rate_limited"
    assert (rec["tool_requested"], rec["tool"]) == ("claude", "codex")
    assert (rec["model_requested"], rec["model"]) == ("opus", "gpt-5.5")
    assert rec["duration_ms"] == pytest.approx(1500.0)
    assert rec["reasons"] == ["r1", "r2"]
    assert rec["input_tokens"] == 11 and rec["reported_cost_usd"] == pytest.approx(0.00026275)
    assert rec["usage_source"] == "stream"
    assert rec["host"] == os.uname().nodename
    assert "harvest" not in rec  # usage and model known: nothing to harvest


def test_metadata_mode_keeps_length_and_salted_hash_only(make_record):
    rec = make_record(outcome={"prompt_text": "secret plan", "response_text": "answer"})
    assert rec["prompt_chars"] == len("secret plan")
    assert rec["prompt_text"] is None and rec["response_text"] is None
    salt_path = os.path.join(paths.data_dir(), "salt")
    with open(salt_path, "rb") as fh:
        salt = fh.read()
    assert len(salt) == 32 and os.stat(salt_path).st_mode & 0o777 == 0o600
    assert rec["prompt_hash"] == hashlib.sha256(salt + b"secret plan").hexdigest()
    assert rec["prompt_hash"] != hashlib.sha256(b"secret plan").hexdigest()
    assert "secret plan" not in repr(rec)


def test_same_prompt_same_hash_and_salt_reused(make_record):
    a = make_record(outcome={"prompt_text": "x"})
    b = make_record(outcome={"prompt_text": "x"})
    c = make_record(outcome={"prompt_text": "y"})
    assert a["prompt_hash"] == b["prompt_hash"] != c["prompt_hash"]


def test_full_mode_keeps_texts(make_record, cfg):
    cfg["policies"]["privacy"] = "full"
    rec = make_record(outcome={"prompt_text": "p", "response_text": "r"})
    assert (rec["prompt_text"], rec["response_text"]) == ("p", "r")


def test_agent_privacy_overrides_the_policy(make_record, cfg):
    cfg["agents"]["default"]["privacy"] = "full"
    assert make_record()["prompt_text"] == "hello world"
    cfg["agents"]["default"]["privacy"] = "off"
    assert make_record()["kind"] == "counter"


def test_off_mode_is_a_counter_without_text_or_project(make_record, cfg):
    cfg["policies"]["privacy"] = "off"
    rec = make_record(outcome={"usage": claude_usage(), "prompt_text": "do not keep"})
    assert rec["kind"] == "counter"
    assert rec["input_tokens"] == 11 and rec["reported_cost_usd"] == pytest.approx(0.00026275)
    for key in ("prompt_chars", "prompt_hash", "prompt_text", "project", "reasons", "host"):
        assert key not in rec
    assert "do not keep" not in repr(rec)


@pytest.mark.parametrize("mode", ["full", "hash", "omit"])
def test_project_modes(make_record, cfg, tmp_path, mode):
    cfg["policies"]["project"] = mode
    project = make_record()["project"]
    if mode == "full":
        assert project == str(tmp_path)
    elif mode == "hash":
        assert re.fullmatch(r"sha256:[0-9a-f]{16}", project)
        assert str(tmp_path) not in project
    else:
        assert project is None


def test_harvest_hint_for_text_mode(make_record, tmp_path):
    environ = {"HOME": "/h", "CLAUDE_CONFIG_DIR": "/cfg", "LLM_USER_PATH": "/llm"}
    rec = make_record(outcome={"usage": None}, environ=environ)
    assert rec["harvest"] == {"tool": "claude", "cwd": str(tmp_path),
                              "claude_config_dir": "/cfg", "claude_project_dir_name": None,
                              "codex_home": "/h/.codex",
                              "llm_user_path": "/llm", "session_id": None, "oneshot": True}
    assert rec["input_tokens"] is None and rec["usage_source"] is None


def test_harvest_defaults_follow_home(make_record):
    rec = make_record(decision={"mode": "interactive"}, environ={"HOME": "/h"})
    assert rec["harvest"]["claude_config_dir"] == "/h/.claude"
    assert rec["harvest"]["llm_user_path"].endswith("io.datasette.llm")


def test_no_harvest_for_meta_blocked_or_missing_binary(make_record):
    assert "harvest" not in make_record(decision={"mode": "meta"})
    assert "harvest" not in make_record(outcome={"blocked": True, "block_reason": "budget"})
    assert "harvest" not in make_record(outcome={"failure_class": "binary_missing",
                                                 "exit_code": 127})


def test_codex_usage_without_model_still_asks_the_rollout_for_the_model(make_record):
    usage = claude_usage(model=None, cost_usd=None, session_id="thread-1")
    rec = make_record(decision={"tool": "codex", "tool_requested": "codex"},
                      outcome={"usage": usage})
    assert rec["input_tokens"] == 11
    assert rec["harvest"]["tool"] == "codex" and rec["harvest"]["session_id"] == "thread-1"


def test_error_only_tap_result_is_not_usage(make_record):
    hints = {"input_tokens": None, "output_tokens": None, "cache_read_tokens": None,
             "cache_write_tokens": None, "reasoning_tokens": None, "cost_usd": None,
             "model": None, "session_id": "s-9", "parts": None,
             "error": {"is_error": True, "message": "429 quota-sentinel-q7x"}}
    rec = make_record(outcome={"usage": hints, "exit_code": 1})
    assert rec["usage_source"] is None and rec["harvest"]["session_id"] == "s-9"
    # A sentinel, not "429": the record's paths may contain pytest-429.
    assert "error" not in rec and "quota-sentinel-q7x" not in repr(rec)


def test_unusable_salt_never_fails_the_call(make_record):
    paths.ensure_dir(paths.data_dir())
    with open(os.path.join(paths.data_dir(), "salt"), "wb") as fh:
        fh.write(b"short")
    rec = make_record(outcome={"prompt_text": "x"})
    assert rec["prompt_hash"] is None and rec["prompt_chars"] == 1


def test_minimal_decision_and_empty_config_still_record(tmp_path):
    """The on_error passthrough has no config and a bare decision: a row is still written."""
    rec = record.make_attempt({"tool": "claude", "mode": "oneshot"},
                              {"exit_code": 0, "started_at": 1.0, "ended_at": 2.0}, {},
                              invocation_id="f" * 32, attempt=1, cwd=str(tmp_path),
                              environ={"HOME": str(tmp_path)})
    assert rec["project"] == str(tmp_path) and rec["reasons"] == []
    assert rec["harvest"]["tool"] == "claude"
    assert ast.literal_eval(spool.encode(rec).decode()) == rec


def test_telemetry_disabled_keeps_only_the_budget_counter(make_record, cfg):
    cfg["telemetry"]["enabled"] = False
    cfg["agents"]["default"]["privacy"] = "full"
    rec = make_record(outcome={"usage": claude_usage()})
    assert rec["kind"] == "counter" and "prompt_text" not in rec


def test_a_call_routing_left_alone_has_no_baseline_and_saves_nothing(make_record, cfg):
    """`llm "hi"` with the default agent ran on llm's default model: nothing was saved, even
    though that model is cheaper than the tool's premium tier."""
    untouched = make_record(decision={"tool": "llm", "changed": False,
                                      "baseline_model": "gpt-4o"},
                            outcome={"usage": claude_usage(model="gpt-4o-mini", cost_usd=None)})
    assert untouched["baseline_model"] is None
    table = prices.load_table(cfg)
    prices.price_record(untouched, None, table)
    assert untouched["cost_usd"] > 0
    assert untouched["baseline_cost_usd"] == untouched["cost_usd"]
    routed = make_record(decision={"tool": "llm", "changed": True, "model": "gpt-4o-mini",
                                   "baseline_model": "gpt-4o"},
                         outcome={"usage": claude_usage(model="gpt-4o-mini", cost_usd=None)})
    prices.price_record(routed, None, table)
    assert routed["baseline_model"] == "gpt-4o"
    assert routed["baseline_cost_usd"] > routed["cost_usd"]
