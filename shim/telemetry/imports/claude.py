"""Claude Code transcripts -> import entries: one per assistant message.

The same rules as the call-time harvest (harvest/claude.py): only `assistant` lines with a
`message.usage`, no `<synthetic>` model; Claude Code writes one line per content block of a
streamed message, so lines are keyed by (message.id, requestId) — the harvest's claim key —
and the largest usage of a key wins (also across imports: the store keeps the larger). The
project is the line's `cwd`, the branch its `gitBranch`. The length of the last user prompt
before a message is kept as its `prompt_chars` (`report --by session`).
"""

import json

from shim.telemetry.harvest.claude import as_int as _int, entry_size as _size  # one reading
from shim.telemetry.imports.timestamps import epoch as parse_time

_ASSISTANT = b'"assistant"'
_USAGE = b'"usage"'
_USER = b'"user"'
_TOOL_RESULT = b'"tool_result"'


def parse(data, state):
    """(entries, state) for the complete lines in `data`; `state` carries the last prompt
    length across imports of the same file."""
    best = {}
    prompt_chars = state.get("prompt_chars")
    for line in data.splitlines():
        if _ASSISTANT in line and _USAGE in line:
            entry = _assistant(line)
            if entry is None:
                continue
            entry["prompt_chars"] = prompt_chars
            key = entry["key"]
            old = best.get(key)
            if old is None or _size(entry) > _size(old):
                if old is not None:
                    entry["ts"] = min(entry["ts"], old["ts"])
                best[key] = entry
        elif _USER in line and _TOOL_RESULT not in line:
            chars = _prompt_chars(line)
            if chars is not None:
                prompt_chars = chars
    return list(best.values()), {"prompt_chars": prompt_chars}


def _assistant(line):
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    if not isinstance(obj, dict) or obj.get("type") != "assistant" or obj.get("isApiErrorMessage"):
        return None
    message = obj.get("message")
    if not isinstance(message, dict):
        return None
    usage = message.get("usage")
    model = message.get("model")
    if not isinstance(usage, dict) or model == "<synthetic>":
        return None
    ts = parse_time(obj.get("timestamp"))
    if ts is None:
        return None
    return {
        "tool": "claude",
        "key": "%s:%s" % (message.get("id") or obj.get("uuid"), obj.get("requestId")),
        "ts": ts,
        "model": model,
        "session_id": obj.get("sessionId"),
        "cwd": obj.get("cwd"),
        "git_branch": obj.get("gitBranch") or None,
        "input_tokens": _int(usage.get("input_tokens")),
        "output_tokens": _int(usage.get("output_tokens")),
        "cache_read_tokens": _int(usage.get("cache_read_input_tokens")),
        "cache_write_tokens": _int(usage.get("cache_creation_input_tokens")),
        "reasoning_tokens": None,  # Claude does not report thinking tokens separately
    }


def _prompt_chars(line):
    try:
        obj = json.loads(line)
    except ValueError:
        return None
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
