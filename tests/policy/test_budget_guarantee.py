"""A hard budget holds against a wrong estimate (issue 15, deliverable 5).

Through real shims in front of the fake claude, which honours --max-budget-usd like the real
one (tests/support/fakes.py). The calls name no model and the answers name none either (empty
`modelUsage`), so nothing but the recorded cost tells what such a call costs.
"""

import json

import pytest

FIFTY_CENTS_ON_CLAUDE = {"policies": {"budgets": {"claude-50c": {
    "scope": "tool", "match": "claude", "period": "day",
    "limit": {"usd": 0.50, "type": "hard"}}}}}
CALL = ["claude", "-p", "summarise the design", "--output-format", "json"]
DIME_NO_MODEL = {"FAKE_CLAUDE_COST": "0.10", "FAKE_CLAUDE_NO_MODEL": "1"}


def _spend(rows):
    return sum(r["cost_usd"] or 0.0 for r in rows if not r["blocked"])


def _cap(call):
    argv = call["argv"]
    return float(argv[argv.index("--max-budget-usd") + 1])


def test_fifteen_parallel_dime_calls_cannot_overspend_fifty_cents(shim_env):
    """The issue's case: each call was reserved at about $0.03 and really cost $0.10; all 15
    ran ($1.50). Now each runs capped at its reservation, so the recorded spend stays within
    the budget whatever the estimate said."""
    shim_env.install("claude")
    shim_env.config(FIFTY_CENTS_ON_CLAUDE)
    env = dict(DIME_NO_MODEL, FAKE_CLAUDE_SLEEP="0.5")
    procs = [shim_env.popen(CALL, env) for _ in range(15)]
    codes = [proc.wait(timeout=120) for proc in procs]
    for proc in procs:
        proc.stdout.close()
        proc.stderr.close()
    ran = shim_env.calls("claude")
    assert ran, codes
    assert all(code in (0, 1, 75) for code in codes), codes
    rows = shim_env.attempts()
    assert len(rows) == 15
    print(f"fake claude: {len(ran)} ran, {15 - len(ran)} refused, "
          f"spend ${_spend(rows):.4f}")
    assert _spend(rows) <= 0.50 + 1e-9, [(r["exit_code"], r["cost_usd"]) for r in rows]
    # Every call that ran carried the cap, and the cap is what it reserved (> 0).
    caps = [_cap(call) for call in ran]
    assert all(0 < cap <= 0.50 for cap in caps)
    reasons = [json.loads(r["reasons"]) for r in rows if not r["blocked"]]
    assert all(any(x.startswith("budget: added --max-budget-usd ") for x in rs) for rs in reasons)


def test_a_capped_call_that_hits_its_cap_is_recorded_at_the_cap(shim_env):
    shim_env.install("claude")
    shim_env.config(FIFTY_CENTS_ON_CLAUDE)
    proc = shim_env.run(CALL, DIME_NO_MODEL)
    (call,) = shim_env.calls("claude")
    cap = _cap(call)
    assert cap < 0.10  # the static estimate of a prompt this short
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["subtype"] == "error_max_budget_usd"
    (row,) = shim_env.attempts()
    assert row["cost_usd"] == pytest.approx(cap)


def _estimate(shim_env, argv):
    """What the gate would reserve for `argv` now (after ingesting the spool)."""
    from shim import adapters
    from shim.config import compiled
    from shim.policy import estimate
    from shim.routing import agents, decide
    from shim.telemetry import store

    shim_env.attempts()  # ingest: the learned figure comes from recorded rows
    cfg = compiled.load()
    request = adapters.parse(argv[0], argv[1:], cfg)
    agent, reason = agents.identify(argv[0], cfg, {}, str(shim_env.tmp))
    decision = decide(request, cfg, agent, agent_reason=reason)
    conn = store.connect()
    try:
        return estimate.estimate(decision, cfg, conn)
    finally:
        conn.close()


def test_the_reservation_learns_what_calls_without_a_model_cost(shim_env):
    """After a few $0.10 answers that name no model, calls like them reserve about $0.10."""
    shim_env.install("claude")
    shim_env.config({"policies": {"budgets": {"watch": {
        "scope": "tool", "match": "claude", "period": "day",
        "limit": {"usd": 100.0, "type": "soft"}}}}})
    before = _estimate(shim_env, CALL)
    assert before["usd"] < 0.05  # the static guess for a short prompt
    for _ in range(3):
        assert shim_env.run(CALL, DIME_NO_MODEL).returncode == 0
    learned = _estimate(shim_env, CALL)
    assert learned["usd"] == pytest.approx(0.10), learned
    assert learned["basis"] == "p90 of recent default/claude/tool default calls"


def test_capped_calls_grow_their_reservation_until_they_complete(shim_env):
    """Under a hard budget a call stopped at its cap is learned at twice its cost, so the
    reservation does not stay stuck at the static guess that cut it short."""
    shim_env.install("claude")
    shim_env.config({"policies": {"budgets": {"five": {
        "scope": "tool", "match": "claude", "period": "day",
        "limit": {"usd": 5.0, "type": "hard"}}}}})
    codes = []
    for _ in range(6):
        codes.append(shim_env.run(CALL, DIME_NO_MODEL).returncode)
        shim_env.attempts()
    caps = [_cap(c) for c in shim_env.calls("claude")]
    assert codes[0] == 1 and codes[-1] == 0, (codes, caps)
    assert caps == sorted(caps) and caps[-1] >= 0.10
    rows = shim_env.attempts()
    assert rows[0]["failure_class"] == "max_budget"
    assert rows[-1]["failure_class"] is None


def test_learned_reservation_uses_a_high_quantile_not_the_mean(shim_env):
    from shim.policy import estimate
    from shim.telemetry import store

    conn = store.connect()
    try:
        for i, cost in enumerate([0.01] * 8 + [0.50, 0.50]):
            conn.execute("INSERT INTO attempts (invocation_id, attempt, started_at, agent, "
                         "tool, model, cost_usd, blocked) VALUES (?, 1, ?, 'a', 'claude', "
                         "NULL, ?, 0)", (f"inv{i}", 1000.0 + i, cost))
        conn.commit()
        decision = {"agent": "a", "tool": "claude", "model": None,
                    "baseline_model": "claude-opus-4-8"}
        # Mean $0.108; p90 (nearest rank 9 of 10) is $0.50.
        assert estimate.recent_quantile(conn, decision) == pytest.approx(0.50)
        # Another agent's calls, or a named model, learn nothing from these rows.
        assert estimate.recent_quantile(conn, dict(decision, agent="b")) is None
        assert estimate.recent_quantile(conn, dict(decision, model="claude-haiku-4-5")) is None
    finally:
        conn.close()


def test_reserve_usd_sets_the_reservation_and_the_cap(shim_env):
    shim_env.install("claude")
    shim_env.config({"policies": {"budgets": {"claude-50c": {
        "scope": "tool", "match": "claude", "period": "day", "reserve_usd": 0.25,
        "limit": {"usd": 0.50, "type": "hard"}}}}})
    for _ in range(3):
        shim_env.run(CALL, dict(DIME_NO_MODEL, FAKE_CLAUDE_COST="0.20"))
    # Two calls reserved $0.25 each and cost $0.20: the third fits ($0.40 + $0.25 > $0.50?
    # no: $0.65 > $0.50) and is refused.
    assert [_cap(c) for c in shim_env.calls("claude")] == [0.25, 0.25]
    rows = shim_env.attempts()
    assert [r["blocked"] for r in rows] == [0, 0, 1]
    assert _spend(rows) == pytest.approx(0.40)


def test_the_cap_keeps_a_smaller_user_value_and_lowers_a_larger_one(shim_env):
    shim_env.install("claude")
    shim_env.config({"policies": {"budgets": {"b": {
        "scope": "tool", "match": "claude", "period": "day", "reserve_usd": 0.30,
        "limit": {"usd": 5.0}}}}})
    shim_env.run(CALL + ["--max-budget-usd", "0.05"], DIME_NO_MODEL)
    shim_env.run(CALL + ["--max-budget-usd=2"], DIME_NO_MODEL)
    first, second = shim_env.calls("claude")
    assert first["argv"] == CALL[1:] + ["--max-budget-usd", "0.05"]
    assert second["argv"] == CALL[1:] + ["--max-budget-usd=0.3"]
    reasons = [json.loads(r["reasons"]) for r in shim_env.attempts()]
    assert any(r.startswith("budget: kept your --max-budget-usd 0.05") for r in reasons[0])
    assert any(r.startswith("budget: lowered --max-budget-usd to 0.3") for r in reasons[1])


@pytest.mark.parametrize("argv, budget_type", [
    (["claude", "-p", "hi", "--output-format", "json"], "soft"),   # a soft budget caps nothing
    (["claude", "hi"], "hard"),                                    # interactive
    (["claude", "mcp", "list"], "hard"),                           # a subcommand
])
def test_no_cap_where_it_does_not_belong(shim_env, argv, budget_type):
    shim_env.install("claude")
    shim_env.config({"policies": {"budgets": {"b": {
        "scope": "tool", "match": "claude", "period": "day",
        "limit": {"usd": 5.0, "type": budget_type}}}}})
    shim_env.run(argv, DIME_NO_MODEL)
    (call,) = shim_env.calls("claude")
    assert call["argv"] == argv[1:]


def test_a_call_that_cannot_be_capped_is_refused(shim_env):
    """A model with no price and no history reserves $0; claude rejects --max-budget-usd 0,
    and an uncapped call could spend anything: refused, with the way out."""
    shim_env.install("claude")
    shim_env.config({"policies": {"budgets": {"b": {
        "scope": "tool", "match": "claude", "period": "day", "limit": {"usd": 5.0}}}}})
    proc = shim_env.run(["claude", "-p", "hi", "--model", "no-such-model-x"], DIME_NO_MODEL)
    assert proc.returncode == 75
    assert proc.stderr.decode().startswith(
        "llm-shim: budget: cannot cap this claude call under hard budget 'b': its reservation "
        "is 0 USD (no price for no-such-model-x and no recorded cost); set reserve_usd")
    assert shim_env.calls("claude") == []


def test_dry_run_and_route_show_the_cap(shim_env):
    shim_env.install("claude")
    shim_env.config(FIFTY_CENTS_ON_CLAUDE)
    proc = shim_env.run(CALL, {"LLM_SHIM_DRY_RUN": "1"})
    assert proc.returncode == 0, proc.stderr
    view = json.loads(proc.stdout.decode().split("\n", 1)[1])
    assert view["argv"][:3] == ["claude", "--max-budget-usd", view["argv"][2]]
    assert float(view["argv"][2]) > 0
    assert any(r.startswith("budget: added --max-budget-usd") for r in view["reasons"])
    proc = shim_env.run(["llm-shim", "route", "--json", "--"] + CALL)
    assert proc.returncode == 0, proc.stderr
    routed = json.loads(proc.stdout)
    assert routed["argv"][:2] == ["claude", "--max-budget-usd"]
    assert shim_env.calls("claude") == []


def test_a_burst_waits_for_the_first_call_of_its_kind(monkeypatch):
    """With no recorded cost for its kind, a one-shot call under a hard budget waits while
    another shim's first such call runs, then is reserved from that call's real cost."""
    import copy

    from shim import adapters
    from shim.policy import engine, state
    from shim.routing import decide
    from shim.telemetry import ingest, store

    cfg = copy.deepcopy(ingest.embedded_config())
    cfg["policies"]["budgets"] = {"b": {"scope": "tool", "match": "claude", "period": "day",
                                        "limit": {"usd": 0.50, "type": "hard"}}}
    request = adapters.parse("claude", ["-p", "hi", "--output-format", "json"], cfg)
    decision = decide(request, cfg, "default")
    subject = {"agent": "default", "tool": "claude",
               "model": decision.get("model") or decision.get("baseline_model")}
    conn = store.connect()
    with conn:  # another shim's first call, in flight (pid 1 runs; another process)
        rid = state.reserve(conn, invocation_id="x" * 32, attempt=1, provider=None,
                            cost_usd=0.03, tokens=1, **subject)
        conn.execute("UPDATE policy_reservations SET pid = 1, pid_start = NULL WHERE id = ?",
                     (rid,))
    sleeps = []

    def first_call_finishes(seconds):
        sleeps.append(seconds)
        with conn:
            state.settle(conn, rid, 0.10)  # it really cost $0.10

    monkeypatch.setattr(engine, "sleep", first_call_finishes)
    gate = engine.admit(decision, request, cfg, {})
    conn.close()
    assert sleeps == [engine.FIRST_CALL_SLICE]
    assert not gate["blocked"]
    assert gate["estimate"]["usd"] == pytest.approx(0.10)
    argv = gate["decision"]["argv"]
    assert argv[:2] == ["--max-budget-usd", "0.1"]
    assert any(r.startswith("budget: waited 0.1s for the first call like this one")
               for r in gate["decision"]["reasons"])


def test_text_after_dashdash_does_not_turn_off_the_cap(shim_env):
    """`-- --max-budget-usd 9` is prompt text, not a cap: the call (which claude's adapter
    passes through, having two positionals) still gets the budget's cap in front."""
    shim_env.install("claude")
    shim_env.config({"policies": {"budgets": {"b": {
        "scope": "tool", "match": "claude", "period": "day", "reserve_usd": 0.1,
        "limit": {"usd": 5.0, "type": "hard"}}}}})
    argv = CALL + ["--", "--max-budget-usd", "9"]
    shim_env.run(argv, DIME_NO_MODEL)
    (call,) = shim_env.calls("claude")
    assert call["argv"] == ["--max-budget-usd", "0.1"] + argv[1:]


@pytest.mark.parametrize("argv", [["claude", "--version"], ["claude", "--help"],
                                  ["claude", "mcp", "list"], ["claude", "config", "list"],
                                  ["claude", "doctor"]])
def test_an_exhausted_budget_or_rate_limit_never_refuses_a_free_meta_call(shim_env, argv):
    shim_env.install("claude")
    shim_env.config({"policies": {
        "budgets": {"spent": {"scope": "tool", "match": "claude", "period": "day",
                              "reserve_usd": 1.0, "limit": {"usd": 0.01, "type": "hard"}}},
        "rate_limits": {"none": {"scope": "tool", "match": "claude", "calls_per_minute": 1,
                                 "on_limit": "reject"}}}})
    refused = shim_env.run(CALL, DIME_NO_MODEL)
    assert refused.returncode == 75  # the budget really is exhausted for a paid call
    for _ in range(2):  # twice: one call a minute would refuse the second
        proc = shim_env.run(argv, DIME_NO_MODEL)
        assert proc.returncode == 0, proc.stderr
    assert [c["argv"] for c in shim_env.calls("claude")] == [argv[1:]] * 2


@pytest.mark.parametrize("tool, argv", [
    ("llm", ["llm", "-m", "no-such-model-x", "hi"]),
    ("codex", ["codex", "exec", "-m", "no-such-model-x", "hi"]),
])
def test_an_unpriced_call_under_a_hard_budget_is_refused_not_run_unlimited(shim_env, tool, argv):
    """No price, no history, no reserve_usd: the reservation would be 0 and the call could
    spend anything, so it is refused with the way out, as claude's is."""
    shim_env.install(tool)
    shim_env.config({"policies": {"budgets": {"b": {
        "scope": "tool", "match": tool, "period": "day", "limit": {"usd": 5.0}}}}})
    proc = shim_env.run(argv)
    assert proc.returncode == 75, proc.stderr
    err = proc.stderr.decode()
    assert err.startswith(
        f"llm-shim: budget: cannot run this {tool} call under hard budget 'b': its cost cannot "
        "be estimated (no price for no-such-model-x and no recorded cost); set reserve_usd on "
        "the budget, or add a price: `llm-shim prices update`"), err
    assert len(err.strip().splitlines()) == 1
    assert shim_env.calls(tool) == []


def test_an_unpriced_call_runs_under_a_soft_budget_or_with_reserve_usd(shim_env):
    """...and with `reserve_usd` it runs; its cost stays unknown, so the budget counts it at
    its reservation, never at 0, and `llm-shim budget` says the spend includes that."""
    shim_env.install("llm")
    shim_env.config({"policies": {"budgets": {"soft": {
        "scope": "tool", "match": "llm", "period": "day", "limit": {"usd": 5.0, "type": "soft"}}}}})
    assert shim_env.run(["llm", "-m", "no-such-model-x", "hi"]).returncode == 0
    shim_env.config({"policies": {"budgets": {"b": {
        "scope": "tool", "match": "llm", "period": "day", "reserve_usd": 0.2,
        "limit": {"usd": 0.5}}}}})
    for _ in range(3):
        shim_env.run(["llm", "-m", "no-such-model-x", "hi"])
    assert len(shim_env.calls("llm")) == 3  # the third ($0.40 + $0.20 > $0.50) is refused
    rows = shim_env.attempts()
    assert [r["cost_usd"] for r in rows if not r["blocked"]] == [None, None, None]
    proc = shim_env.run(["llm-shim", "budget"])
    out = proc.stdout.decode()
    assert "$0.40*" in out, out
    assert "* b: includes $0.40 counted at its reservation" in out, out


@pytest.mark.parametrize("tool, argv", [("claude", ["claude", "ultrareview"]),
                                        ("codex", ["codex", "review"]),
                                        ("llm", ["llm", "embed", "-c", "hi"])])
def test_a_paid_meta_call_is_still_held_by_an_exhausted_budget(shim_env, tool, argv):
    """Only meta calls the adapter knows spend nothing go ungated: `codex review` runs a model."""
    shim_env.install(tool)
    shim_env.config({"policies": {"budgets": {"spent": {
        "scope": "tool", "match": tool, "period": "day", "reserve_usd": 1.0,
        "limit": {"usd": 0.01, "type": "hard"}}}}})
    proc = shim_env.run(argv)
    assert proc.returncode == 75, proc.stderr
    assert shim_env.calls(tool) == []
