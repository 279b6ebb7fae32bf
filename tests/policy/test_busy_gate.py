"""A database too busy to check never lets a call run past a hard budget.

The test holds SQLite's write lock (BEGIN IMMEDIATE) while a shim tries to admit a call with a
short busy wait (LLM_SHIM_BUDGET_BUSY_WAIT): under a hard budget the call is refused, exit 75,
without starting the tool; under a soft budget it runs after one warning (fail open).
"""

from tests.policy.test_budget_e2e import DIME_CALL, dime_config

SHORT_WAIT = {"LLM_SHIM_BUDGET_BUSY_WAIT": "0.3"}
HARD_DOLLAR = {"dollar": {"scope": "global", "period": "day",
                          "limit": {"usd": 1.00, "type": "hard"}}}


def _hold_write_lock(shim_env):
    conn = shim_env.db()  # creates the schema first, so the shim's connect needs no write
    conn.execute("BEGIN IMMEDIATE")
    return conn


def _call_while_busy(shim_env, budgets, env):
    """The DIME call under `budgets` while another connection holds the write lock."""
    shim_env.install("claude")
    shim_env.config(dime_config(budgets=budgets))
    lock = _hold_write_lock(shim_env)
    try:
        return shim_env.run(DIME_CALL, env)
    finally:
        lock.execute("ROLLBACK")
        lock.close()


def test_busy_database_refuses_a_call_under_a_hard_budget(shim_env):
    proc = _call_while_busy(shim_env, HARD_DOLLAR, SHORT_WAIT)
    assert proc.returncode == 75, proc.stderr
    assert proc.stdout == b""
    assert proc.stderr.decode().startswith(
        "llm-shim: budget: the telemetry database stayed busy for 0.3 s, so the hard budget "
        "could not be checked")
    assert shim_env.calls("claude") == []
    rows = shim_env.attempts()
    assert [(r["blocked"], r["block_reason"].split(":")[0]) for r in rows] == [(1, "budget")]


def test_busy_database_under_a_hard_budget_runs_with_the_override(shim_env):
    proc = _call_while_busy(shim_env, HARD_DOLLAR,
                            dict(SHORT_WAIT, LLM_SHIM_BUDGET_OVERRIDE="1"))
    assert proc.returncode == 0, proc.stderr
    assert "without its budget check" in proc.stderr.decode()
    assert len(shim_env.calls("claude")) == 1


def test_busy_database_under_a_soft_budget_runs_with_a_warning(shim_env):
    proc = _call_while_busy(shim_env, {"soft": {
        "scope": "global", "period": "day", "limit": {"usd": 1.00, "type": "soft"}}}, SHORT_WAIT)
    assert proc.returncode == 0, proc.stderr
    err = proc.stderr.decode()
    assert err.startswith("llm-shim: warning: policy: OperationalError: database is locked")
    assert "running claude (dime-model) without its budget check" in err
    assert len(shim_env.calls("claude")) == 1
    assert [r["blocked"] for r in shim_env.attempts()] == [0]
