"""Codex rollouts -> import entries: one per token count that moved the thread's total.

`token_count.info.total_token_usage` is cumulative over the thread (a resumed thread keeps
counting in the same file), so an entry's usage is its total minus the previous total; the
model is the last `turn_context.model` before it, the project `session_meta.cwd`. The key —
thread id and the cumulative input and output after the entry — is the same however often the
file is read. Fresh input = input - cached - cache write (usage.codex_part). The previous
total, model, thread and cwd are kept in `state` so an import can start mid-file.
"""

import json

from shim.telemetry.imports.timestamps import epoch as parse_time
from shim.telemetry.usage import codex_part

_KEYS = ("input_tokens", "cached_input_tokens", "cache_write_input_tokens", "output_tokens",
         "reasoning_output_tokens")
_TAGS = (b"token_count", b"session_meta", b"turn_context")


def parse(data, state, path=None):
    entries = []
    total = state.get("total")
    model, thread, cwd = state.get("model"), state.get("thread"), state.get("cwd")
    for line in data.splitlines():
        if not any(tag in line for tag in _TAGS):
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if not isinstance(obj, dict):
            continue
        kind, payload = obj.get("type"), obj.get("payload")
        if not isinstance(payload, dict):
            continue
        if kind == "session_meta":
            thread = payload.get("id") or thread
            cwd = payload.get("cwd") or cwd
        elif kind == "turn_context":
            model = payload.get("model") or model
            cwd = cwd or payload.get("cwd")
        elif kind == "event_msg" and payload.get("type") == "token_count":
            info = payload.get("info")
            if not isinstance(info, dict) or not isinstance(info.get("total_token_usage"), dict):
                continue  # `info: null` after a stream failure
            now = [_get(info["total_token_usage"], k) for k in _KEYS]
            if total is not None and now == total:
                continue  # repeated count, nothing new
            if total is None or any(n < t for n, t in zip(now, total)):
                delta = now  # first count, or the total restarted
            else:
                delta = [n - t for n, t in zip(now, total)]
            total = now
            ts = parse_time(obj.get("timestamp"))
            if ts is None or not any(delta):
                continue
            part = codex_part(dict(zip(_KEYS, delta)), model)
            entries.append({
                "tool": "codex",
                "key": "%s:%d:%d" % (thread or path, now[0], now[3]),
                "ts": ts, "model": model, "session_id": thread, "cwd": cwd,
                "git_branch": None, "prompt_chars": None,
                **{k: part[k] for k in ("input_tokens", "output_tokens", "cache_read_tokens",
                                         "cache_write_tokens", "reasoning_tokens")},
            })
    return entries, {"total": total, "model": model, "thread": thread, "cwd": cwd}


def _get(usage, key):
    try:
        return int(usage.get(key) or 0)
    except (TypeError, ValueError, OverflowError):
        return 0
