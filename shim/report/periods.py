"""Local calendar periods (day, week, month) as UTC instants, with zoneinfo.

A local day is not 86,400 s apart from the next across a DST change, and its start is not a
whole UTC hour in half-hour zones, so periods are computed here, in Python, from the zone's
rules: each period is [start, end) in epoch seconds, the first instant whose local date is the
period's first date up to the same for the next period. The store is summed in UTC
quarter-hour buckets (every zone's midnight since 1970 falls on one), which fold into these
periods exactly.
"""

import datetime as dt
import os
import re
import zoneinfo

from shim import errors

GRANULARITIES = ("hour", "day", "week", "month")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# How far back a report goes without --since: the current period and the ones before it.
# (Hours: the current day, as the day view's detail.)
DEFAULT_SPAN = {"hour": 1, "day": 30, "week": 12, "month": 12}
_RELATIVE = re.compile(r"^(\d+)([dwm])$")


def resolve_zone(name):
    """A tzinfo for an IANA name or "local"; raises UsageError for unknown names."""
    if not name or name == "local":
        return local_zone()
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise errors.UsageError("report", f"unknown time zone {name!r}",
                                "use an IANA name such as Europe/Berlin, or local") from None


def local_zone():
    """The machine's zone with its DST rules: $TZ, else /etc/localtime, else UTC."""
    name = os.environ.get("TZ", "").lstrip(":")
    if name:
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            pass
    try:
        target = os.path.realpath("/etc/localtime")
        marker = "zoneinfo" + os.sep
        if marker in target:
            return zoneinfo.ZoneInfo(target.split(marker, 1)[1])
        with open("/etc/localtime", "rb") as fh:
            return zoneinfo.ZoneInfo.from_file(fh, key="localtime")
    except (OSError, ValueError, zoneinfo.ZoneInfoNotFoundError):
        return dt.timezone.utc


def zone_name(zone):
    return getattr(zone, "key", None) or str(zone)


def today(zone, now=None):
    return dt.datetime.fromtimestamp(now if now is not None else _now(), zone).date()


def _now():
    import time

    return time.time()


def parse_day(text, zone, now=None, *, end=False, week_starts="monday"):
    """A local date from YYYY-MM-DD, today, yesterday, or Nd / Nw / Nm.

    As a start (--since), `7d` is the last 7 days including today, `4w` the current week
    (starting on `week_starts`) and the 3 before it, `3m` the current calendar month and the
    2 before it: whole weeks and months, so no period is cut short. As an end (--until), `7d`
    is the day 7 days ago, `4w` 28 days ago, `3m` the same day 3 months ago.
    """
    value = (text or "").strip().lower()
    current = today(zone, now)
    if value == "today":
        return current
    if value == "yesterday":
        return current - dt.timedelta(days=1)
    match = _RELATIVE.match(value)
    if match:
        count, unit = int(match.group(1)), match.group(2)
        if unit == "m":
            if end:
                return add_months(current, -count)
            return add_months(current.replace(day=1), -max(count - 1, 0))
        if unit == "w" and not end:
            return period_start(current, "week", week_starts) - dt.timedelta(
                days=7 * max(count - 1, 0))
        days = count * (7 if unit == "w" else 1)
        return current - dt.timedelta(days=days if end else max(days - 1, 0))
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise errors.UsageError(
            "report", f"cannot read the date {text!r}",
            "use YYYY-MM-DD, today, yesterday, or a count like 7d, 4w, 3m") from None


_BARE_DAY = re.compile(r"^(\d{4}-\d{2}-\d{2}|today|yesterday)$")


def parse_instant(text, zone, now=None, *, end=False, command="logs", option="--since"):
    """Epoch seconds for a `logs --since/--until` that may be an instant (a duration ago,
    `30m` = 30 minutes, or a local date-time) or a bare day. A bare day (YYYY-MM-DD, today,
    yesterday) is read by `parse_day`, as `report` reads it: as a start its first instant,
    as an end (--until) the end of that day, so `--since D --until D` is the whole day D in
    both commands."""
    value = str(text).strip()
    lowered = value.lower()
    seconds = duration_seconds(lowered)
    if seconds is not None:
        return (now if now is not None else _now()) - seconds
    if _BARE_DAY.match(lowered):
        try:
            day = parse_day(lowered, zone, now, end=end)
        except errors.ShimError:
            day = None
        if day is not None:
            return day_start(day + dt.timedelta(days=1) if end else day, zone)
    try:
        stamp = dt.datetime.fromisoformat(value)
    except ValueError:
        raise errors.UsageError(command, f"cannot read {option} {text!r}",
                                "use a duration (30m, 2h, 7d, 2w), a date (2026-11-05, "
                                "today, yesterday) or a time (2026-11-05T14:00)") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=zone)
    return stamp.timestamp()


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def duration_seconds(text):
    """Seconds in '90d', '2w', '12h', '30m' (minutes), '45s', or None."""
    match = _DURATION.match(str(text).strip())
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)] if match else None


def add_months(day, months):
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def period_start(day, granularity, week_starts="monday"):
    """The first local date of the period holding `day`."""
    if granularity in ("hour", "day"):
        return day
    if granularity == "week":
        first = WEEKDAYS.index(week_starts)
        return day - dt.timedelta(days=(day.weekday() - first) % 7)
    return day.replace(day=1)


def next_start(start, granularity):
    if granularity in ("hour", "day"):
        return start + dt.timedelta(days=1)
    if granularity == "week":
        return start + dt.timedelta(days=7)
    return add_months(start, 1)


def label(start, granularity):
    """day and week: the first date (2026-03-30); month: 2026-03."""
    return start.strftime("%Y-%m") if granularity == "month" else start.isoformat()


def default_range(granularity, zone, week_starts="monday", now=None):
    """(first, last) local dates, inclusive: the current period and the ones before it."""
    return span_ending(today(zone, now), granularity, week_starts)


def span_ending(last, granularity, week_starts="monday"):
    """(first, last): the DEFAULT_SPAN periods ending with the one holding `last`."""
    start = period_start(last, granularity, week_starts)
    span = DEFAULT_SPAN[granularity]
    if granularity in ("hour", "day"):
        first = start - dt.timedelta(days=span - 1)
    elif granularity == "week":
        first = start - dt.timedelta(days=7 * (span - 1))
    else:
        first = add_months(start, -(span - 1))
    return first, last


def day_start(day, zone):
    """Epoch seconds of the first instant whose local date is `day`.

    zoneinfo (PEP 495, fold=0) maps a 00:00 that a DST gap skips to the instant the gap ends,
    and a 00:00 that a fall-back repeats to its first occurrence: both are the day's start.
    """
    stamp = dt.datetime.combine(day, dt.time(0), tzinfo=zone).timestamp()
    return int(stamp) if stamp == int(stamp) else stamp


def build(first, last, granularity, zone, week_starts="monday", current=None):
    """The periods covering local dates first..last (inclusive), clipped to them.

    Each is {"period": label, "first": date, "last": date (inclusive), "start": epoch,
    "end": epoch, "clipped": bool}, in order; `start`/`end` are the UTC bounds [start, end)
    actually counted. `clipped` says the range cut the period short: it starts after the
    period's first day, or ends before its last day and before `current` (today: a period
    still running is not clipped, it is unfinished).
    """
    if granularity not in GRANULARITIES:
        raise ValueError(granularity)
    if week_starts not in WEEKDAYS:
        week_starts = "monday"
    if granularity == "hour":
        return hours(first, last, zone)
    periods = []
    start = period_start(first, granularity, week_starts)
    while start <= last:
        following = next_start(start, granularity)
        lo = max(start, first)
        natural_last = following - dt.timedelta(days=1)
        hi = min(natural_last, last)
        cut_end = hi < natural_last and (current is None or hi < current)
        periods.append({
            "period": label(start, granularity), "first": lo, "last": hi,
            "start": day_start(lo, zone), "end": day_start(hi + dt.timedelta(days=1), zone),
            "clipped": lo > start or cut_end,
        })
        start = following
    return periods


def hours(first, last, zone):
    """One period per hour of local dates first..last: UTC hours from each day's start,
    labelled with their local wall-clock start (a repeated hour in autumn shows twice)."""
    periods = []
    day = first
    while day <= last:
        start, end = day_start(day, zone), day_start(day + dt.timedelta(days=1), zone)
        while start < end:
            following = min(start + 3600, end)
            stamp = dt.datetime.fromtimestamp(start, zone)
            periods.append({"period": stamp.strftime("%Y-%m-%d %H:%M"), "first": day,
                            "last": day, "start": start, "end": following, "clipped": False})
            start = following
        day += dt.timedelta(days=1)
    return periods


def bucket_seconds(periods, preferred=900):
    """The largest of 900, 60, 1 s that divides every period bound: buckets of that size
    never straddle a bound, so folding them is exact."""
    bounds = [p["start"] for p in periods] + [p["end"] for p in periods]
    for size in (preferred, 60, 1):
        if all(isinstance(b, int) and b % size == 0 for b in bounds):
            return size
    return None  # fractional offsets (none exist in tzdata since 1970): the caller sums rows
