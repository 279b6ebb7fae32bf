"""The gate in-process, with config dicts: reservations, settling, expiry, soft/hard/override,
downgrade, rate-limit wait and reject. The database is the real one under LLM_SHIM_HOME."""

import copy
import os
import subprocess
import sys
import time

import pytest

from shim import adapters, paths
from shim.policy import engine, settle, state
from shim.routing import decide
from shim.telemetry import ingest, record, spool, store
from tests.policy.conftest import TEN_CENTS_MODEL


@pytest.fixture
def cfg():
    base = copy.deepcopy(ingest.embedded_config())
    base["models"]["dime-model"] = dict(TEN_CENTS_MODEL)
    base["_aliases"]["dime-model"] = "dime-model"
    return base


def with_budget(cfg, **spec):
    spec.setdefault("scope", "global")
    spec.setdefault("period", "day")
    cfg["policies"]["budgets"] = {"b": spec}
    return cfg


def plan(cfg, args=("-p", "hi", "--model", "dime-model"), tool="claude", agent="default"):
    request = adapters.parse(tool, list(args), cfg)
    return request, decide(request, cfg, agent)


def call(cfg, cost=0.10, environ=None, **kw):
    """Admit one call, and when admitted settle it as having cost `cost`."""
    request, decision = plan(cfg, **kw)
    gate = engine.admit(decision, request, cfg, environ or {})
    if not gate["blocked"]:
        settle.finish(gate, gate["decision"], {"usage": {"cost_usd": cost}}, cfg,
                      {"class": None}, attempt=1)
    return gate


def measure(cfg):
    conn = store.connect()
    try:
        from shim.policy import budgets

        return engine.measure(conn, budgets.configured(cfg)[0], cfg, time.time())
    finally:
        conn.close()


def test_no_policy_no_database(cfg):
    request, decision = plan(cfg)
    gate = engine.admit(decision, request, cfg, {})
    assert not gate["blocked"] and gate["reservation_id"] is None
    assert not os.path.exists(paths.database_file())


def test_hard_budget_admits_until_full_then_blocks(cfg):
    with_budget(cfg, limit={"usd": 0.30, "type": "hard"})
    gates = [call(cfg) for _ in range(4)]
    assert [g["blocked"] for g in gates] == [False, False, False, True]
    assert gates[0]["estimate"]["usd"] == pytest.approx(0.10)
    blocked = gates[3]
    assert blocked["error"].exit_code == 75
    assert blocked["block_reason"].startswith(
        "budget: budget 'b' (all calls) has spent $0.30 of $0.30 today")
    assert blocked["reservation_id"] is None
    assert measure(cfg)["spent"] == pytest.approx(0.30)


def test_in_flight_reservations_count(cfg):
    with_budget(cfg, limit={"usd": 0.25})
    request, decision = plan(cfg)
    first = engine.admit(decision, request, cfg, {})
    second = engine.admit(decision, request, cfg, {})
    third = engine.admit(decision, request, cfg, {})  # 0.10 + 0.10 in flight + 0.10 > 0.25
    assert not first["blocked"] and not second["blocked"] and third["blocked"]
    assert "$0.20 more in flight" in third["block_reason"]
    settle.release(second)
    assert not engine.admit(decision, request, cfg, {})["blocked"]


def test_reservation_of_a_dead_shim_keeps_counting_its_estimate(cfg):
    """A SIGKILLed shim cannot stop its child, which may still spend: its reservation is no
    longer in flight, but its estimate stays in the budget (settled) instead of vanishing."""
    with_budget(cfg, limit={"usd": 0.15})
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    conn = store.connect()
    try:
        conn.execute("BEGIN IMMEDIATE")
        rid = state.reserve(conn, invocation_id="x" * 32, attempt=1, agent="default",
                            tool="claude", provider="anthropic", model="dime-model",
                            cost_usd=0.10, tokens=1000)
        conn.execute("UPDATE policy_reservations SET pid = ? WHERE id = ?", (dead.pid, rid))
        conn.execute("COMMIT")
    finally:
        conn.close()
    gate = call(cfg)
    assert gate["blocked"]
    assert "has spent $0.10 of $0.15" in gate["block_reason"]
    assert "in flight" not in gate["block_reason"]


def test_reservation_whose_pid_was_reused_stops_being_in_flight(cfg):
    with_budget(cfg, limit={"usd": 0.15})
    conn = store.connect()
    try:
        conn.execute("BEGIN IMMEDIATE")
        rid = state.reserve(conn, invocation_id="y" * 32, attempt=1, agent="default",
                            tool="claude", provider="anthropic", model="dime-model",
                            cost_usd=0.10, tokens=1000)
        conn.execute("COMMIT")
        assert call(cfg)["blocked"]  # our own, live reservation holds the budget
        # Same pid, another start time: the shim that reserved is gone, its pid reused.
        conn.execute("UPDATE policy_reservations SET pid_start = pid_start + 1 WHERE id = ?",
                     (rid,))
    finally:
        conn.close()
    if state.process_start(os.getpid()) is None:
        pytest.skip("no /proc: only the pid is checked")
    reason = call(cfg)["block_reason"]
    assert "has spent $0.10 of $0.15" in reason and "in flight" not in reason


def test_settled_reservation_stands_in_until_ingested_never_double(cfg):
    with_budget(cfg, limit={"usd": 1.0})
    gate = call(cfg, cost=0.25)
    got = measure(cfg)
    assert (got["recorded"], got["pending"], got["in_flight"]) == (0.0, 0.25, 0.0)
    # The attempt's record reaches the spool and is ingested: the row replaces it.
    decision = gate["decision"]
    rec = record.make_attempt(decision, {"exit_code": 0, "started_at": time.time(),
                                         "ended_at": time.time(),
                                         "usage": {"cost_usd": 0.25, "input_tokens": 1,
                                                   "output_tokens": 1}},
                              cfg, invocation_id=gate["invocation_id"], attempt=1, cwd="/",
                              environ={})
    assert spool.append(rec)
    ingest.ingest(cfg=cfg)
    got = measure(cfg)
    assert got["spent"] == pytest.approx(0.25)
    assert (got["recorded"], got["pending"]) == (pytest.approx(0.25), 0.0)
    call(cfg, cost=0.0)  # the next admitter's housekeeping drops the matched reservation
    conn = store.connect()
    try:
        ids = [r["invocation_id"] for r in state.in_flight(conn)]
    finally:
        conn.close()
    assert gate["invocation_id"] not in ids


def test_soft_budget_warns_and_runs(cfg, capsys):
    with_budget(cfg, limit={"usd": 0.15, "type": "soft"})
    assert not call(cfg)["blocked"]
    capsys.readouterr()
    gate = call(cfg)
    assert not gate["blocked"]
    err = capsys.readouterr().err
    assert err.startswith("llm-shim: warning: budget: budget 'b' (all calls) has spent $0.10 "
                          "of $0.15 today")
    assert "soft limit: running it anyway" in err
    assert gate["warnings"]


def test_override_runs_a_blocked_call_and_says_so(cfg, capsys):
    with_budget(cfg, limit={"usd": 0.05})
    gate = call(cfg, environ={"LLM_SHIM_BUDGET_OVERRIDE": "1"})
    assert not gate["blocked"] and gate["budget_override"]
    assert gate["reservation_id"] is not None
    assert "LLM_SHIM_BUDGET_OVERRIDE=1: running it anyway (recorded)" in capsys.readouterr().err


def test_downgrade_moves_to_a_cheaper_tier(cfg, capsys):
    cfg["agents"]["worker"] = {"model": "sonnet"}
    with_budget(cfg, scope="agent", match="worker", limit={"usd": 1.0}, action="downgrade",
                downgrade_at=0.5)
    first = call(cfg, cost=0.49, args=("-p", "hi"), agent="worker")
    assert first["decision"]["model"] == "claude-sonnet-5"
    second = call(cfg, cost=0.01, args=("-p", "hi"), agent="worker")
    assert not second["blocked"]
    assert second["decision"]["model"] == "claude-haiku-4-5-20251001"
    assert "claude-haiku-4-5-20251001" in second["decision"]["argv"]
    assert any("downgraded" in r for r in second["decision"]["reasons"])
    assert "budget: agent 'worker' is at 49% of $1.00 today" in capsys.readouterr().err


def test_downgrade_still_blocks_at_a_hard_limit(cfg):
    cfg["agents"]["worker"] = {"model": "sonnet"}
    with_budget(cfg, scope="agent", match="worker", limit={"usd": 0.50}, action="downgrade")
    call(cfg, cost=0.50, args=("-p", "hi"), agent="worker")
    assert call(cfg, args=("-p", "hi"), agent="worker")["blocked"]


def test_dry_run_reserves_nothing(cfg):
    with_budget(cfg, limit={"usd": 0.10})
    request, decision = plan(cfg)
    for _ in range(3):
        gate = engine.admit(decision, request, cfg, {"LLM_SHIM_DRY_RUN": "1"})
        assert not gate["blocked"] and gate["reservation_id"] is None


def rate(cfg, **spec):
    spec.setdefault("scope", "tool")
    spec.setdefault("match", "claude")
    cfg["policies"]["rate_limits"] = {"r": spec}
    return cfg


def test_rate_limit_reject(cfg):
    rate(cfg, calls_per_minute=2, on_limit="reject")
    request, decision = plan(cfg)
    gates = [engine.admit(decision, request, cfg, {}) for _ in range(3)]
    assert [g["blocked"] for g in gates] == [False, False, True]
    assert gates[2]["error"].what == "rate limit"
    assert gates[2]["error"].exit_code == 75
    # Another tool is not limited.
    request, decision = plan(cfg, args=("exec", "hi"), tool="codex")
    assert not engine.admit(decision, request, cfg, {})["blocked"]


class FakeClock:
    def __init__(self, start):
        self.now = start
        self.slept = []

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def test_rate_limit_wait_sleeps_until_the_slot_frees(cfg, monkeypatch):
    clock = FakeClock(time.time())
    monkeypatch.setattr(engine, "clock", clock.time)
    monkeypatch.setattr(engine, "sleep", clock.sleep)
    rate(cfg, calls_per_minute=1, on_limit="wait", max_wait=120)
    request, decision = plan(cfg)
    assert not engine.admit(decision, request, cfg, {})["blocked"]
    clock.now += 15
    gate = engine.admit(decision, request, cfg, {})
    assert not gate["blocked"]
    assert sum(clock.slept) == pytest.approx(45.0, abs=0.2)
    assert any(r.startswith("rate limit: waited 45") for r in gate["decision"]["reasons"])


def test_rate_limit_wait_longer_than_max_wait_is_rejected(cfg, monkeypatch):
    clock = FakeClock(time.time())
    monkeypatch.setattr(engine, "clock", clock.time)
    monkeypatch.setattr(engine, "sleep", clock.sleep)
    rate(cfg, calls_per_minute=1, on_limit="wait", max_wait=10)
    request, decision = plan(cfg)
    engine.admit(decision, request, cfg, {})
    gate = engine.admit(decision, request, cfg, {})
    assert gate["blocked"] and clock.slept == []
    assert "more than max_wait 10s" in gate["error"].hint


def test_tokens_per_hour_use_the_settled_token_count(cfg):
    rate(cfg, tokens_per_hour=3000, on_limit="reject")
    request, decision = plan(cfg)
    gate = engine.admit(decision, request, cfg, {})  # reserves ~1001 estimated tokens
    settle.finish(gate, gate["decision"], {"usage": {"input_tokens": 2500,
                                                     "output_tokens": 400}}, cfg,
                  {"class": None})
    assert engine.admit(decision, request, cfg, {})["blocked"]  # 2900 + 1001 > 3000
