"""Budgets: which apply to a call, the period they count, and what they say about it.

Pure functions over the compiled config and numbers the engine read from the database, so
each rule is testable without SQLite. A budget comes from `policies.budgets.<name>` (scope
global | agent | tool | provider | model, with `match`) or from `agents.<name>.budget` (scope
agent, match = that agent). Periods are calendar days, weeks (from `policies.week_starts`) and
months in `policies.timezone` ("local" = the machine's zone), or rolling windows (`window: 5h`).

A verdict compares spent + in flight + this call's estimate with the limit:

* `ok`;
* `warn` (soft limit passed): the call runs, one warning line on stderr;
* `downgrade` (`action: downgrade` and the total reached `downgrade_at` of the limit): the
  call is re-routed one tier cheaper, then judged again (a hard limit still blocks at 100 %);
* `block` (hard limit passed): the call does not start, exit 75.
"""

import time

from shim import errors

SCOPES = ("global", "team", "agent", "tool", "provider", "model")
# The column of the `spend` view (and of the policy tables) each scope counts.
# `team` counts every call of every member, in the team store (shim/team/budgets.py).
SCOPE_COLUMNS = {"global": None, "team": None, "agent": "agent", "tool": "tool",
                 "provider": "provider", "model": "model"}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
EPSILON = 1e-9  # ten calls of $0.10 fill a $1.00 budget despite binary floating point
DEFAULT_DOWNGRADE_AT = 0.8
OVERRIDE_ENV = "LLM_SHIM_BUDGET_OVERRIDE"


# --- configuration ------------------------------------------------------------------------------

def team_scoped(cfg):
    """True when some budget has scope team (judged in the team store, shim/team/budgets.py)."""
    return any(b["scope"] == "team" for b in configured(cfg or {}))


def configured(cfg):
    """Every budget, normalised: [{name, origin, scope, patterns, period, window_s, ...}]."""
    out = []
    policies = cfg.get("policies") or {}
    for name, spec in sorted((policies.get("budgets") or {}).items()):
        if spec:
            out.append(_normalise(name, f"policies.budgets.{name}", spec, cfg))
    for agent, settings in sorted((cfg.get("agents") or {}).items()):
        spec = (settings or {}).get("budget")
        if spec:
            spec = dict(spec, scope="agent", match=agent)
            out.append(_normalise(f"agent:{agent}", f"agents.{agent}.budget", spec, cfg))
    return out


def _normalise(name, origin, spec, cfg):
    scope = spec.get("scope") or "global"
    if scope not in SCOPES:
        raise errors.ConfigError("config", f"{origin}.scope is {scope!r}",
                                 f"use one of {', '.join(SCOPES)}")
    if scope == "team" and not ((cfg.get("team") or {}).get("dsn")):
        raise errors.ConfigError("config", f"{origin}.scope is team but there is no team: "
                                 "section", "add team: {dsn: ..., name: ...} (docs/team.md)")
    match = spec.get("match")
    if scope not in ("global", "team") and not match:
        raise errors.ConfigError("config", f"{origin} has scope {scope} but no match",
                                 f"name the {scope} it counts in {origin}.match")
    period = spec.get("period") or "day"
    window_s = None
    if period == "rolling":
        window_s = parse_window(spec.get("window"), f"{origin}.window")
    elif period not in ("day", "week", "month"):
        raise errors.ConfigError("config", f"{origin}.period is {period!r}",
                                 "use day, week, month or rolling (with window)")
    limit = spec.get("limit") or {}
    try:
        usd = float(limit.get("usd"))
    except (TypeError, ValueError):
        raise errors.ConfigError("config", f"{origin}.limit.usd is missing or not a number",
                                 "e.g. limit: {usd: 5.0, type: hard}") from None
    return {
        "name": name,
        "origin": origin,
        "scope": scope,
        "match": match,
        "patterns": patterns(scope, match, cfg),
        "period": period,
        "window": spec.get("window"),
        "window_s": window_s,
        "limit_usd": usd,
        "type": limit.get("type") or "hard",
        "action": spec.get("action") or "block",
        "downgrade_at": float(spec.get("downgrade_at") or DEFAULT_DOWNGRADE_AT),
        "reserve_usd": _reserve_usd(spec.get("reserve_usd"), origin),
    }


def _reserve_usd(value, origin):
    """`reserve_usd`: a fixed per-call reservation (None: the learned estimate)."""
    if value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        value = -1.0
    if not value > 0:
        raise errors.ConfigError("config", f"{origin}.reserve_usd must be a number > 0",
                                 "e.g. reserve_usd: 0.25, or leave it out to learn it")
    return value


def hard_names(judged_rows):
    """The names of the hard budgets among judged rows ({"budget": ...}): the ones a call must
    never pass unchecked (a soft budget warns, caps nothing)."""
    return [r["budget"]["name"] for r in judged_rows if r["budget"].get("type") == "hard"]


def fixed_reservation(applicable_budgets):
    """The largest `reserve_usd` of the budgets a call falls under, or None."""
    values = [b["reserve_usd"] for b in applicable_budgets if b.get("reserve_usd")]
    return max(values) if values else None


def patterns(scope, match, cfg):
    """GLOB patterns for the scope column; a model alias also matches its id."""
    if scope == "global" or match is None:
        return []
    values = [match] if isinstance(match, str) else list(match)
    out = []
    for value in values:
        value = str(value)
        out.append(value)
        if scope == "model":
            canonical = (cfg.get("_aliases") or {}).get(value)
            if canonical and canonical not in out:
                out.append(canonical)
    return out


def parse_window(text, where="window"):
    """"5h" → 18000.0 seconds (s, m, h, d, w)."""
    text = str(text or "").strip().lower()
    if len(text) >= 2 and text[-1] in _UNITS:
        try:
            value = float(text[:-1])
        except ValueError:
            value = -1
        if value > 0:
            return value * _UNITS[text[-1]]
    raise errors.ConfigError("config", f"{where} is {text!r}, not a duration",
                             "write a number and s, m, h, d or w, e.g. 5h")


# --- which budgets a call falls under -------------------------------------------------------

def subject(decision, cfg):
    """The values a call is counted under: agent, tool, provider, model (effective)."""
    model = decision.get("model") or decision.get("baseline_model")
    provider = decision.get("provider")
    if provider is None and model:
        provider = ((cfg.get("models") or {}).get(model) or {}).get("provider")
    return {"agent": decision.get("agent"), "tool": decision.get("tool"),
            "provider": provider, "model": model, "near_agents": _near_agents(decision, cfg)}


def _near_agents(decision, cfg):
    """The known agents a mistyped `$LLM_SHIM_AGENT` may have meant (`Rev` for `rev`): their
    budgets gate the call too, so a typo never escapes them (routing stays the default's)."""
    from shim.routing import agents

    named = agents.mapped_from(decision.get("agent_reason"))
    return agents.near(named, cfg.get("agents") or {}) if named else []


def applies(budget, values):
    """True when the call described by `values` (from `subject`) counts against `budget`."""
    column = SCOPE_COLUMNS[budget["scope"]]
    if column is None:
        return True
    if column == "agent" and any(applies(budget, dict(values, agent=name, near_agents=()))
                                 for name in values.get("near_agents") or ()):
        return True
    value = values.get(column)
    if value is None:
        return False
    value = str(value)
    for pattern in budget["patterns"]:
        if pattern == value:
            return True
        if any(c in pattern for c in "*?["):
            from fnmatch import fnmatchcase

            if fnmatchcase(value, pattern):
                return True
    return False


def costs_nothing(decision):
    """A meta call that spends nothing (`--version`, `--help`, `mcp list`, `doctor`; the
    adapter says which, shim.adapters.parse): no budget, rate limit or quota gates it, so an
    exhausted budget never locks the user out of them. A paid one (`codex review`) is gated."""
    return decision.get("mode") == "meta" and bool(decision.get("free"))


def applicable(cfg, decision):
    if costs_nothing(decision):
        return []
    values = subject(decision, cfg)
    return [b for b in configured(cfg) if applies(b, values)]


# --- periods ----------------------------------------------------------------------------------

def zone(cfg):
    """A tzinfo for `policies.timezone`, or None for the machine's local zone."""
    name = (cfg.get("policies") or {}).get("timezone") or "local"
    if name == "local":
        return None
    import zoneinfo

    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise errors.ConfigError("config", f"policies.timezone {name!r} is not a known time zone",
                                 "use an IANA name such as Europe/Berlin, or local") from None


def _midnight(year, month, day, tz):
    """Epoch seconds of 00:00 on that date (month/day may overflow: mktime normalises)."""
    if tz is None:
        return time.mktime((year, month, day, 0, 0, 0, 0, 0, -1))
    import datetime

    # Normalise overflowing months/days through a date first.
    while month > 12:
        year, month = year + 1, month - 12
    while month < 1:
        year, month = year - 1, month + 12
    base = datetime.date(year, month, 1) + datetime.timedelta(days=day - 1)
    return datetime.datetime(base.year, base.month, base.day, tzinfo=tz).timestamp()


def _local_date(now, tz):
    """(year, month, day, weekday Monday=0) of `now` in the zone."""
    if tz is None:
        t = time.localtime(now)
        return t.tm_year, t.tm_mon, t.tm_mday, t.tm_wday
    import datetime

    d = datetime.datetime.fromtimestamp(now, tz)
    return d.year, d.month, d.day, d.weekday()


def period_bounds(budget, cfg, now=None):
    """(start, reset_at or None, label): the counted period and when it starts over.

    Rolling windows have no fixed reset: the engine computes it from the oldest spend.
    """
    now = time.time() if now is None else now
    period = budget["period"]
    if period == "rolling":
        return now - budget["window_s"], None, f"in the last {budget['window']}"
    tz = zone(cfg)
    year, month, day, weekday = _local_date(now, tz)
    if period == "day":
        return _midnight(year, month, day, tz), _midnight(year, month, day + 1, tz), "today"
    if period == "week":
        first = (cfg.get("policies") or {}).get("week_starts") or "monday"
        offset = (weekday - WEEKDAYS.index(first)) % 7
        return (_midnight(year, month, day - offset, tz),
                _midnight(year, month, day - offset + 7, tz), "this week")
    return _midnight(year, month, 1, tz), _midnight(year, month + 1, 1, tz), "this month"


# --- verdicts -----------------------------------------------------------------------------------

def judge(budget, spent, in_flight, estimate, downgraded=False):
    """"ok", "warn", "downgrade" or "block" for a call of `estimate` USD.

    `downgraded`: the call was already moved to a cheaper tier; judge it on the limit alone.
    """
    limit = budget["limit_usd"]
    total = spent + in_flight + estimate
    if (budget["action"] == "downgrade" and not downgraded
            and total + EPSILON >= budget["downgrade_at"] * limit):
        return "downgrade"
    if total <= limit + EPSILON:
        return "ok"
    return "warn" if budget["type"] == "soft" else "block"


def usd(value):
    value = float(value or 0.0)
    if value and abs(value) < 0.01:
        return f"${value:.4f}"
    return f"${value:.2f}"


def duration(seconds):
    """3h12m, 45m, 2d3h, 40s."""
    seconds = max(0, int(seconds + 0.5))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h{minutes:02d}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"


def who(budget):
    if budget["scope"] == "global":
        return f"budget '{budget['name']}' (all calls)"
    if budget["scope"] == "team":
        return f"team budget '{budget['name']}' (every member's calls)"
    match = budget["match"] if isinstance(budget["match"], str) else ", ".join(budget["match"])
    return f"{budget['scope']} '{match}'"


def describe(budget, spent, in_flight, estimate, label):
    """`agent 'reviewer' has spent $4.91 of $5.00 today` (+ what is in flight, the call)."""
    text = f"{who(budget)} has spent {usd(spent)} of {usd(budget['limit_usd'])} {label}"
    extra = []
    if in_flight > 0:
        extra.append(f"{usd(in_flight)} more in flight")
    if spent + in_flight <= budget["limit_usd"] + EPSILON and estimate > 0:
        extra.append(f"this call needs about {usd(estimate)}")
    if extra:
        text += " (" + ", ".join(extra) + ")"
    return text


def resets_text(reset_at, now=None):
    if reset_at is None:
        return None
    now = time.time() if now is None else now
    return f"resets in {duration(reset_at - now)}"


def blocked_error(budget, spent, in_flight, estimate, label, reset_at, now=None):
    why = describe(budget, spent, in_flight, estimate, label)
    resets = resets_text(reset_at, now)
    hint = (f"{resets} " if resets else "") + \
        f"({OVERRIDE_ENV}=1 runs it anyway, and that is recorded)"
    return errors.Blocked("budget", why, hint)
