"""Codex rollouts: `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<time>-<thread id>.jsonl`.

The date is the day the thread *began*: `codex resume` / `codex exec resume` append to that
file, `archived_sessions/` holds archived threads, and codex >= 0.137 compresses rollouts idle
for 7 days to `.jsonl.zst` (read through harvest.zst). `rollout_candidates` finds all of them.

Each line is `{"timestamp", "type", "payload"}`. `session_meta.payload.cwd` must match the
invocation's cwd (unless the thread id is known). `event_msg` / `token_count` carries
`info.total_token_usage`, which is **cumulative** over the thread (a resumed thread keeps
counting), so the usage of an invocation is the last total inside the window minus the last
total before it. `info.last_token_usage` of each in-window event gives the per-request parts
(for long-context tiers) when they add up to that delta. The model is `turn_context.model`.
`input_tokens` includes cache reads and writes: fresh input = input - cached - cache write
(usage.codex_part).
"""

import glob
import os
import time

from shim.telemetry.harvest import jsonl
from shim.telemetry.harvest import (ENTRY_SLACK_SECONDS, MAX_FILES, SLACK_SECONDS, as_int,
                                    in_window, parse_time, read_lines, recent_files,
                                    select_sessions, summarise)
from shim.telemetry.usage import codex_part

ROLLOUT_SUFFIXES = (".jsonl", ".jsonl.zst")
STATE_DB = "state_5.sqlite"       # threads: id, rollout_path, updated_at, cwd, ...
MS_THRESHOLD = 10**11              # an updated_at above this is in milliseconds
_USAGE_KEYS = ("input_tokens", "cached_input_tokens", "cache_write_input_tokens",
               "output_tokens", "reasoning_output_tokens")
DAY = 86400.0


def date_dirs(sessions, started_at, ended_at):
    """The YYYY/MM/DD directories the window touches, in local time and UTC, +-1 day."""
    dirs = set()
    t = started_at - DAY
    while t <= ended_at + DAY:
        for parts in (time.localtime(t), time.gmtime(t)):
            dirs.add(os.path.join(sessions, f"{parts.tm_year:04d}", f"{parts.tm_mon:02d}",
                                  f"{parts.tm_mday:02d}"))
        t += DAY / 2
    return sorted(dirs)


def rollout_candidates(codex_home, started_at, ended_at, session_id):
    """The rollout files that may hold this window's usage.

    With a thread id: that thread's rollout wherever it lives. Without: the rollouts of the
    date directories the window touches, plus the threads codex's state database says were
    updated since the window began (a resumed thread keeps appending to the rollout under the
    date it *began*, maybe weeks ago). Without that database (an older codex) a resumed thread
    is found only by its id: scanning every date directory would read every old rollout."""
    if session_id:
        return find_thread(codex_home, session_id)
    sessions = os.path.join(codex_home, "sessions")
    found = []
    for directory in date_dirs(sessions, started_at, ended_at):
        found.extend(_rollouts_in(directory))
    found.extend(threads_updated_since(codex_home, started_at - SLACK_SECONDS) or ())
    return _unique(found)


def find_thread(codex_home, thread_id):
    """The rollout files of `thread_id`: the path codex's state database records when that
    file exists, else a scan for the id suffix in `sessions/*/*/*/` and `archived_sessions/`
    (plain or `.zst`): one directory listing per day directory, no file opened."""
    recorded = _state_paths(codex_home, "id = ?", (thread_id,))
    if recorded:
        return _unique(recorded)
    endings = tuple(f"{thread_id}{suffix}" for suffix in ROLLOUT_SUFFIXES)
    archived = os.path.join(codex_home, "archived_sessions")
    directories = (glob.glob(os.path.join(glob.escape(codex_home), "sessions", "*", "*", "*"))
                   + [archived]
                   + glob.glob(os.path.join(glob.escape(archived), "*", "*", "*")))
    found = []
    for directory in directories:
        try:
            with os.scandir(directory) as entries:
                found.extend(entry.path for entry in entries
                             if entry.name.startswith("rollout-") and entry.name.endswith(endings))
        except OSError:
            continue
    return _unique(found)


def threads_updated_since(codex_home, since):
    """Rollout paths of the threads updated at or after `since` (epoch seconds), from
    `state_5.sqlite`; None when there is no such database or it cannot be read."""
    # updated_at may be in seconds or in milliseconds, depending on the codex version.
    return _state_paths(codex_home,
                        "(updated_at >= ? AND updated_at < ?) OR updated_at >= ? "
                        "ORDER BY updated_at DESC",
                        (int(since), MS_THRESHOLD, int(since * 1000)))


def _state_paths(codex_home, where, params):
    db = os.path.join(codex_home, STATE_DB)
    if not os.path.isfile(db):
        return None
    import sqlite3
    from urllib.parse import quote

    try:
        conn = sqlite3.connect(f"file:{quote(db)}?mode=ro", uri=True, timeout=1.0)
        try:
            rows = conn.execute(f"SELECT rollout_path FROM threads WHERE {where} "
                                f"LIMIT {MAX_FILES}", params).fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    paths = []
    for (path,) in rows:
        if not isinstance(path, str) or not path:
            continue
        if not os.path.isabs(path):
            path = os.path.join(codex_home, path)
        paths.extend(p for p in (path, path + ".zst") if os.path.isfile(p))
    return paths


def _rollouts_in(directory, stem="rollout-*"):
    return [path for suffix in ROLLOUT_SUFFIXES
            for path in glob.glob(os.path.join(directory, stem + suffix))]


def _unique(paths):
    """Each file once; a rollout present both plain and compressed is read plain."""
    seen = set()
    plain = {p for p in paths if not p.endswith(".zst")}
    out = []
    for path in paths:
        real = os.path.realpath(path)
        if real in seen or (path.endswith(".zst") and path[:-4] in plain):
            continue
        seen.add(real)
        out.append(path)
    return out


def harvest(codex_home, cwd, started_at, ended_at, session_id=None, oneshot=False,
            claims=None):
    """Usage of the rollouts' token counts in the window, one session per rollout file
    (`claims`, `oneshot`: see harvest.select_sessions)."""
    if not codex_home:
        return None
    files = recent_files(rollout_candidates(codex_home, started_at, ended_at, session_id),
                         started_at)
    want_cwd = os.path.realpath(cwd) if cwd else None
    found = {}
    for path in files:
        result = _rollout_usage(path, want_cwd if not session_id else None, started_at, ended_at)
        if result is not None:
            file_parts, thread, first_ts = result
            session = thread or path
            # One key per rollout and window start: the delta of this window, claimed whole.
            found[session] = [("%s@%.3f:%d" % (session, first_ts or 0.0, i), part, first_ts)
                              for i, part in enumerate(file_parts)]
    chosen = select_sessions("codex", found, oneshot and not session_id, claims)
    threads = [s for s in chosen if s and not s.endswith(ROLLOUT_SUFFIXES)]
    session = session_id or (threads[0] if len(threads) == 1 else None)
    return summarise([p for parts in chosen.values() for p in parts], session_id=session)


ROLLOUT_TAGS = (b"token_count", b"session_meta", b"turn_context")


def rollout_events(lines, decode=None):
    """(kind, line object, payload) of the rollout lines that matter, in order: "session_meta"
    and "turn_context" with their payload, "token_count" with the event's `info` (only when
    its `total_token_usage` is an object: `info: null` follows a stream failure). Lines
    without one of ROLLOUT_TAGS are not decoded. The one reading of a rollout, for the
    call-time harvest and for `llm-shim import` (which may pass its own `decode`)."""
    first, second, third = ROLLOUT_TAGS
    decode = decode or jsonl.decode
    for line in lines:
        # .find, not `in`: `bytes in bytes` tries the operand as an integer first and
        # raises (and drops) a TypeError each time
        if line.find(first) < 0 and line.find(second) < 0 and line.find(third) < 0:
            continue
        obj = decode(line)
        if not isinstance(obj, dict):
            continue
        kind, payload = obj.get("type"), obj.get("payload")
        if not isinstance(payload, dict):
            continue
        if kind == "session_meta" or kind == "turn_context":
            yield kind, obj, payload
        elif kind == "event_msg" and payload.get("type") == "token_count":
            info = payload.get("info")
            if isinstance(info, dict) and isinstance(info.get("total_token_usage"), dict):
                yield "token_count", obj, info


def _rollout_usage(path, want_cwd, started_at, ended_at):
    before = None          # last cumulative total before the window
    last = None            # last cumulative total inside the window
    requests = []          # last_token_usage of in-window events whose total moved
    first_ts = None        # the first in-window token count: when this window's work began
    model = None
    thread = None
    cwd_checked = want_cwd is None
    for kind, obj, payload in rollout_events(read_lines(path)):
        ts = parse_time(obj.get("timestamp"))
        if kind == "session_meta":
            thread = payload.get("id") or thread
            if not cwd_checked:
                meta_cwd = payload.get("cwd")
                if not meta_cwd or os.path.realpath(meta_cwd) != want_cwd:
                    return None
                cwd_checked = True
        elif kind == "turn_context":
            if payload.get("model") and (ts is None or ts <= ended_at + ENTRY_SLACK_SECONDS):
                model = payload["model"]
        else:  # token_count: payload is the event's info
            info = payload
            total = info["total_token_usage"]
            if ts is not None and ts < started_at - ENTRY_SLACK_SECONDS:
                before = total
            elif ts is None or in_window(ts, started_at, ended_at):
                if _tuple(total) != _tuple(last if last is not None else before):
                    if isinstance(info.get("last_token_usage"), dict):
                        requests.append(info["last_token_usage"])
                    if first_ts is None:
                        first_ts = ts
                last = total
    if not cwd_checked or last is None:
        return None
    delta = {key: _get(last, key) - _get(before, key) for key in _USAGE_KEYS}
    if sum(_get(r, "input_tokens") for r in requests) == delta["input_tokens"] and \
            sum(_get(r, "output_tokens") for r in requests) == delta["output_tokens"]:
        pieces = requests
    else:
        pieces = [delta]
    return ([codex_part(p, model) for p in pieces if any(_get(p, k) for k in _USAGE_KEYS)], thread,
            first_ts)


def _get(usage, key):
    return as_int(usage.get(key)) if isinstance(usage, dict) else 0


def _tuple(usage):
    return tuple(_get(usage, k) for k in _USAGE_KEYS)
