"""Budget rules without a database: configuration, scope matching, periods, verdicts, text."""

import datetime
import zoneinfo

import pytest

from shim import errors
from shim.policy import budgets

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def cfg_with(budgets_cfg=None, agents=None, tz="Europe/Berlin", week_starts="monday"):
    return {
        "policies": {"timezone": tz, "week_starts": week_starts, "budgets": budgets_cfg or {}},
        "agents": agents or {},
        "models": {"claude-sonnet-5": {"provider": "anthropic", "tier": "standard"},
                   "gpt-5.5": {"provider": "openai", "tier": "standard"}},
        "_aliases": {"sonnet": "claude-sonnet-5", "claude-sonnet-5": "claude-sonnet-5"},
    }


def at(*args, tz=BERLIN):
    return datetime.datetime(*args, tzinfo=tz).timestamp()


def one(spec, **kw):
    return budgets.configured(cfg_with({"b": spec}, **kw))[0]


def test_agent_budgets_come_from_both_places():
    cfg = cfg_with({"all": {"scope": "global", "period": "day", "limit": {"usd": 10}}},
                   agents={"reviewer": {"budget": {"period": "week", "limit": {"usd": 5}}},
                           "other": {}})
    got = {b["name"]: b for b in budgets.configured(cfg)}
    assert set(got) == {"all", "agent:reviewer"}
    assert got["agent:reviewer"]["scope"] == "agent"
    assert got["agent:reviewer"]["patterns"] == ["reviewer"]
    assert got["agent:reviewer"]["type"] == "hard"  # the schema's default


@pytest.mark.parametrize("spec, problem", [
    ({"scope": "team", "period": "day", "limit": {"usd": 1}}, "scope"),
    ({"scope": "agent", "period": "day", "limit": {"usd": 1}}, "no match"),
    ({"scope": "global", "period": "rolling", "window": "5 hours", "limit": {"usd": 1}},
     "not a duration"),
    ({"scope": "global", "period": "day", "limit": {}}, "limit.usd"),
])
def test_bad_budgets_are_config_errors(spec, problem):
    with pytest.raises(errors.ConfigError) as info:
        one(spec)
    assert problem in info.value.why


@pytest.mark.parametrize("scope, match, decision, expected", [
    ("global", None, {"agent": "x", "tool": "claude"}, True),
    ("agent", "reviewer", {"agent": "reviewer", "tool": "claude"}, True),
    ("agent", "review*", {"agent": "reviewer-2", "tool": "claude"}, True),
    ("agent", "reviewer", {"agent": "default", "tool": "claude"}, False),
    ("tool", "codex", {"agent": "a", "tool": "codex"}, True),
    ("provider", "anthropic", {"agent": "a", "tool": "claude", "model": "claude-sonnet-5"},
     True),
    ("provider", "openai", {"agent": "a", "tool": "claude", "model": "claude-sonnet-5"}, False),
    # An alias in `match` also matches the model id it names.
    ("model", "sonnet", {"agent": "a", "tool": "claude", "model": "claude-sonnet-5"}, True),
    # No model on argv: the tool's default (baseline) model counts.
    ("model", "claude-sonnet-5", {"agent": "a", "tool": "claude", "model": None,
                                  "baseline_model": "claude-sonnet-5"}, True),
])
def test_scope_matching(scope, match, decision, expected):
    cfg = cfg_with({"b": {"scope": scope, "match": match, "period": "day",
                          "limit": {"usd": 1}}})
    assert bool(budgets.applicable(cfg, decision)) is expected


def test_day_period_in_a_named_zone():
    b = one({"scope": "global", "period": "day", "limit": {"usd": 1}})
    start, reset, label = budgets.period_bounds(b, cfg_with(), at(2026, 3, 10, 15, 30))
    assert (start, reset, label) == (at(2026, 3, 10), at(2026, 3, 11), "today")


def test_day_across_the_spring_dst_switch_is_23_hours():
    b = one({"scope": "global", "period": "day", "limit": {"usd": 1}})
    start, reset, _ = budgets.period_bounds(b, cfg_with(), at(2026, 3, 29, 12, 0))
    assert reset - start == 23 * 3600


@pytest.mark.parametrize("week_starts, expected_start", [
    ("monday", (2026, 3, 9)), ("sunday", (2026, 3, 8)), ("wednesday", (2026, 3, 4)),
])
def test_week_period_follows_week_starts(week_starts, expected_start):
    b = one({"scope": "global", "period": "week", "limit": {"usd": 1}}, week_starts=week_starts)
    cfg = cfg_with(week_starts=week_starts)
    start, reset, label = budgets.period_bounds(b, cfg, at(2026, 3, 10, 9, 0))  # a Tuesday
    assert start == at(*expected_start)
    assert reset == at(*expected_start) + 7 * 86400
    assert label == "this week"


def test_month_period_rolls_over_the_year():
    b = one({"scope": "global", "period": "month", "limit": {"usd": 1}})
    start, reset, label = budgets.period_bounds(b, cfg_with(), at(2026, 12, 31, 23, 59))
    assert (start, reset, label) == (at(2026, 12, 1), at(2027, 1, 1), "this month")


def test_local_zone_uses_the_machine_clock():
    b = one({"scope": "global", "period": "day", "limit": {"usd": 1}}, tz="local")
    start, reset, _ = budgets.period_bounds(b, cfg_with(tz="local"), 1_800_000_000.0)
    assert start <= 1_800_000_000.0 < reset
    assert 23 * 3600 <= reset - start <= 25 * 3600


def test_unknown_zone_is_a_config_error():
    b = one({"scope": "global", "period": "day", "limit": {"usd": 1}})
    with pytest.raises(errors.ConfigError):
        budgets.period_bounds(b, cfg_with(tz="Mars/Olympus"), 0)


def test_rolling_window():
    b = one({"scope": "global", "period": "rolling", "window": "5h", "limit": {"usd": 1}})
    start, reset, label = budgets.period_bounds(b, cfg_with(), 100_000.0)
    assert start == 100_000.0 - 5 * 3600
    assert reset is None and label == "in the last 5h"


@pytest.mark.parametrize("text, seconds", [("90s", 90), ("30m", 1800), ("5h", 18000),
                                           ("1.5d", 129600), ("2w", 1209600)])
def test_parse_window(text, seconds):
    assert budgets.parse_window(text) == seconds


@pytest.mark.parametrize("kind, action, spent, in_flight, estimate, downgraded, verdict", [
    ("hard", "block", 0.90, 0.0, 0.10, False, "ok"),       # exactly at the limit: allowed
    ("hard", "block", 0.90, 0.05, 0.10, False, "block"),   # in-flight spend counts
    ("hard", "block", 1.20, 0.0, 0.0, False, "block"),
    ("soft", "block", 0.95, 0.0, 0.10, False, "warn"),
    ("hard", "downgrade", 0.70, 0.0, 0.05, False, "ok"),
    ("hard", "downgrade", 0.79, 0.0, 0.05, False, "downgrade"),
    ("hard", "downgrade", 0.95, 0.0, 0.02, True, "ok"),     # the cheaper tier still fits
    ("hard", "downgrade", 0.99, 0.0, 0.02, True, "block"),  # it does not
    ("soft", "downgrade", 0.99, 0.0, 0.02, True, "warn"),
])
def test_judge(kind, action, spent, in_flight, estimate, downgraded, verdict):
    b = one({"scope": "global", "period": "day", "limit": {"usd": 1.0, "type": kind},
             "action": action, "downgrade_at": 0.8})
    assert budgets.judge(b, spent, in_flight, estimate, downgraded) == verdict


def test_ten_dimes_fill_a_dollar_despite_floating_point():
    b = one({"scope": "global", "period": "day", "limit": {"usd": 1.0}})
    spent = 0.0
    for _ in range(9):
        spent += 0.1
    assert budgets.judge(b, spent, 0.0, 0.1) == "ok"
    assert budgets.judge(b, spent + 0.1, 0.0, 0.1) == "block"


def test_block_message_has_the_documented_shape():
    cfg = cfg_with(agents={"reviewer": {"budget": {"period": "day", "limit": {"usd": 5}}}})
    b = budgets.configured(cfg)[0]
    now = at(2026, 3, 10, 20, 48)
    start, reset, label = budgets.period_bounds(b, cfg, now)
    err = budgets.blocked_error(b, 4.91, 0.0, 0.15, label, reset, now)
    assert isinstance(err, errors.Blocked) and err.exit_code == 75
    line = err.lines()[0]
    assert line.startswith("llm-shim: budget: agent 'reviewer' has spent $4.91 of $5.00 today")
    assert "resets in 3h12m" in line
    assert line.endswith("(LLM_SHIM_BUDGET_OVERRIDE=1 runs it anyway, and that is recorded)")
    assert "\n" not in line


@pytest.mark.parametrize("seconds, text", [(40, "40s"), (45 * 60, "45m"),
                                           (3 * 3600 + 12 * 60, "3h12m"), (3600, "1h"),
                                           (2 * 86400 + 3 * 3600, "2d3h")])
def test_duration(seconds, text):
    assert budgets.duration(seconds) == text
