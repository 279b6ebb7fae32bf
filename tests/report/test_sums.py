"""Exact sums, savings arithmetic and invocation counting, on hand-computed fixtures."""

import pytest

Z = "UTC"


def _fixture(store):
    """Two days, two agents, two models; one fallback, one failure, one block, one unknown
    cost, one row without a baseline. Expected numbers are written out in the tests."""
    s = store.add
    s("2026-03-10 09:00", Z, agent="alice", model="claude-sonnet-5", input_tokens=1000,
      output_tokens=200, cache_read_tokens=50, cache_write_tokens=5, cost_usd=0.10,
      baseline_cost_usd=0.30, duration_ms=2000.0)
    s("2026-03-10 10:00", Z, agent="alice", model="claude-haiku-4-5-20251001", input_tokens=400,
      output_tokens=100, cost_usd=0.02, baseline_cost_usd=0.12, duration_ms=1000.0)
    # A fallback: attempt 1 failed on sonnet (rate limited), attempt 2 ran on gpt-5.5.
    s("2026-03-10 11:00", Z, invocation_id="f" * 32, attempt=1, agent="bob",
      model="claude-sonnet-5", exit_code=1, failure_class="rate_limited", input_tokens=0,
      cost_usd=0.0, baseline_cost_usd=0.0, duration_ms=500.0)
    s("2026-03-10 11:01", Z, invocation_id="f" * 32, attempt=2, agent="bob", tool="codex",
      model="gpt-5.5", provider="openai", input_tokens=3000, output_tokens=300,
      cost_usd=0.05, baseline_cost_usd=0.04, duration_ms=3000.0)
    # Day 2: a block (no cost, no latency), an unknown cost, a row without a baseline.
    s("2026-03-11 08:00", Z, agent="bob", model="claude-sonnet-5", blocked=1, exit_code=75,
      cost_usd=None, duration_ms=0.0)
    s("2026-03-11 09:00", Z, agent="alice", model="claude-sonnet-5", input_tokens=10,
      cost_usd=None, baseline_cost_usd=0.5, duration_ms=4000.0)
    s("2026-03-11 10:00", Z, agent="alice", model="claude-sonnet-5", input_tokens=700,
      output_tokens=70, cost_usd=0.25, baseline_cost_usd=None, duration_ms=6000.0)


def _json(report, *args):
    code, doc, err = report("--json", "--tz", Z, "--since", "2026-03-10", "--until",
                            "2026-03-11", *args)
    assert code == 0, err
    return doc


def test_totals_are_exact(store, report):
    _fixture(store)
    doc = _json(report)
    assert doc["source"] == ("rollup" if store.kind == "rollup" else "rows")
    t = doc["totals"]
    assert t["invocations"] == 6  # 7 attempts, one invocation had two
    assert t["attempts"] == 7
    assert t["failures"] == 1  # the rate-limited attempt; the block is not a failure
    assert t["blocked"] == 1
    assert t["input_tokens"] == 1000 + 400 + 0 + 3000 + 0 + 10 + 700
    assert t["output_tokens"] == 200 + 100 + 300 + 70
    assert (t["cache_read_tokens"], t["cache_write_tokens"]) == (50, 5)
    assert t["cost_usd"] == pytest.approx(0.10 + 0.02 + 0.0 + 0.05 + 0.25, abs=1e-9)
    assert t["unknown_cost_attempts"] == 1  # the blocked row is not "unknown"
    # Mean latency over non-blocked attempts with a duration: 2000 1000 500 3000 4000 6000.
    assert t["mean_latency_ms"] == pytest.approx(16500 / 6, abs=0.05)


def test_savings_arithmetic(store, report):
    _fixture(store)
    t = _json(report)["totals"]
    # Counted only where both baseline and cost are known: rows 1-4.
    assert t["baseline_attempts"] == 4
    assert t["baseline_cost_usd"] == pytest.approx(0.30 + 0.12 + 0.0 + 0.04, abs=1e-9)
    # (0.30 - 0.10) + (0.12 - 0.02) + (0 - 0) + (0.04 - 0.05) = 0.29
    assert t["savings_usd"] == pytest.approx(0.29, abs=1e-9)
    assert t["savings_pct"] == pytest.approx(round(100 * 0.29 / 0.46, 2))


def test_per_day_rows(store, report):
    _fixture(store)
    doc = _json(report)
    rows = {r["period"]: r for r in doc["rows"]}
    assert set(rows) == {"2026-03-10", "2026-03-11"}
    assert (rows["2026-03-10"]["attempts"], rows["2026-03-11"]["attempts"]) == (4, 3)
    assert rows["2026-03-10"]["cost_usd"] == pytest.approx(0.17, abs=1e-9)
    assert rows["2026-03-11"]["cost_usd"] == pytest.approx(0.25, abs=1e-9)
    assert rows["2026-03-11"]["savings_usd"] == 0  # no row there has both costs
    assert rows["2026-03-11"]["savings_pct"] is None
    assert [p["period"] for p in doc["periods"]] == ["2026-03-10", "2026-03-11"]
    # Row sums equal the totals.
    for field in ("invocations", "attempts", "input_tokens", "cost_usd", "savings_usd"):
        assert sum(r[field] for r in doc["rows"]) == pytest.approx(doc["totals"][field])


def test_group_by_model_counts_an_invocation_with_its_first_attempt(store, report):
    _fixture(store)
    doc = _json(report, "--by", "model")
    day1 = {r["model"]: r for r in doc["rows"] if r["period"] == "2026-03-10"}
    assert day1["claude-sonnet-5"]["invocations"] == 2  # 09:00 and the fallback's attempt 1
    assert day1["claude-sonnet-5"]["failures"] == 1
    assert day1["gpt-5.5"]["invocations"] == 0  # its attempt 2 belongs to the same invocation
    assert day1["gpt-5.5"]["attempts"] == 1
    assert day1["gpt-5.5"]["cost_usd"] == pytest.approx(0.05)
    assert day1["gpt-5.5"]["savings_usd"] == pytest.approx(-0.01)  # a fallback can cost more
    distinct = store.conn.execute("SELECT COUNT(DISTINCT invocation_id) FROM attempts").fetchone()
    assert doc["totals"]["invocations"] == distinct[0]


def test_rows_are_ordered_by_period_then_cost(store, report):
    _fixture(store)
    rows = _json(report, "--by", "agent,model")["rows"]
    keys = [(r["period"], -r["cost_usd"]) for r in rows]
    assert keys == sorted(keys)
    assert {"agent", "model"} <= set(rows[0])


def test_filters(store, report):
    _fixture(store)
    alice = _json(report, "--agent", "alice")["totals"]
    assert (alice["attempts"], alice["cost_usd"]) == (4, pytest.approx(0.37))
    codex = _json(report, "--tool", "codex")["totals"]
    assert (codex["attempts"], codex["invocations"]) == (1, 0)
    both = _json(report, "--agent", "alice,bob", "--agent", "nobody")["totals"]
    assert both["attempts"] == 7
    # "sonnet" is an alias of claude-sonnet-5 in the default config.
    sonnet = _json(report, "--model", "sonnet")
    assert sonnet["totals"]["attempts"] == 5  # 09:00, the fallback's attempt 1, and day 2
    assert sonnet["filters"] == {"model": ["sonnet"]}
    none = _json(report, "--model", "gpt-4o", "--agent", "alice")
    assert none["rows"] == [] and none["totals"]["attempts"] == 0


def test_by_every_key(store, report):
    _fixture(store)
    doc = _json(report, "--by", "provider,tool,project")
    assert doc["group_by"] == ["provider", "tool", "project"]
    providers = {}
    for row in doc["rows"]:
        providers[row["provider"]] = providers.get(row["provider"], 0) + row["attempts"]
    assert providers == {"anthropic": 6, "openai": 1}


def test_unknown_group_key_is_a_usage_error(store, report):
    code, out, err = report("--by", "colour")
    assert code == 2
    assert "cannot group by 'colour'" in err and "agent, model" in err


def test_null_keys_group_as_none(store, report):
    store.add("2026-03-10 09:00", Z, agent=None, project=None, cost_usd=1.0)
    store.add("2026-03-10 09:05", Z, agent="", project=None, cost_usd=2.0)
    doc = _json(report, "--by", "agent")
    assert [(r["agent"], r["cost_usd"]) for r in doc["rows"]] == [(None, 3.0)]


def test_counters_are_reported_too(store, report):
    """privacy: off stores only budget counters; their cost still shows."""
    from shim.telemetry import store as store_mod

    store_mod.insert_counters(store.conn, [{
        "invocation_id": "c" * 32, "attempt": 1, "started_at": 1773140400.0,  # 2026-03-10 11:00Z
        "agent": "carol", "tool": "llm", "model": "gpt-4o-mini", "provider": "openai",
        "input_tokens": 10, "output_tokens": 5, "cost_usd": 0.5, "cost_source": "computed",
        "blocked": 0}])
    doc = _json(report, "--by", "agent")
    carol = [r for r in doc["rows"] if r["agent"] == "carol"]
    assert len(carol) == 1
    assert (carol[0]["invocations"], carol[0]["cost_usd"]) == (1, 0.5)
    assert carol[0]["mean_latency_ms"] is None and carol[0]["savings_pct"] is None


def test_blocked_calls_are_not_savings(store, report):
    """A refused call cost nothing, but routing did not save its baseline either."""
    store.add("2026-03-10 09:00", Z, cost_usd=0.0, baseline_cost_usd=1.0, blocked=1,
              exit_code=75)
    store.add("2026-03-10 10:00", Z, cost_usd=0.25, baseline_cost_usd=1.0)
    t = _json(report)["totals"]
    assert (t["baseline_attempts"], t["savings_usd"], t["savings_pct"]) == (1, 0.75, 75.0)
    assert t["blocked"] == 1 and t["failures"] == 0
