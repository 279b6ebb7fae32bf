"""The policy engine (issue 7): budgets that hold under concurrency, rate limits, fallback
chains with failure classification, and machine-wide cooldowns. docs/policies.md.

Nothing here but `active` is imported by a plain call: the proxy reaches `engine.admit` only
when a budget, rate limit or quota is configured, and `attempts.run` only with a gate or a
fallback chain.

engine.py        admit: judge budgets, rate limits and quotas, reserve (one transaction)
settle.py        finish (settle the reservation, cool down) / release (never started)
stale_spool.py   ingest-before-admit: a stale spool brought in (detached)
attempts.py      the attempt loop: hold stdout, classify, fall back; each attempt is run and
                 recorded by shim.attempt
budgets.py       which budgets apply, their periods, verdicts and messages (pure)
estimate.py      a call's expected cost before it runs; its actual cost afterwards
ratelimit.py     sliding-window arithmetic for calls/min, calls/hour, tokens/hour (pure)
quotas.py        plan-window quotas (Claude's 5-hour and weekly windows) at admission
cap.py           claude's own --max-budget-usd on a one-shot call under a hard budget
cooldown.py      skip a rate-limited/overloaded tool or model machine-wide
failures.py      classify a failed attempt from exit code, output and JSON hints (pure)
stdin.py         the same stdin for every attempt of a fallback chain
state.py         the queries on the policy tables (created by the telemetry migration m004,
                 shim/telemetry/migrations.py) and the gate's one connection per process
status.py, budget_report.py   where each budget, rate limit and cooldown stands (`budget`)

Team budgets and alerts are hooks the caller passes to `engine.admit` (shim.team.budget_hooks,
shim.alerts.policy_hooks): nothing here imports shim.team or shim.alerts.
"""


def active(cfg):
    """True when any budget, rate limit or quota is configured: the call then passes the gate
    (shim.policy.engine). Cheap: the proxy asks it on every call, before importing the engine."""
    policies = cfg.get("policies") or {}
    if policies.get("budgets") or policies.get("rate_limits") or policies.get("quotas"):
        return True
    return any((a or {}).get("budget") for a in (cfg.get("agents") or {}).values())
