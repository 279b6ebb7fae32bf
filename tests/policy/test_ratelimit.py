"""Sliding-window arithmetic of rate limits (no database)."""

import pytest

from shim import errors
from shim.policy import ratelimit


def limit(**kw):
    base = {"name": "r", "scope": "tool", "match": "codex", "calls_per_minute": None,
            "calls_per_hour": None, "tokens_per_hour": None, "on_limit": "wait",
            "max_wait": 60.0}
    base.update(kw)
    return base


def test_room_left_means_no_wait():
    assert ratelimit.wait_for(limit(calls_per_minute=3), [(90.0, 0), (95.0, 0)], 0, 100.0) == \
        (0.0, None)


def test_full_minute_waits_for_the_oldest_call_to_leave():
    events = [(50.0, 0), (70.0, 0), (90.0, 0)]
    wait, which = ratelimit.wait_for(limit(calls_per_minute=3), events, 0, 100.0)
    assert which == "calls_per_minute"
    assert wait == pytest.approx(10.0)  # 50 + 60 - 100


def test_events_older_than_the_window_do_not_count():
    events = [(10.0, 0), (20.0, 0), (95.0, 0)]
    assert ratelimit.wait_for(limit(calls_per_minute=2), events, 0, 100.0)[0] == 0.0


def test_hourly_calls_and_the_longest_wait_wins():
    events = [(float(t), 0) for t in range(0, 3600, 600)]  # 6 calls: 0, 600, ... 3000
    wait, which = ratelimit.wait_for(limit(calls_per_minute=10, calls_per_hour=6), events, 0,
                                     3100.0)
    assert which == "calls_per_hour"
    assert wait == pytest.approx(500.0)  # the call at 0 leaves at 3600


def test_tokens_per_hour_waits_until_enough_tokens_leave():
    events = [(100.0, 4000), (200.0, 4000), (300.0, 1000)]
    wait, which = ratelimit.wait_for(limit(tokens_per_hour=10000), events, 3000, 1000.0)
    assert which == "tokens_per_hour"
    assert wait == pytest.approx(100.0 + 3600 - 1000)  # the first 4000 must leave


def test_a_call_bigger_than_the_hourly_budget_runs_on_an_empty_window():
    assert ratelimit.wait_for(limit(tokens_per_hour=1000), [], 5000, 10.0)[0] == 0.0
    wait, _ = ratelimit.wait_for(limit(tokens_per_hour=1000), [(5.0, 10)], 5000, 10.0)
    assert wait == pytest.approx(3595.0)


def test_configured_defaults_and_errors():
    cfg = {"policies": {"rate_limits": {"codex": {"scope": "tool", "match": "codex",
                                                  "calls_per_minute": 5}}}}
    (got,) = ratelimit.configured(cfg)
    assert got["on_limit"] == "wait" and got["max_wait"] == 60.0
    with pytest.raises(errors.ConfigError):
        ratelimit.configured({"policies": {"rate_limits": {"x": {"scope": "agent",
                                                                 "calls_per_minute": 1}}}})


def test_rejection_message_is_one_line_with_exit_75():
    err = ratelimit.rejected_error(limit(calls_per_minute=10, on_limit="reject"),
                                   "calls_per_minute", 42.0)
    assert err.exit_code == 75
    (line,) = err.lines()
    assert line == ("llm-shim: rate limit: tool 'codex' reached 10 calls per minute "
                    "(rate limit 'r'); the next slot is free in 42s; try again then")


def test_lookback_is_the_longest_window_a_limit_sets():
    assert ratelimit.lookback(limit(calls_per_minute=5)) == 60.0
    assert ratelimit.lookback(limit(calls_per_minute=5, tokens_per_hour=9)) == 3600.0
    assert ratelimit.lookback(limit(calls_per_hour=2)) == 3600.0
    assert ratelimit.lookback({"name": "r"}) == 0.0


@pytest.mark.parametrize("seed", range(6))
def test_events_past_the_lookback_never_change_the_wait(seed):
    """The engine reads only the last `lookback` seconds of events (issue 16): whatever is
    older, the wait is what the whole hour gives."""
    import random

    rnd = random.Random(seed)
    now = 10_000.0
    events = sorted((now - rnd.uniform(0, 3600), rnd.randint(0, 500)) for _ in range(80))
    for spec in ({"calls_per_minute": 3}, {"calls_per_minute": 30},
                 {"calls_per_minute": 4, "calls_per_hour": 70}, {"tokens_per_hour": 20000}):
        lim = limit(**spec)
        recent = [e for e in events if e[0] >= now - ratelimit.lookback(lim)]
        assert ratelimit.wait_for(lim, recent, 100, now) == \
            ratelimit.wait_for(lim, events, 100, now)
