"""Plan-window snapshots: the used % of a tool's 5-hour / weekly window, as the tool said it.

Two sources, one shape (`{"tool", "window", "used_pct", "resets_at", "status"}`):

* Claude Code's status line JSON: `rate_limits.<window>.used_percentage` (0-100) and
  `resets_at`, seen both as epoch seconds and as ISO 8601; absent for API-key users and in some
  releases (then there is nothing to record);
* Claude's `stream-json` `rate_limit_event` lines: `rate_limit_info.rateLimitType`,
  `resetsAt`, `status`, and a 0-1 `utilization` only when the status is not plain `allowed`
  (a `rejected` window without one is full: 100 %).

Snapshots go to the `plan_snapshots` table (migration 9). A snapshot whose window has reset
since (`resets_at` passed) says nothing about the new window: `latest` returns None for it.
No import beyond the standard library's cheap modules: the status line runs this after every
assistant message.
"""

import time

SOURCES = ("statusline", "stream")
WINDOW_SECONDS = {"five_hour": 5 * 3600, "seven_day": 7 * 86400}


def parse_time(value):
    """Epoch seconds from epoch seconds, epoch milliseconds or an ISO 8601 text; else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            value = float(text)
        except ValueError:
            return _iso(text)
    if not isinstance(value, (int, float)) or value != value or value <= 0:
        return None
    value = float(value)
    return value / 1000.0 if value > 1e12 else value


def _iso(text):
    import datetime

    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:  # no offset written: read it as UTC, as the API's times are
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.timestamp()


def _percent(value, scale=1.0):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                return None
        else:
            return None
    value = float(value) * scale
    if value != value or value < 0 or value > 1e6:
        return None
    return value


def from_statusline(data):
    """Snapshots in a status line JSON document (a dict); [] when it carries none."""
    limits = data.get("rate_limits") if isinstance(data, dict) else None
    if not isinstance(limits, dict):
        return []
    out = []
    for window, info in limits.items():
        if not isinstance(window, str) or not isinstance(info, dict):
            continue
        used = _percent(info.get("used_percentage"))
        if used is None and "utilization" in info:
            used = _percent(info.get("utilization"), 100.0)
        resets = parse_time(info.get("resets_at"))
        if used is None and resets is None:
            continue
        out.append({"tool": "claude", "window": window, "used_pct": used,
                    "resets_at": resets, "status": None})
    return out


def from_rate_limit_event(obj):
    """Snapshots in one stream-json `rate_limit_event` line (a dict); [] when none."""
    info = obj.get("rate_limit_info") if isinstance(obj, dict) else None
    if not isinstance(info, dict):
        return []
    out = []
    status = info.get("status") if isinstance(info.get("status"), str) else None
    window = info.get("rateLimitType")
    if isinstance(window, str) and window:
        used = _percent(info.get("utilization"), 100.0)
        if used is None and status == "rejected":
            used = 100.0  # refused: the window is full
        out.append({"tool": "claude", "window": window, "used_pct": used,
                    "resets_at": parse_time(info.get("resetsAt")), "status": status})
    windows = info.get("unifiedWindows")
    if isinstance(windows, dict):
        for name, each in windows.items():
            if not isinstance(name, str) or not isinstance(each, dict) or name == window:
                continue
            used = _percent(each.get("utilization"), 100.0)
            if used is None:
                continue
            out.append({"tool": "claude", "window": name, "used_pct": used,
                        "resets_at": parse_time(each.get("resetsAt") or each.get("resets_at")),
                        "status": None})
    return out


def record(conn, snapshots, source, session_id=None, now=None):
    """Insert the snapshots that differ from the newest stored one of their window.
    Returns how many were inserted. `conn` is an autocommit store connection."""
    if not snapshots:
        return 0
    now = time.time() if now is None else now
    inserted = 0
    conn.execute("BEGIN IMMEDIATE")
    try:
        for snap in snapshots:
            last = conn.execute(
                "SELECT used_pct, resets_at, status FROM plan_snapshots WHERE tool = ? AND "
                "plan_window = ? ORDER BY seen_at DESC, id DESC LIMIT 1",
                (snap["tool"], snap["window"])).fetchone()
            if last is not None and _same(last, snap):
                continue
            conn.execute(
                "INSERT INTO plan_snapshots (seen_at, tool, plan_window, used_pct, resets_at, "
                "status, source, session_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (now, snap["tool"], snap["window"], snap["used_pct"], snap["resets_at"],
                 snap.get("status"), source, session_id))
            inserted += 1
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return inserted


def _same(row, snap):
    used, resets, status = row
    return (used == snap["used_pct"] and status == snap.get("status")
            and (resets is None) == (snap["resets_at"] is None)
            and (resets is None or abs(resets - snap["resets_at"]) < 1.0))


def latest(conn, tool, window, now=None):
    """The newest snapshot with a used % of `tool`'s `window`, or None when there is none or
    its window has reset since (a snapshot older than its reset says nothing about now).
    A dict: tool, window, used_pct, resets_at, status, seen_at, source."""
    now = time.time() if now is None else now
    row = conn.execute(
        "SELECT used_pct, resets_at, status, seen_at, source FROM plan_snapshots "
        "WHERE tool = ? AND plan_window = ? AND used_pct IS NOT NULL "
        "ORDER BY seen_at DESC, id DESC LIMIT 1", (tool, window)).fetchone()
    if row is None:
        return None
    used, resets, status, seen, source = row
    if stale(window, resets, seen, now):
        return None
    return {"tool": tool, "window": window, "used_pct": used, "resets_at": resets,
            "status": status, "seen_at": seen, "source": source}


def stale(window, resets_at, seen_at, now):
    """True when a snapshot says nothing about the window running at `now`: its window has
    reset since, or (no reset time given) it is older than one window length."""
    if resets_at is not None:
        return resets_at <= now
    return now - seen_at > WINDOW_SECONDS.get(window, 5 * 3600)


def newest(conn, now=None):
    """The newest snapshot with a used % of every tool and window ever seen, stale ones
    included and marked (`"stale": True`): what `llm-shim watch` shows. [dicts as `latest`'s,
    plus "stale"], by tool and window."""
    now = time.time() if now is None else now
    out = []
    pairs = conn.execute("SELECT DISTINCT tool, plan_window FROM plan_snapshots "
                         "WHERE used_pct IS NOT NULL ORDER BY tool, plan_window").fetchall()
    for tool, window in pairs:
        used, resets, status, seen, source = conn.execute(
            "SELECT used_pct, resets_at, status, seen_at, source FROM plan_snapshots "
            "WHERE tool = ? AND plan_window = ? AND used_pct IS NOT NULL "
            "ORDER BY seen_at DESC, id DESC LIMIT 1", (tool, window)).fetchone()
        out.append({"tool": tool, "window": window, "used_pct": used, "resets_at": resets,
                    "status": status, "seen_at": seen, "source": source,
                    "stale": stale(window, resets, seen, now)})
    return out


def window_label(window):
    return {"five_hour": "5h", "seven_day": "7d"}.get(window, window)


def record_events(events, session_id=None, now=None):
    """Store the snapshots in stream-json `rate_limit_event` lines a tap saw, after the call.
    Never raises: the call already ran, and a lost snapshot only leaves quotas on the previous
    one (one warning line says why)."""
    snaps = []
    for event in events or ():
        snaps.extend(from_rate_limit_event(event))
    if not snaps:
        return 0
    latest_by_window = {}
    for snap in snaps:  # in stream order: the last one of each window is the newest
        latest_by_window[(snap["tool"], snap["window"])] = snap
    try:
        from shim.telemetry import store

        conn = store.connect(timeout=2.0)
        try:
            return record(conn, list(latest_by_window.values()), "stream", session_id, now)
        finally:
            conn.close()
    except Exception as exc:
        from shim import errors

        if errors.debug_enabled():
            raise
        errors.warn("plan snapshot", f"not recorded: {type(exc).__name__}: {exc}",
                    "quota routing uses the previous snapshot")
        return 0
