"""Cooldowns: a tool or model that answered rate_limited or overloaded is skipped by every shim
on the machine for a while, like LiteLLM's router cooldowns.

The state is a row per (kind, name) in `policy_cooldowns`: kind `model` when the attempt's
model is known, else `tool`. The length is the Retry-After the tool printed when it printed one
("Please try again in 20s"), else `policies.fallback.cooldown_seconds`. A later deadline never
shortens an earlier one.

A cooldown only matters where there is somewhere else to go: the attempt loop skips a cooling
entry of a fallback chain when a later entry is not cooling, and notes it in the reasons. A
call without a chain, or whose every entry is cooling, runs as asked.
"""

import time

from shim.policy import state

DEFAULT_SECONDS = 60.0
# Classes that put a tool or model into cooldown for every shim on the machine.
COOLDOWN_CLASSES = ("rate_limited", "overloaded")


def seconds(cfg, retry_after=None):
    if retry_after:
        return float(retry_after)
    value = (((cfg.get("policies") or {}).get("fallback")) or {}).get("cooldown_seconds")
    return float(DEFAULT_SECONDS if value is None else value)


def key_of(tool, model):
    """The (kind, name) a failure of this tool/model cools down."""
    return ("model", model) if model else ("tool", tool)


def record_failure(conn, cfg, tool, model, failure_class, retry_after=None, now=None):
    """Start (or extend) a cooldown after a rate_limited/overloaded attempt. Returns its end."""
    if failure_class not in COOLDOWN_CLASSES:
        return None
    length = seconds(cfg, retry_after)
    if length <= 0:
        return None
    now = time.time() if now is None else now
    kind, name = key_of(tool, model)
    conn.execute("BEGIN IMMEDIATE")
    try:
        state.set_cooldown(conn, kind, name, now + length, failure_class, now=now)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return now + length


def cooling(active, tool, model):
    """The cooldown (dict) that applies to this tool/model, or None."""
    found = None
    for key in (("tool", tool), ("model", model)):
        if key[1] and key in active:
            row = active[key]
            if found is None or row["until"] > found["until"]:
                found = dict(row, kind=key[0], name=key[1])
    return found


def describe(row, now=None):
    now = time.time() if now is None else now
    left = max(0, int(row["until"] - now + 0.5))
    return f"{row['kind']} {row['name']} is cooling down ({row['failure_class']}, {left}s left)"
