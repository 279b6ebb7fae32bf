"""Rate limits: calls per minute or hour and tokens per hour, per agent, tool or model.

Sliding windows over `policy_rate_events` (one row per admitted attempt, its tokens the
estimate until the attempt settles with the real count). Pure arithmetic here; the engine
reads the events inside its transaction and sleeps outside it.

At the limit, `on_limit: wait` sleeps until the window has room, when that is at most
`max_wait` seconds away (re-checking after the sleep, since other shims wait too);
otherwise, and always with `on_limit: reject`, the call is refused with exit 75.
A single call that needs more tokens than `tokens_per_hour` runs when the window is empty
(otherwise it could never run).
"""

from shim import errors
from shim.policy import budgets

SCOPES = ("global", "agent", "tool", "model")
WINDOWS = (("calls_per_minute", 60.0, "calls"), ("calls_per_hour", 3600.0, "calls"),
           ("tokens_per_hour", 3600.0, "tokens"))
DEFAULT_MAX_WAIT = 60.0


def configured(cfg):
    out = []
    for name, spec in sorted((((cfg.get("policies") or {}).get("rate_limits")) or {}).items()):
        if not spec:
            continue
        origin = f"policies.rate_limits.{name}"
        scope = spec.get("scope") or "global"
        if scope not in SCOPES:
            raise errors.ConfigError("config", f"{origin}.scope is {scope!r}",
                                     f"use one of {', '.join(SCOPES)}")
        if scope != "global" and not spec.get("match"):
            raise errors.ConfigError("config", f"{origin} has scope {scope} but no match",
                                     f"name the {scope} it limits in {origin}.match")
        max_wait = spec.get("max_wait")
        out.append({
            "name": name,
            "origin": origin,
            "scope": scope,
            "match": spec.get("match"),
            "patterns": budgets.patterns(scope, spec.get("match"), cfg),
            "calls_per_minute": spec.get("calls_per_minute"),
            "calls_per_hour": spec.get("calls_per_hour"),
            "tokens_per_hour": spec.get("tokens_per_hour"),
            "on_limit": spec.get("on_limit") or "wait",
            "max_wait": float(DEFAULT_MAX_WAIT if max_wait is None else max_wait),
        })
    return out


def applicable(cfg, decision):
    if budgets.costs_nothing(decision):
        return []
    values = budgets.subject(decision, cfg)
    return [r for r in configured(cfg) if budgets.applies(r, values)]


def lookback(limit):
    """Seconds of past events `wait_for` reads for `limit`: its longest window (0.0: it sets
    none). The engine reads no older events (a limit of calls per minute: the last minute)."""
    return max((span for key, span, _unit in WINDOWS if limit.get(key)), default=0.0)


def wait_for(limit, events, tokens_needed, now):
    """Seconds until a call of `tokens_needed` fits every window of `limit` (0.0 = now).

    `events`: [(at, tokens)] of this limit's scope in the last `lookback(limit)` seconds (or
    more), oldest first.
    Returns (seconds, which) where `which` names the window that is full, or None.
    """
    longest, which = 0.0, None
    for key, span, unit in WINDOWS:
        allowed = limit.get(key)
        if not allowed:
            continue
        inside = [(at, tok) for at, tok in events if at > now - span]
        if unit == "calls":
            excess = len(inside) - (int(allowed) - 1)
            if excess <= 0:
                continue
            # The `excess` oldest calls must leave the window first.
            free_at = inside[excess - 1][0] + span
        else:
            used = sum(int(tok or 0) for _, tok in inside)
            room = int(allowed) - used
            if room >= tokens_needed or not inside:
                continue
            free_at = None
            for at, tok in inside:
                used -= int(tok or 0)
                if int(allowed) - used >= tokens_needed or used <= 0:
                    free_at = at + span
                    break
            if free_at is None:
                free_at = inside[-1][0] + span
        wait = max(0.0, free_at - now)
        if wait > longest:
            longest, which = wait, key
    return longest, which


def describe(limit, which):
    allowed = limit.get(which)
    unit = which.replace("_per_", " per ").replace("_", " ")
    subject = "all calls" if limit["scope"] == "global" else \
        f"{limit['scope']} '{limit['match']}'"
    return f"{subject} reached {allowed} {unit} (rate limit '{limit['name']}')"


def rejected_error(limit, which, wait):
    why = describe(limit, which)
    if limit["on_limit"] == "wait":
        hint = (f"the next slot is {budgets.duration(wait)} away, more than max_wait "
                f"{budgets.duration(limit['max_wait'])}; try again later")
    else:
        hint = f"the next slot is free in {budgets.duration(wait)}; try again then"
    return errors.Blocked("rate limit", why, hint)
