"""The one form of an instant in our JSON: `2026-11-05T14:00:00.000Z` (UTC, milliseconds).

Foundation (standard library only): the management CLI's JSON outputs and the alerts' webhook
documents both write it, and the alerts sit below the CLI (they are the policy gate's hooks).
"""

import time


def iso_utc(epoch):
    """An epoch as the JSON outputs' time: `2026-11-05T14:00:00.000Z` (None stays None)."""
    if epoch is None:
        return None
    seconds = int(epoch)
    millis = int(round((epoch - seconds) * 1000))
    if millis == 1000:
        seconds, millis = seconds + 1, 0
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"
