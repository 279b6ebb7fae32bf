"""Harvest usage after the fact from the real tools' own logs (interactive and text modes).

`collect(harvest, started_at, ended_at)` dispatches on `harvest["tool"]` and returns the same
shape as a usage tap (tokens, model, session_id, parts with one entry per request where the log
has them) or None when the tool's logs hold nothing for that window. It never raises.

Bounded by design: only files whose mtime is inside the window, only the date directories the
window touches, at most `MAX_FILE_BYTES` from the end of any one file, at most `MAX_FILES`.
"""

import os
from datetime import datetime, timezone

from shim import errors
from shim.telemetry.record import TOKEN_KEYS

# File mtimes may be as coarse as 2 s (FAT, HFS+), so the file filter allows that much.
SLACK_SECONDS = 2.0
# Entry timestamps come from the child, on this machine's clock, rounded to the millisecond:
# allowing more would pull in a previous call made in the same cwd a moment earlier.
ENTRY_SLACK_SECONDS = 0.01
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_FILES = 200


def collect(harvest, started_at, ended_at, claims=None):
    """`claims` (a Claims): entries other attempts already counted are skipped, and the ones
    taken here are added to it."""
    tool = (harvest or {}).get("tool")
    try:
        if tool == "claude":
            from shim.telemetry.harvest import claude

            return claude.harvest(harvest.get("claude_config_dir"), harvest.get("cwd"),
                                  started_at, ended_at, session_id=harvest.get("session_id"),
                                  oneshot=bool(harvest.get("oneshot")), claims=claims,
                                  dir_name=harvest.get("claude_project_dir_name"))
        if tool == "codex":
            from shim.telemetry.harvest import codex

            return codex.harvest(harvest.get("codex_home"), harvest.get("cwd"),
                                 started_at, ended_at, session_id=harvest.get("session_id"),
                                 oneshot=bool(harvest.get("oneshot")), claims=claims)
        if tool == "llm":
            from shim.telemetry.harvest import llm

            return llm.harvest(harvest.get("llm_user_path"), started_at, ended_at,
                               oneshot=bool(harvest.get("oneshot")), claims=claims)
    except Exception:  # somebody else's log format changed: no usage, never a crash
        if errors.debug_enabled():
            raise
    return None


class Claims:
    """Log entries already counted for some attempt: earlier in this ingestion batch, or in
    the database (`lookup(tool, keys)` -> the keys stored in `harvest_claims`).

    Without a session id, a call's usage is found by cwd and time window, and two calls made
    at once in one directory see each other's sessions in their windows. Each entry is counted
    for one attempt only, whichever is ingested first."""

    def __init__(self, lookup=None):
        self.new = {}          # (tool, key) -> owner
        self.owner = None      # (invocation_id, attempt) of the record being prepared
        self._lookup = lookup

    def taken(self, tool, keys):
        keys = set(keys)
        hit = {k for k in keys if (tool, k) in self.new}
        rest = keys - hit
        if rest and self._lookup is not None:
            hit |= set(self._lookup(tool, rest))
        return hit

    def add(self, tool, keys):
        for key in keys:
            self.new.setdefault((tool, key), self.owner)


def select_sessions(tool, found, oneshot, claims):
    """The sessions (and their entries) that are this attempt's.

    `found`: {session: [(key, part, ts), ...]} of the entries inside the window. Entries other
    attempts claimed are dropped. A one-shot call answers in one session: with several left
    (another call in the same directory at the same time), the one that answered first after
    it started. Returns {session: [part, ...]} and claims the chosen entries."""
    if claims is not None:
        taken = claims.taken(tool, [key for entries in found.values() for key, _, _ in entries])
        found = {s: [e for e in entries if e[0] not in taken] for s, entries in found.items()}
    found = {s: entries for s, entries in found.items() if entries}
    if oneshot and len(found) > 1:
        first = min(found, key=lambda s: min(ts if ts is not None else float("inf")
                                            for _, _, ts in found[s]))
        found = {first: found[first]}
    if claims is not None:
        claims.add(tool, [key for entries in found.values() for key, _, _ in entries])
    return {s: [part for _, part, _ in entries] for s, entries in found.items()}


def as_int(value):
    """A token count from a tool's JSON: its int, or 0 for null, text, NaN or Infinity (a log
    we do not control must not stop the harvest or the import)."""
    try:
        return int(value or 0)
    except (TypeError, ValueError, OverflowError):  # OverflowError: Infinity
        return 0


def parse_time(value):
    """Epoch seconds from an ISO 8601 string (naive = UTC) or a number; None if unparseable."""
    if isinstance(value, (int, float)):
        return float(value)
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace(" ", "T", 1)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def in_window(ts, started_at, ended_at, slack=ENTRY_SLACK_SECONDS):
    return ts is not None and started_at - slack <= ts <= ended_at + slack


def recent_files(candidates, started_at, slack=SLACK_SECONDS):
    """Paths from `candidates` modified since the window started, newest first, capped."""
    found = []
    for path in candidates:
        try:
            mtime = os.stat(path).st_mtime
        except OSError:
            continue
        if mtime >= started_at - slack:
            found.append((mtime, path))
    found.sort(reverse=True)
    return [path for _, path in found[:MAX_FILES]]


def read_lines(path, limit=MAX_FILE_BYTES):
    """The file's complete lines, at most `limit` bytes from its end (decompressed, for a
    `.zst` file; none when this Python cannot decompress it: see harvest.zst)."""
    if path.endswith(".zst"):
        from shim.telemetry.harvest import zst

        try:
            data, cut = zst.tail_bytes(path, limit)
        except ImportError:
            return []
        lines = data.splitlines()
        return lines[1:] if cut else lines  # drop the partial first line
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size > limit:
            fh.seek(size - limit)
            fh.readline()  # drop the partial first line
        return fh.read().splitlines()


def summarise(parts, session_id=None):
    """Tap-shaped usage from per-request parts; model = the one with the most output."""
    if not parts:
        return None
    out = {}
    for key in TOKEN_KEYS:
        values = [p.get(key) for p in parts if p.get(key) is not None]
        out[key] = sum(int(v) for v in values) if values else None
    by_model = {}
    for part in parts:
        by_model[part.get("model")] = by_model.get(part.get("model"), 0) + \
            int(part.get("output_tokens") or 0) + 1
    models = [m for m in by_model if m]
    out["model"] = max(models, key=lambda m: by_model[m]) if models else None
    out["session_id"] = session_id
    out["cost_usd"] = None
    out["parts"] = parts
    return out
