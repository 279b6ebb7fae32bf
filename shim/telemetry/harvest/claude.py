"""Claude Code transcripts: `<config dir>/projects/<munged cwd>/<session id>.jsonl`.

The project directory is the cwd with every non-alphanumeric character replaced by '-'.
Only `assistant` entries count; Claude Code writes one line per content block of a streamed
message, each repeating the usage of that moment, so entries are deduplicated by
(message.id, requestId) keeping the largest. `isApiErrorMessage` entries (model `<synthetic>`)
carry no real usage. Subagent transcripts under `<session id>/subagents/` are included.
"""

import glob
import json
import os
import re

from shim.telemetry.harvest import (in_window, parse_time, read_lines, recent_files,
                                    select_sessions, summarise)

_NON_ALNUM = re.compile(r"[^A-Za-z0-9]")


def project_dir_name(cwd):
    return _NON_ALNUM.sub("-", cwd)


def transcript_candidates(config_dir, cwd, session_id):
    projects = os.path.join(config_dir, "projects")
    if session_id:
        safe = glob.escape(session_id)
        return (glob.glob(os.path.join(projects, "*", safe + ".jsonl"))
                + glob.glob(os.path.join(projects, "*", safe, "**", "*.jsonl"), recursive=True))
    if not cwd:
        return []
    base = os.path.join(projects, glob.escape(project_dir_name(cwd)))
    return (glob.glob(os.path.join(base, "*.jsonl"))
            + glob.glob(os.path.join(base, "*", "subagents", "*.jsonl")))


def harvest(config_dir, cwd, started_at, ended_at, session_id=None, oneshot=False,
            claims=None):
    """Usage of the assistant messages in the window (`claims`, `oneshot`: see
    harvest.select_sessions)."""
    if not config_dir:
        return None
    files = recent_files(transcript_candidates(config_dir, cwd, session_id), started_at)
    best = {}  # (session, message id, request id) -> (part, timestamp) of the largest snapshot
    for path in files:
        for line in read_lines(path):
            if b'"assistant"' not in line or b'"usage"' not in line:
                continue
            entry = _assistant_usage(line, started_at, ended_at)
            if entry is None:
                continue
            key, part, session, ts = entry
            if session_id and session and session != session_id:
                continue
            key = (session,) + key
            if key not in best or _size(part) > _size(best[key][0]):
                best[key] = (part, min(ts, best[key][1]) if key in best else ts)
    found = {}
    for key, (part, ts) in best.items():
        found.setdefault(key[0], []).append(("%s:%s:%s" % key, part, ts))
    chosen = select_sessions("claude", found, oneshot and not session_id, claims)
    sessions = [s for s in chosen if s]
    session = session_id or (sessions[0] if len(sessions) == 1 else None)
    return summarise([p for parts in chosen.values() for p in parts], session_id=session)


def _assistant_usage(line, started_at, ended_at):
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    if not isinstance(obj, dict) or obj.get("type") != "assistant" or obj.get("isApiErrorMessage"):
        return None
    ts = parse_time(obj.get("timestamp"))
    if not in_window(ts, started_at, ended_at):
        return None
    message = obj.get("message") or {}
    usage = message.get("usage") if isinstance(message, dict) else None
    if not isinstance(usage, dict) or message.get("model") == "<synthetic>":
        return None
    part = {
        "model": message.get("model"),
        "input_tokens": _int(usage.get("input_tokens")),
        "output_tokens": _int(usage.get("output_tokens")),
        "cache_read_tokens": _int(usage.get("cache_read_input_tokens")),
        "cache_write_tokens": _int(usage.get("cache_creation_input_tokens")),
        "reasoning_tokens": None,  # Claude does not report thinking tokens separately
    }
    key = (message.get("id") or obj.get("uuid"), obj.get("requestId"))
    return key, part, obj.get("sessionId"), ts


def _size(part):
    return (part["output_tokens"],
            part["input_tokens"] + part["cache_read_tokens"] + part["cache_write_tokens"])


def _int(value):
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0
