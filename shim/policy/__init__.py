"""The policy engine (issue 7): budgets that hold under concurrency, rate limits, fallback
chains with failure classification, and machine-wide cooldowns. docs/policies.md.

Nothing here but `active` is imported by a plain call: the proxy reaches `engine.admit` only
when a budget or rate limit is configured, and `attempts.run` only with a gate or a fallback chain.

engine.py     admit (reserve, judge, rate-limit) / finish (settle, cool down) / release
attempts.py   the attempt loop: hold stdout, classify, fall back, record every attempt
budgets.py    which budgets apply, their periods, verdicts and messages (pure)
estimate.py   a call's expected cost before it runs; its actual cost afterwards
ratelimit.py  sliding-window arithmetic for calls/min, calls/hour, tokens/hour (pure)
cooldown.py   skip a rate-limited/overloaded tool or model machine-wide
failures.py   classify a failed attempt from exit code, output and JSON hints (pure)
state.py      the SQLite tables (a telemetry migration) and their queries
"""


def active(cfg):
    """True when any budget, rate limit or quota is configured: the call then passes the gate
    (shim.policy.engine). Cheap: the proxy asks it on every call, before importing the engine."""
    policies = cfg.get("policies") or {}
    if policies.get("budgets") or policies.get("rate_limits") or policies.get("quotas"):
        return True
    return any((a or {}).get("budget") for a in (cfg.get("agents") or {}).values())
