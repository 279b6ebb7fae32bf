"""Why a log file could not be imported, said in the user's terms (docs/troubleshooting.md).

A report that silently shows less than the logs hold reads as "you spent less": every command
that imports first says how many files it could not read and why, and `llm-shim import` exits
non-zero (exitcodes.ERROR) when some could not be read.
"""

import os
import sqlite3

ZSTD_HINT = "a .zst rollout needs Python 3.14 or `pip install 'llm-shim[zstd]'`"


def unreadable_reason(path, exc):
    """One short reason for `exc`, raised while reading `path`: the errno's words for an
    OSError, the missing decompressor for a `.zst`, SQLite's message for llm's logs.db."""
    if isinstance(exc, ImportError) and path.endswith(".zst"):
        return "no zstd decompressor: " + ZSTD_HINT
    if isinstance(exc, OSError) and exc.errno is not None:
        return f"{os.strerror(exc.errno)} (errno {exc.errno})"
    if isinstance(exc, sqlite3.Error):
        return f"SQLite: {exc}"
    if isinstance(exc, (EOFError, ValueError)) and path.endswith(".zst"):
        return f"damaged .zst file: {exc}"
    return f"{type(exc).__name__}: {exc}"[:200]


def by_reason(summary):
    """[(reason, count)] of the summary's unreadable files, the most frequent first."""
    counts = {}
    reasons = summary.get("unreadable_reasons") or {}
    for path in summary.get("unreadable") or ():
        reason = reasons.get(path) or "unreadable"
        counts[reason] = counts.get(reason, 0) + 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))
