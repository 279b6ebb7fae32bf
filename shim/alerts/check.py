"""After a call's cost is settled: which alert thresholds did its budgets cross, and who tells;
before a call starts, the same for the quotas the shim just measured (`after_quotas`).

`after_settlement` runs in the shim (shim.policy.settle.finish) only when alerts are
configured. For each budget the call counted against it re-measures the spend (recorded +
settled, not the estimates of calls still in flight) and claims every threshold reached with
an INSERT OR IGNORE into `alerts`, whose unique key is (alert, threshold, period_start): of
20 parallel shims crossing 80 % together exactly one adds the row, and only that one spawns
the delivery, detached (shim/detach.py), so the call is never delayed or failed by it.
"""

import json
import time

from shim import errors
from shim.alerts import config
from shim.telemetry import record

EPSILON = 1e-9


def period_start(measured, budget, now):
    """The period an alert fires once in: a calendar budget's current period; for a rolling
    window, fixed slots of the window's length (a moving start would fire again and again)."""
    if budget["period"] == "rolling":
        window = float(budget["window_s"])
        return float(int(now // window) * window)
    return float(measured["start"])


def subject(measured, now):
    """What an alert is about: {kind, name, spent, limit, label, period_start, reset_at}."""
    budget = measured["budget"]
    return {"kind": "budget", "name": budget["name"], "spent": float(measured["spent"]),
            "limit": float(budget["limit_usd"]), "label": measured["label"],
            "period_start": period_start(measured, budget, now),
            "reset_at": measured["reset_at"]}


RESET_ROUNDING = 600.0  # a window's reset time as reported drifts by seconds between reports


def quota_subject(row, now):
    """A measured quota (shim.policy.quotas.measure, with its "quota") as an alert subject:
    `spent` is the used share of the window, `limit` 1. It fires once per window: the one
    ending at the snapshot's reset (rounded to RESET_ROUNDING), else (an estimate, a snapshot
    without a reset time) fixed slots of the window's length, as a rolling budget's."""
    from shim.plans import snapshots

    quota = row["quota"]
    span = float(snapshots.WINDOW_SECONDS.get(quota["window"], 5 * 3600))
    if row.get("resets_at"):
        start = round(row["resets_at"] / RESET_ROUNDING) * RESET_ROUNDING - span
    else:
        start = float(int(now // span) * span)
    label = f"{quota['tool']} {snapshots.window_label(quota['window'])} window"
    if row.get("source") == "estimate":
        label += " (estimate)"
    return {"kind": "quota", "name": quota["name"], "spent": float(row["used"]), "limit": 1.0,
            "label": label, "period_start": start, "reset_at": row.get("resets_at"),
            "detail": row.get("detail")}


def message(subj, threshold, test=False):
    from shim.policy.budgets import usd

    if subj["kind"] == "quota":
        return (f"quota '{subj['name']}': {subj['label']} at {subj['detail']} "
                f"(threshold {threshold:.0%})")
    percent = 100.0 * subj["spent"] / subj["limit"] if subj["limit"] else 100.0
    text = (f"{subj['kind']} '{subj['name']}' reached {percent:.0f}% of {usd(subj['limit'])} "
            f"{subj['label']} ({usd(subj['spent'])} spent; threshold {threshold:.0%})")
    return ("test alert: " + text) if test else text


def document(alert, subj, threshold, now, test=False):
    """The JSON document a webhook receives and a command reads on stdin."""
    from shim.isotime import iso_utc

    fraction = subj["spent"] / subj["limit"] if subj["limit"] else None
    quota = subj["kind"] == "quota"  # a share of a plan window: no dollars
    return {"source": "llm-shim", "test": bool(test), "alert": alert["name"],
            "kind": subj["kind"], "name": subj["name"], "threshold": threshold,
            "fraction": round(fraction, 6) if fraction is not None else None,
            "spent_usd": None if quota else round(subj["spent"], 6),
            "limit_usd": None if quota else subj["limit"],
            "period": subj["label"], "period_start": iso_utc(subj["period_start"]),
            "resets_at": iso_utc(subj["reset_at"]), "at": iso_utc(now),
            "host": record.host_name(), "message": message(subj, threshold, test)}


def alert_key(alert, subj):
    return f"{alert['name']}:{subj['kind']}:{subj['name']}"


def sample_subject(now):
    """A made-up budget at 80 % of $10.00 today, for `llm-shim alerts test`."""
    return {"kind": "test", "name": "sample", "spent": 8.0, "limit": 10.0, "label": "today",
            "period_start": now, "reset_at": None}


def claim(conn, alert, subj, now, test=False):
    """Claim the thresholds `subj` has reached and not yet claimed in its period. Returns the
    id of the row to deliver (the highest threshold newly claimed), or None. Lower thresholds
    claimed in the same step are recorded as `skipped`: one message, not three. `test`
    claims a sample at 80 % whatever the spend (`llm-shim alerts test`)."""
    key = alert_key(alert, subj)
    reached = [t for t in alert["thresholds"]
               if subj["limit"] > 0 and subj["spent"] >= t * subj["limit"] - EPSILON]
    if test:
        reached = [0.8]
    elif not reached:
        return None
    if not test:
        have = {row[0] for row in conn.execute(
            "SELECT threshold FROM alerts WHERE alert = ? AND period_start = ?",
            (key, subj["period_start"]))}
        reached = [t for t in reached if t not in have]
        if not reached:
            return None  # the common case once a threshold fired: one indexed read
    channels = json.dumps({"command": alert["command"], "webhook": alert["webhook"],
                           "timeout": alert["timeout"]})
    deliver_id, top = None, None
    conn.execute("BEGIN IMMEDIATE")
    try:
        for threshold in sorted(reached, reverse=True):
            status, detail = "pending", None
            if top is not None:
                status, detail = "skipped", f"crossed together with {top:.0%}"
            cur = conn.execute(
                "INSERT OR IGNORE INTO alerts (alert, threshold, period_start, created_at, "
                "subject_kind, subject, fraction, spent_usd, limit_usd, payload, channels, "
                "status, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (key, threshold, subj["period_start"], now, subj["kind"], subj["name"],
                 subj["spent"] / subj["limit"] if subj["limit"] else None,
                 None if subj["kind"] == "quota" else subj["spent"],
                 None if subj["kind"] == "quota" else subj["limit"], json.dumps(document(alert, subj, threshold, now, test)),
                 channels, status, detail))
            if cur.rowcount == 1 and top is None:
                deliver_id, top = cur.lastrowid, threshold
            elif top is None:
                top = threshold  # another shim claimed this one: it speaks for the lower
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return deliver_id


def after_settlement(conn, gate, cfg, measure, now=None):
    """Claim and dispatch the alerts this call's settled cost triggered. Never raises: the
    call already ran, and an alert must not change its outcome. Returns the claimed ids.
    `measure`: the policy engine's budget measure (passed in: alerts never import the engine;
    the engine calls them as hooks the proxy handed it, shim.alerts.policy_hooks)."""
    try:
        return _after_settlement(conn, gate, cfg, measure,
                                 time.time() if now is None else now)
    except Exception as exc:
        if errors.debug_enabled():
            raise
        errors.warn("alerts", f"{type(exc).__name__}: {exc}",
                    "the call itself is unaffected; no alert was sent for it")
        return []


def _after_settlement(conn, gate, cfg, measure, now):
    alerts, refused = config.configured(cfg)
    for name in refused:
        errors.warn("alerts", f"policies.alerts.{name} is set in a project file",
                    "alerts run programs and send data: set them in your user config")
    if not alerts:
        return []
    claimed = []
    for row in (gate or {}).get("budgets") or ():
        budget = row.get("budget") or {}
        if budget.get("scope") == "team" or not any(config.watches(a, budget.get("name"))
                                                     for a in alerts):
            continue
        subj = subject(measure(conn, budget, cfg, now), now)
        for alert in alerts:
            if config.watches(alert, budget["name"]):
                found = claim(conn, alert, subj, now)
                if found is not None:
                    claimed.append(found)
    _dispatch(claimed)
    return claimed


def after_quotas(conn, rows, cfg, now=None):
    """Claim and dispatch the alerts the quotas measured for this call (quotas.judge's
    "quotas" rows) have reached. Never raises and never stops the call: it has not started
    yet, and an alert must not change whether it does. Returns the claimed ids."""
    try:
        return _after_quotas(conn, rows, cfg, time.time() if now is None else now)
    except Exception as exc:
        if errors.debug_enabled():
            raise
        errors.warn("alerts", f"{type(exc).__name__}: {exc}",
                    "the call itself is unaffected; no quota alert was sent for it")
        return []


def _after_quotas(conn, rows, cfg, now):
    alerts, _ = config.configured(cfg)  # a refused one is warned about after settlement
    claimed = []
    for row in rows or ():
        name = row["quota"]["name"]
        watching = [a for a in alerts if config.watches(a, name, "quota")]
        if row.get("used") is None or not watching:
            continue  # unknown is not zero: an unknown window crosses nothing
        subj = quota_subject(row, now)
        for alert in watching:
            found = claim(conn, alert, subj, now)
            if found is not None:
                claimed.append(found)
    _dispatch(claimed)
    return claimed


def _dispatch(claimed):
    for alert_id in claimed:
        from shim import detach

        detach.spawn("shim.alerts.deliver", [str(alert_id)])
