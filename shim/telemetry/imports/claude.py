"""Claude Code transcripts -> import entries: one per assistant message.

A line is read by the call-time harvest's own rules (harvest/claude.py `is_candidate`,
`assistant_usage`): only top-level `assistant` lines with a `message.usage`, no `<synthetic>`
model. Claude Code writes one line per content block of a streamed message, so lines are
keyed by (message.id, requestId) — the harvest's claim key — and the largest usage of a key
wins (also across imports: the store keeps the larger). The project is the line's `cwd`, the
branch its `gitBranch`. The length of the last user prompt before a message is kept as its
`prompt_chars` (`report --by session`).

Fast, and the same as reading every line: the buffer is searched (in C) for `"usage"`, and only
the lines holding it and `"assistant"` are decoded; between two such lines only the last user
prompt matters, so the user lines there are looked at from the last one back, and decoded
until one is a prompt. Every other line is never split out or decoded. Lines are decoded by
`jsonl.fast_decoder()`: orjson when it is installed, json's result but for an integer beyond
64 bits, which it reads as a float; of what `assistant_usage` gives, only the key would differ
(a count, a time or a text field that large is refused either way: validate.entry_ok), so a
message whose id or request id came back as a float is decoded again by json.
"""

from shim.telemetry.harvest import jsonl
from shim.telemetry.harvest.claude import assistant_usage, is_candidate
from shim.telemetry.imports.timestamps import epoch as parse_time

_USAGE = b'"usage"'
_ASSISTANT = b'"assistant"'
_USER = b'"user"'
_TOOL_RESULT = b'"tool_result"'
_decode, _LOOSE = jsonl.fast_decoder()


def parse(data, state):
    """(entries, state) for the complete lines in `data`; `state` carries the last prompt
    length across imports of the same file. Each entry is a tuple in imports.ENTRY order:
    (key, ts, session_id, model, cwd, git_branch, prompt_chars, input, output, cache read,
    cache write, reasoning)."""
    best = {}
    prompt_chars = state.get("prompt_chars")
    if b"\r" in data:  # a CR splits a line for bytes.splitlines: read line by line, as ever
        lines = data.splitlines()
        for line in lines:
            if is_candidate(line):
                _take(best, line, prompt_chars)
            elif _USER in line and _TOOL_RESULT not in line:
                chars = _prompt_chars(line)
                if chars is not None:
                    prompt_chars = chars
        return list(best.values()), {"prompt_chars": prompt_chars}
    find, rfind = data.find, data.rfind
    size = len(data)
    seen = 0       # the lines before this offset are done
    search = 0
    while True:
        hit = find(_USAGE, search)
        if hit < 0:
            break
        start = rfind(b"\n", 0, hit) + 1
        end = find(b"\n", hit)
        if end < 0:
            end = size
        search = end + 1
        line = data[start:end]
        # .find, not `in`: `bytes in bytes` first tries its operand as an integer and raises
        # (and drops) a TypeError each time, a few thousand instructions per line
        if line.find(_ASSISTANT) < 0:
            continue  # not a candidate: one of the lines the prompt scan looks at
        if rfind(_USER, seen, start) >= 0:
            chars = _last_prompt(data, seen, start)
            if chars is not None:
                prompt_chars = chars
        seen = search
        _take(best, line, prompt_chars)
    chars = _last_prompt(data, seen, size)
    if chars is not None:
        prompt_chars = chars
    return list(best.values()), {"prompt_chars": prompt_chars}


def _take(best, line, prompt_chars):
    found = _usage_of(line)
    if found is not None:
        _keep(best, found, prompt_chars)


def _usage_of(line):
    """assistant_usage of the line, decoded by the fast decoder; by json again when orjson
    read a part of the key as a float (maybe an integer beyond 64 bits)."""
    obj = _decode(line)
    found = assistant_usage(obj)
    if found is not None and _LOOSE and _loose_key(obj):
        found = assistant_usage(jsonl.decode(line))
    return found


def _loose_key(obj):
    """True when a part of the key of `obj` (an assistant line assistant_usage took) is a
    float: maybe an integer literal beyond 64 bits that orjson read as one."""
    return (type(obj["message"].get("id") or obj.get("uuid")) is float
            or type(obj.get("requestId")) is float)


def _keep(best, found, prompt_chars):
    """Keep one assistant line's entry: the largest usage of its key, at its first time."""
    key, stamp, session, model, fresh, out, read, write, cwd, branch = found
    ts = parse_time(stamp)
    if ts is None:
        return
    old = best.get(key)
    if old is not None:
        if (out, fresh + read + write) <= (old[8], old[7] + old[9] + old[10]):
            return  # not larger: the first snapshot of a streamed message stays
        ts = min(ts, old[1])
    best[key] = (key, ts, session, model, cwd, branch, prompt_chars, fresh, out, read, write,
                 None)  # Claude does not report thinking tokens separately


def _last_prompt(data, low, high):
    """The prompt length of the last user prompt line in data[low:high] (whole lines), or
    None when there is none."""
    end = high
    while True:
        hit = data.rfind(_USER, low, end)
        if hit < 0:
            return None
        start = data.rfind(b"\n", low, hit) + 1 or low
        stop = data.find(b"\n", hit, high)
        line = data[start:high if stop < 0 else stop]
        if line.find(_TOOL_RESULT) < 0:  # .find, not `in`: see parse
            chars = _prompt_chars(line)
            if chars is not None:
                return chars
        end = start


def _prompt_chars(line):
    obj = _decode(line)
    if not isinstance(obj, dict) or obj.get("type") != "user" or obj.get("isMeta"):
        return None
    content = (obj.get("message") or {}).get("content") if isinstance(obj.get("message"), dict) \
        else None
    if isinstance(content, str):
        return len(content)
    if isinstance(content, list):
        texts = [b.get("text") for b in content if isinstance(b, dict) and b.get("type") == "text"]
        texts = [t for t in texts if isinstance(t, str)]
        return sum(len(t) for t in texts) if texts else None
    return None

