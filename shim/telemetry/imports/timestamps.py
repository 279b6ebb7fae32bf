"""Epoch seconds from the tools' ISO 8601 UTC timestamps, fast: `2026-12-06T10:00:00.123Z`.

The hour is parsed once and cached (months of logs hold a few thousand hours, but tens of
thousands of minutes: a cache per minute missed one timestamp in five), and so is the fraction
of a second (".123Z", a thousand of them); minutes and seconds are a table (":MM:SS"). A
timestamp whose parts are all known costs three dictionary look-ups. The hour's epoch plus the
whole seconds is an exact integer, so the sum is the same float the minute's epoch gave.
Anything not in exactly that shape goes through harvest.parse_time, which takes any ISO 8601
form.
"""

from datetime import datetime, timezone

from shim.telemetry.harvest import parse_time

_hours = {}     # "2026-12-06T10" -> epoch seconds of that hour
_minutes = {}   # "2026-12-06T10:00" -> epoch seconds of that minute
_SECONDS = {":%02d" % n: n for n in range(60)}
_CLOCK = {":%02d:%02d" % (m, s): 60 * m + s for m in range(60) for s in range(60)}
_fractions = {}  # ".123Z" (or "Z") -> its value, once such a timestamp was read


def epoch(text):
    """Epoch seconds, or None when `text` is not a timestamp."""
    try:  # the common case: three known parts, each checked when cached
        return _hours[text[:13]] + _CLOCK[text[13:19]] + _fractions[text[19:]]
    except (KeyError, TypeError):  # a part not cached, or not text (None, a number, a list)
        return _epoch(text)


def _epoch(text):
    if isinstance(text, str) and len(text) >= 20 and text[-1] == "Z" and text[10] == "T" \
            and text[16] == ":" and (text[19] == "." or len(text) == 20):
        base = _minutes.get(text[:16])
        if base is None:
            try:
                base = datetime(int(text[:4]), int(text[5:7]), int(text[8:10]),
                                int(text[11:13]), int(text[14:16]),
                                tzinfo=timezone.utc).timestamp()
            except ValueError:
                return parse_time(text)
            if len(_minutes) > 100000:
                _minutes.clear()
            _minutes[text[:16]] = base
        seconds = text[17:19]
        if seconds.isdecimal() and int(seconds) < 60 and (len(text) == 20
                                                     or text[20:-1].isdecimal()):
            fraction = float("0" + text[19:-1]) if len(text) > 21 else 0
            if text[13:19] in _CLOCK and len(_fractions) < 100000:
                _fractions[text[19:]] = fraction
                if len(_hours) > 100000:
                    _hours.clear()
                _hours[text[:13]] = base - 60 * _SECONDS[text[13:16]]
            return base + int(seconds) + fraction
        return parse_time(text)
    return parse_time(text)
