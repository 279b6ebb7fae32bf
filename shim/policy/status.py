"""Where every budget, rate limit and cooldown stands right now (for `llm-shim budget`).

Read-only apart from the housekeeping every admitter does too (expiring dead reservations),
inside one transaction so the figures are consistent with each other.
"""

import time

from shim.policy import budgets, engine, ratelimit, state


def status(conn, cfg, now=None, team=None):
    """{"now", "budgets": [...], "rate_limits": [...], "reservations": [...], "cooldowns": [...]}

    `team`: the team budgets' hooks (shim.team.budget_hooks), for a budget of scope team."""
    now = time.time() if now is None else now
    conn.execute("BEGIN IMMEDIATE")
    try:
        state.expire(conn, now)
        rows = [_budget_row(engine.measure(conn, b, cfg, now, team), now)
                for b in budgets.configured(cfg)]
        limits = [_limit_row(conn, limit, now) for limit in ratelimit.configured(cfg)]
        reservations = state.in_flight(conn)
        cooling = state.cooldowns(conn, now)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return {
        "now": now,
        "budgets": rows,
        "rate_limits": limits,
        "reservations": [dict(r, state="settled, awaiting ingestion" if r["settled"]
                              else "in flight") for r in reservations],
        "cooldowns": [{"kind": kind, "name": name, "until": row["until"],
                       "seconds_left": max(0.0, row["until"] - now),
                       "failure_class": row["failure_class"], "set_at": row["set_at"]}
                      for (kind, name), row in sorted(cooling.items())],
    }


def _budget_row(measured, now):
    budget = measured["budget"]
    limit = budget["limit_usd"]
    used = measured["spent"] + measured["in_flight"]
    percent = (100.0 * used / limit) if limit else (100.0 if used else 0.0)
    verdict = budgets.judge(budget, measured["spent"], measured["in_flight"], 0.0)
    state_name = {"ok": "ok", "downgrade": "downgrading", "warn": "over (soft)",
                  "block": "blocking"}[verdict]
    if verdict == "ok" and used >= limit - budgets.EPSILON and limit > 0:
        state_name = "full" if budget["type"] == "hard" else "at limit (soft)"
    reset_at = measured["reset_at"]
    return {
        "name": budget["name"],
        "origin": budget["origin"],
        "scope": budget["scope"],
        "match": budget["match"],
        "period": budget["period"],
        "window": budget["window"],
        "label": measured["label"],
        "start": measured["start"],
        "reset_at": reset_at,
        "resets_in_seconds": (max(0.0, reset_at - now) if reset_at is not None else None),
        "spent_usd": round(measured["spent"], 6),
        "recorded_usd": round(measured["recorded"], 6),
        "pending_usd": round(measured["pending"], 6),
        "in_flight_usd": round(measured["in_flight"], 6),
        "in_flight_calls": measured["in_flight_calls"],
        "limit_usd": limit,
        "percent": round(percent, 1),
        "type": budget["type"],
        "action": budget["action"],
        "downgrade_at": budget["downgrade_at"] if budget["action"] == "downgrade" else None,
        "state": state_name,
    }


def _limit_row(conn, limit, now):
    column = budgets.SCOPE_COLUMNS[limit["scope"]]
    events = state.rate_times(conn, column, limit["patterns"], now - 3600.0)
    minute = [e for e in events if e[0] > now - 60.0]
    return {
        "name": limit["name"],
        "scope": limit["scope"],
        "match": limit["match"],
        "calls_last_minute": len(minute),
        "calls_last_hour": len(events),
        "tokens_last_hour": sum(int(t or 0) for _, t in events),
        "calls_per_minute": limit["calls_per_minute"],
        "calls_per_hour": limit["calls_per_hour"],
        "tokens_per_hour": limit["tokens_per_hour"],
        "on_limit": limit["on_limit"],
        "max_wait": limit["max_wait"],
    }
