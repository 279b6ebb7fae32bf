"""Codex rollouts -> import entries: one per token count that moved the thread's total.

`token_count.info.total_token_usage` is cumulative over the thread (a resumed thread keeps
counting in the same file), so an entry's usage is its total minus the previous total; the
model is the last `turn_context.model` before it, the project `session_meta.cwd`. The key —
thread id and the cumulative input and output after the entry — is the same however often the
file is read. Fresh input = input - cached - cache write (usage.codex_part). The previous
total, model, thread and cwd are kept in `state` so an import can start mid-file.

Lines are decoded by `jsonl.fast_decoder()`: orjson when it is installed, json's result but for
an integer beyond 64 bits, which it reads as a float. A token count with a float is rare (a
count beyond 64 bits, or written as 1.0): then the file is read again with json. A thread id,
model or cwd that large is refused either way (validate.entry_ok).
"""

from shim.telemetry.harvest import as_int, jsonl
from shim.telemetry.harvest.codex import ROLLOUT_TAGS, rollout_events
from shim.telemetry.imports.logfile import lines_with
from shim.telemetry.imports.timestamps import epoch as parse_time
from shim.telemetry.usage import codex_fresh

_decode, _LOOSE = jsonl.fast_decoder()


def parse(data, state, path=None, decode=None):
    """(entries, state); each entry a tuple in imports.ENTRY order. A token count's numbers
    are read as harvest.as_int reads them, and split as usage.codex_part splits them (fresh
    input, output, cache read, cache write, reasoning), without a dict per count. `decode`:
    how lines are decoded (default: jsonl.fast_decoder's)."""
    entries = []
    add = entries.append
    total = state.get("total")
    model, thread, cwd = state.get("model"), state.get("thread"), state.get("cwd")
    loose = decode is None and _LOOSE
    for kind, obj, payload in rollout_events(lines_with(data, ROLLOUT_TAGS), decode or _decode):
        if kind == "token_count":  # payload is the event's info
            get = payload["total_token_usage"].get
            fed, cached, written, out, reasoning = (
                get("input_tokens"), get("cached_input_tokens"), get("cache_write_input_tokens"),
                get("output_tokens"), get("reasoning_output_tokens"))
            if loose and (type(fed) is float or type(cached) is float or type(written) is float
                          or type(out) is float or type(reasoning) is float):
                return parse(data, state, path, jsonl.decode)  # json's reading, exactly
            now = [fed if type(fed) is int else as_int(fed),
                   cached if type(cached) is int else as_int(cached),
                   written if type(written) is int else as_int(written),
                   out if type(out) is int else as_int(out),
                   reasoning if type(reasoning) is int else as_int(reasoning)]
            if total is not None and now == total:
                continue  # repeated count, nothing new
            if total is None:
                delta = now  # first count
            else:
                delta = [n - t for n, t in zip(now, total)]
                if min(delta, default=0) < 0:
                    delta = now  # the total restarted
            total = now
            ts = parse_time(obj.get("timestamp"))
            if ts is None or not any(delta):
                continue
            fed, cached, written, out, reasoning = delta
            add(("%s:%d:%d" % (thread or path, now[0], now[3]), ts, thread, model, cwd, None,
                 None, codex_fresh(fed, cached, written), out, cached, written, reasoning))
        elif kind == "session_meta":
            thread = payload.get("id") or thread
            cwd = payload.get("cwd") or cwd
        else:  # turn_context
            model = payload.get("model") or model
            cwd = cwd or payload.get("cwd")
    return entries, {"total": total, "model": model, "thread": thread, "cwd": cwd}
