"""Codex rollouts -> import entries: one per token count that moved the thread's total.

`token_count.info.total_token_usage` is cumulative over the thread (a resumed thread keeps
counting in the same file), so an entry's usage is its total minus the previous total; the
model is the last `turn_context.model` before it, the project `session_meta.cwd`. The key —
thread id and the cumulative input and output after the entry — is the same however often the
file is read. Fresh input = input - cached - cache write (usage.codex_part). The previous
total, model, thread and cwd are kept in `state` so an import can start mid-file.
"""

from shim.telemetry.harvest import as_int
from shim.telemetry.harvest.codex import ROLLOUT_TAGS, rollout_events
from shim.telemetry.imports.logfile import lines_with
from shim.telemetry.imports.timestamps import epoch as parse_time
from shim.telemetry.usage import codex_part

_KEYS = ("input_tokens", "cached_input_tokens", "cache_write_input_tokens", "output_tokens",
         "reasoning_output_tokens")


def parse(data, state, path=None):
    """(entries, state); each entry a tuple in imports.ENTRY order."""
    entries = []
    total = state.get("total")
    model, thread, cwd = state.get("model"), state.get("thread"), state.get("cwd")
    for kind, obj, payload in rollout_events(lines_with(data, ROLLOUT_TAGS)):
        if kind == "session_meta":
            thread = payload.get("id") or thread
            cwd = payload.get("cwd") or cwd
        elif kind == "turn_context":
            model = payload.get("model") or model
            cwd = cwd or payload.get("cwd")
        else:  # token_count: payload is the event's info
            now = [_get(payload["total_token_usage"], k) for k in _KEYS]
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
            entries.append((
                "%s:%d:%d" % (thread or path, now[0], now[3]), ts, thread, model, cwd, None,
                None, part["input_tokens"], part["output_tokens"], part["cache_read_tokens"],
                part["cache_write_tokens"], part["reasoning_tokens"]))
    return entries, {"total": total, "model": model, "thread": thread, "cwd": cwd}


def _get(usage, key):
    return as_int(usage.get(key))
