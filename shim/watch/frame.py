"""One frame of `llm-shim watch` as plain data: everything the view shows, read in one go.

Every figure comes from an index or the report rollups, never from a scan of the rows, so a
frame stays cheap with a million rows in the store (tests/bench/watch_frame.py).
"""

import time

from shim.watch import blocks, running

RECENT_EVENTS = 8         # fallbacks, refusals and killed calls shown
RECENT_SECONDS = 24 * 3600


def collect(conn, cfg, now=None, spool_dir=None, tracker=None):
    """{"now", "running", "blocks", "plan_windows", "quotas", "today", "budgets", "events",
    "problems"}.

    `tracker`: a blocks.Tracker kept from frame to frame (the live view) so that only the
    first frame reads a week of the rollup. A part that cannot be read is None (shown as unknown, never as zero) with its reason in
    `problems`."""
    now = time.time() if now is None else now
    frame = {"now": now, "problems": []}
    for name, read in (("running", lambda: running.running(conn, now, spool_dir)),
                       ("blocks", lambda: (tracker or blocks.Tracker()).current(conn, now)),
                       ("plan_windows", lambda: plan_windows(conn, now)),
                       ("quotas", lambda: quota_states(conn, cfg, now)),
                       ("today", lambda: today(conn, cfg, now)),
                       ("budgets", lambda: budgets(conn, cfg, now)),
                       ("events", lambda: recent_events(conn, now))):
        try:
            frame[name] = read()
        except Exception as exc:
            from shim import errors

            if errors.debug_enabled():
                raise
            frame[name] = None
            frame["problems"].append(f"{name}: {type(exc).__name__}: {exc}")
    return frame


def plan_windows(conn, now):
    """The newest plan snapshot per tool and window, stale ones marked (shim.plans.snapshots)."""
    from shim.plans import snapshots

    return snapshots.newest(conn, now)


def quota_states(conn, cfg, now):
    """Every quota, measured as the shim judges it before a call (shim.policy.quotas)."""
    from shim.policy import quotas

    return quotas.states(conn, cfg, now)


def today(conn, cfg, now):
    """{"label", "rows": [{"agent", "model", "calls", "cost_usd", "unknown_cost"}],
    "total_usd", "unknown_cost"}: today in the config's zone, by agent and model."""
    from shim.report import periods as periods_mod
    from shim.report import query

    zone = periods_mod.resolve_zone((cfg.get("policies") or {}).get("timezone") or "local")
    day = periods_mod.today(zone, now)
    periods = periods_mod.build(day, day, "day", zone)
    sums, _ = query.collect(conn, periods, ("agent", "model"))
    names = query.MEASURE_NAMES
    at = {n: names.index(n) for n in ("attempts", "blocked", "cost_nusd", "unknown_cost")}
    rows = []
    for (_, (agent, model)), v in sums.items():
        rows.append({"agent": agent, "model": model,
                     "calls": v[at["attempts"]] - v[at["blocked"]],
                     "blocked": v[at["blocked"]],
                     "cost_usd": v[at["cost_nusd"]] / 1e9,
                     "unknown_cost": v[at["unknown_cost"]]})
    rows.sort(key=lambda r: (-r["cost_usd"], r["agent"] or "", r["model"] or ""))
    return {"label": day.isoformat(), "rows": rows,
            "total_usd": sum(r["cost_usd"] for r in rows),
            "unknown_cost": sum(r["unknown_cost"] for r in rows)}


def budgets(conn, cfg, now):
    """The rows of `llm-shim budget` (shim/policy/status.py), with the in-flight calls."""
    from shim import team
    from shim.policy import status

    report = status.status(conn, cfg, now, team.budget_hooks(cfg))
    return report["budgets"]


def recent_events(conn, now):
    """The newest fallbacks (attempts after the first), refusals and killed calls of the last
    day: [{"at", "kind", "tool", "model", "agent", "why"}], newest first."""
    since = now - RECENT_SECONDS
    out = []
    for table, why in (("attempts", "IFNULL(block_reason, failure_class)"),
                       ("counters", "NULL")):
        try:
            rows = conn.execute(
                f"SELECT started_at, attempt, blocked, failure_class, tool, model, agent, {why} "
                f"FROM {table} WHERE started_at >= ? AND (blocked != 0 OR attempt > 1 "
                f"OR failure_class = 'killed') ORDER BY started_at DESC LIMIT ?",
                (since, RECENT_EVENTS)).fetchall()
        except Exception:
            continue  # an old database without that table
        for at, attempt, blocked, failure, tool, model, agent, reason in rows:
            kind = "blocked" if blocked else ("killed" if failure == "killed"
                                              else f"fallback (attempt {attempt})")
            out.append({"at": at, "kind": kind, "tool": tool, "model": model, "agent": agent,
                        "why": reason})
    out.sort(key=lambda e: -e["at"])
    return out[:RECENT_EVENTS]
