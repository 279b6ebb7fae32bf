"""Codex rollouts: `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<time>-<thread id>.jsonl`.

Each line is `{"timestamp", "type", "payload"}`. `session_meta.payload.cwd` must match the
invocation's cwd (unless the thread id is known). `event_msg` / `token_count` carries
`info.total_token_usage`, which is **cumulative** over the thread (a resumed thread keeps
counting), so the usage of an invocation is the last total inside the window minus the last
total before it. `info.last_token_usage` of each in-window event gives the per-request parts
(for long-context tiers) when they add up to that delta. The model is `turn_context.model`.
`input_tokens` includes cached tokens: fresh input = input - cached.
"""

import glob
import json
import os
import time

from shim.telemetry.harvest import (ENTRY_SLACK_SECONDS, in_window, parse_time, read_lines,
                                    recent_files, select_sessions, summarise)

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
    sessions = os.path.join(codex_home, "sessions")
    if session_id:
        pattern = f"rollout-*{glob.escape(session_id)}.jsonl"
        return glob.glob(os.path.join(sessions, "*", "*", "*", pattern))
    found = []
    for directory in date_dirs(sessions, started_at, ended_at):
        found.extend(glob.glob(os.path.join(directory, "rollout-*.jsonl")))
    return found


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
    threads = [s for s in chosen if s and not s.endswith(".jsonl")]
    session = session_id or (threads[0] if len(threads) == 1 else None)
    return summarise([p for parts in chosen.values() for p in parts], session_id=session)


def _rollout_usage(path, want_cwd, started_at, ended_at):
    before = None          # last cumulative total before the window
    last = None            # last cumulative total inside the window
    requests = []          # last_token_usage of in-window events whose total moved
    first_ts = None        # the first in-window token count: when this window's work began
    model = None
    thread = None
    cwd_checked = want_cwd is None
    for line in read_lines(path):
        if not any(tag in line for tag in (b"token_count", b"session_meta", b"turn_context")):
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if not isinstance(obj, dict):
            continue
        kind, payload = obj.get("type"), obj.get("payload") or {}
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
        elif kind == "event_msg" and payload.get("type") == "token_count":
            info = payload.get("info")
            if not isinstance(info, dict) or not isinstance(info.get("total_token_usage"), dict):
                continue  # `info: null` after a stream failure
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
    return ([_part(p, model) for p in pieces if any(_get(p, k) for k in _USAGE_KEYS)], thread,
            first_ts)


def _part(usage, model):
    total_in = _get(usage, "input_tokens")
    cached = _get(usage, "cached_input_tokens")
    return {
        "model": model,
        "input_tokens": max(total_in - cached, 0),
        "output_tokens": _get(usage, "output_tokens"),
        "cache_read_tokens": cached,
        "cache_write_tokens": _get(usage, "cache_write_input_tokens"),
        "reasoning_tokens": _get(usage, "reasoning_output_tokens"),
    }


def _get(usage, key):
    if not isinstance(usage, dict):
        return 0
    try:
        return int(usage.get(key) or 0)
    except (TypeError, ValueError):
        return 0


def _tuple(usage):
    return tuple(_get(usage, k) for k in _USAGE_KEYS)
