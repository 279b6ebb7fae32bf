"""Epoch seconds from the tools' ISO 8601 UTC timestamps, fast: `2026-12-06T10:00:00.123Z`.

The minute is parsed once and cached (a log holds many entries per minute), and so is the
fraction of a second (".123Z", a thousand of them): a timestamp whose three parts are all
cached costs three dictionary look-ups. Anything not in exactly that shape goes through
harvest.parse_time, which takes any ISO 8601 form.
"""

from datetime import datetime, timezone

from shim.telemetry.harvest import parse_time

_minutes = {}   # "2026-12-06T10:00" -> epoch seconds of that minute
_SECONDS = {":%02d" % n: n for n in range(60)}
_fractions = {}  # ".123Z" (or "Z") -> its value, once such a timestamp was read


def epoch(text):
    """Epoch seconds, or None when `text` is not a timestamp."""
    if type(text) is str:  # the common case: three cached parts, each checked when cached
        base = _minutes.get(text[:16])
        if base is not None:
            seconds = _SECONDS.get(text[16:19])
            fraction = _fractions.get(text[19:])
            if seconds is not None and fraction is not None:
                return base + seconds + fraction
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
        if seconds.isdigit() and int(seconds) < 60 and (len(text) == 20 or text[20:-1].isdigit()):
            fraction = float("0" + text[19:-1]) if len(text) > 21 else 0
            if text[16:19] in _SECONDS and len(_fractions) < 100000:
                _fractions[text[19:]] = fraction
            return base + int(seconds) + fraction
        return parse_time(text)
    return parse_time(text)
