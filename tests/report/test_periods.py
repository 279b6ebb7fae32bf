"""Local days, weeks and months: time zone boundaries, DST, half-hour zones, date parsing."""

import datetime as dt
import zoneinfo

import pytest

from shim import errors
from shim.report import periods


def _json(report, *args):
    code, doc, err = report("--json", *args)
    assert code == 0, err
    return doc


def _days(doc):
    return {r["period"]: r["attempts"] for r in doc["rows"]}


def test_2330_local_lands_on_that_local_day(store, report):
    # 23:30 in New York on 10 March is 03:30 UTC on 11 March.
    store.add("2026-03-10 23:30", "America/New_York")
    store.add("2026-03-11 00:30", "America/New_York")
    ny = _json(report, "--tz", "America/New_York", "--since", "2026-03-09", "--until", "2026-03-12")
    assert _days(ny) == {"2026-03-10": 1, "2026-03-11": 1}
    utc = _json(report, "--tz", "UTC", "--since", "2026-03-09", "--until", "2026-03-12")
    assert _days(utc) == {"2026-03-11": 2}


def test_half_hour_zone(store, report):
    # India is UTC+05:30, so its midnight is 18:30 UTC: a UTC-hour bucket would straddle it.
    store.add("2026-03-10 23:45", "Asia/Kolkata")  # 18:15 UTC on the 10th
    store.add("2026-03-10 23:59", "Asia/Kolkata")  # 18:29 UTC
    store.add("2026-03-11 00:10", "Asia/Kolkata")  # 18:40 UTC on the 10th
    store.add("2026-03-11 00:20", "Asia/Kathmandu")  # +05:45: 18:35 UTC = 00:05 IST on the 11th
    ist = _json(report, "--tz", "Asia/Kolkata", "--since", "2026-03-09", "--until", "2026-03-12")
    assert _days(ist) == {"2026-03-10": 2, "2026-03-11": 2}
    utc = _json(report, "--tz", "UTC", "--since", "2026-03-09", "--until", "2026-03-12")
    assert _days(utc) == {"2026-03-10": 4}


def test_spring_forward_day_has_23_hours(store, report):
    zone = "Europe/Berlin"  # 2026-03-29 02:00 -> 03:00
    store.add("2026-03-29 00:30", zone)
    store.add("2026-03-29 23:30", zone)
    store.add("2026-03-30 00:15", zone)
    store.add("2026-03-28 23:59", zone)
    doc = _json(report, "--tz", zone, "--since", "2026-03-28", "--until", "2026-03-30")
    assert _days(doc) == {"2026-03-28": 1, "2026-03-29": 2, "2026-03-30": 1}
    day = doc["periods"][1]
    assert day["period"] == "2026-03-29"
    assert (day["start"], day["end"]) == ("2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00")
    span = dt.datetime.fromisoformat(day["end"]) - dt.datetime.fromisoformat(day["start"])
    assert span == dt.timedelta(hours=23)


def test_fall_back_day_has_25_hours(store, report):
    zone = "Europe/Berlin"  # 2026-10-25 03:00 -> 02:00
    store.add("2026-10-25 23:30", zone)
    store.add(periods.day_start(dt.date(2026, 10, 25), zoneinfo.ZoneInfo(zone)) + 2 * 3600 + 1800)
    store.add("2026-10-26 00:00", zone)
    doc = _json(report, "--tz", zone, "--since", "2026-10-25", "--until", "2026-10-26")
    assert _days(doc) == {"2026-10-25": 2, "2026-10-26": 1}
    start, end = (dt.datetime.fromisoformat(doc["periods"][0][k]) for k in ("start", "end"))
    assert end - start == dt.timedelta(hours=25)


def test_weeks_start_on_the_configured_day(store, report, isolated_env):
    store.add("2026-03-08 12:00", "UTC")  # a Sunday
    store.add("2026-03-09 12:00", "UTC")  # a Monday
    monday = _json(report, "--weekly", "--tz", "UTC", "--since", "2026-03-01",
                   "--until", "2026-03-15")
    assert _days(monday) == {"2026-03-02": 1, "2026-03-09": 1}
    assert [p["period"] for p in monday["periods"]] == ["2026-02-23", "2026-03-02", "2026-03-09"]
    assert monday["periods"][0]["first_day"] == "2026-03-01"  # clipped to --since
    config = isolated_env["shim_home"] / "config.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("policies:\n  week_starts: sunday\n  timezone: UTC\n")
    sunday = _json(report, "--weekly", "--since", "2026-03-01", "--until", "2026-03-15")
    assert sunday["week_starts"] == "sunday" and sunday["timezone"] == "UTC"
    assert _days(sunday) == {"2026-03-08": 2}


def test_months_follow_the_local_calendar(store, report):
    zone = "America/Los_Angeles"
    store.add("2026-01-31 23:00", zone)  # 07:00 UTC on 1 February
    store.add("2026-02-01 00:30", zone)
    store.add("2026-03-31 23:59", zone)
    doc = _json(report, "--monthly", "--tz", zone, "--since", "2026-01-01", "--until", "2026-03-31")
    assert _days(doc) == {"2026-01": 1, "2026-02": 1, "2026-03": 1}
    assert [p["period"] for p in doc["periods"]] == ["2026-01", "2026-02", "2026-03"]


def test_default_range_is_the_last_30_days(store, report):
    import time

    store.add(time.time() - 3600 * 24 * 3)
    store.add(time.time() - 3600 * 24 * 45)  # outside the default window
    doc = _json(report, "--tz", "UTC")
    assert len(doc["periods"]) == 30
    assert doc["until"] == dt.datetime.now(dt.timezone.utc).date().isoformat()
    assert doc["totals"]["attempts"] == 1
    assert _json(report, "--tz", "UTC", "--since", "60d")["totals"]["attempts"] == 2


def test_unknown_zone_is_a_usage_error(report):
    code, out, err = report("--tz", "Mars/Olympus")
    assert code == 2 and "unknown time zone 'Mars/Olympus'" in err


def test_bad_date_is_a_usage_error(report):
    code, out, err = report("--since", "last tuesday")
    assert code == 2 and "cannot read the date" in err
    code, out, err = report("--since", "2026-03-10", "--until", "2026-03-01")
    assert code == 2 and "after --until" in err


NOW = dt.datetime(2026, 3, 18, 12, tzinfo=dt.timezone.utc).timestamp()  # a Wednesday


@pytest.mark.parametrize("text, end, expected", [
    ("7d", False, "2026-03-12"), ("1d", False, "2026-03-18"), ("7d", True, "2026-03-11"),
    ("2w", False, "2026-03-09"), ("1m", False, "2026-03-01"), ("1m", True, "2026-02-18"),
    ("today", False, "2026-03-18"), ("yesterday", True, "2026-03-17"),
    ("2025-12-31", False, "2025-12-31"),
])
def test_parse_day(text, end, expected):
    day = periods.parse_day(text, dt.timezone.utc, NOW, end=end)
    assert day.isoformat() == expected


def test_add_months_clamps_the_day():
    assert periods.add_months(dt.date(2026, 3, 31), -1) == dt.date(2026, 2, 28)
    assert periods.add_months(dt.date(2026, 1, 15), -13) == dt.date(2024, 12, 15)


def _utc(epoch):
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).isoformat()


def test_midnight_in_a_dst_gap():
    # Chile moves 00:00 -> 01:00 on 2026-09-06: the day starts at 01:00 local (04:00 UTC).
    zone = zoneinfo.ZoneInfo("America/Santiago")
    start = periods.day_start(dt.date(2026, 9, 6), zone)
    assert _utc(start) == "2026-09-06T04:00:00+00:00"
    assert dt.datetime.fromtimestamp(start - 1, zone).date() == dt.date(2026, 9, 5)


def test_midnight_repeated_by_a_fall_back():
    # Cuba goes back 01:00 -> 00:00 on 2026-11-01: the day starts at the first 00:00 (-04).
    zone = zoneinfo.ZoneInfo("America/Havana")
    start = periods.day_start(dt.date(2026, 11, 1), zone)
    assert _utc(start) == "2026-11-01T04:00:00+00:00"
    end = periods.day_start(dt.date(2026, 11, 2), zone)
    assert end - start == 25 * 3600


def test_every_zone_bound_is_a_quarter_hour():
    chunks = []
    for name in ("Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe", "Pacific/Chatham",
                 "America/St_Johns", "Australia/Eucla", "Europe/Berlin"):
        zone = zoneinfo.ZoneInfo(name)
        chunks.append(periods.bucket_seconds(periods.build(
            dt.date(2025, 1, 1), dt.date(2026, 12, 31), "day", zone)))
    assert chunks == [900] * 7


def test_periods_are_contiguous_and_clipped():
    zone = zoneinfo.ZoneInfo("Europe/Berlin")
    built = periods.build(dt.date(2026, 3, 18), dt.date(2026, 5, 3), "month", zone)
    assert [p["period"] for p in built] == ["2026-03", "2026-04", "2026-05"]
    assert built[0]["first"] == dt.date(2026, 3, 18) and built[-1]["last"] == dt.date(2026, 5, 3)
    assert all(a["end"] == b["start"] for a, b in zip(built, built[1:]))


def test_resolve_zone_local_follows_tz(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    assert periods.zone_name(periods.resolve_zone("local")) == "Asia/Tokyo"
    with pytest.raises(errors.UsageError):
        periods.resolve_zone("Not/AZone")


def test_until_alone_ends_the_default_span_there(store, report):
    doc = _json(report, "--weekly", "--tz", "UTC", "--until", "2026-03-15")
    assert len(doc["periods"]) == 12
    assert (doc["since"], doc["until"]) == ("2025-12-22", "2026-03-15")
