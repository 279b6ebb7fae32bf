"""Claude Code transcripts: `<config dir>/projects/<munged cwd>/<session id>.jsonl`.

The project directory is the cwd with every non-alphanumeric character replaced by '-', or
`$CLAUDE_CODE_PROJECT_DIR_NAME` when it was set (claude >= 2.1.234).
Only `assistant` entries count; Claude Code writes one line per content block of a streamed
message, each repeating the usage of that moment, so entries are deduplicated by
(message.id, requestId) keeping the largest, whichever session file holds them (resumed and
forked sessions copy earlier messages). `isApiErrorMessage` entries (model `<synthetic>`)
carry no real usage. Subagent transcripts under `<session id>/subagents/` are included.
"""

import glob
import os
import re

from shim.telemetry.harvest import jsonl
from shim.telemetry.harvest import (as_int, in_window, parse_time, read_lines, recent_files,
                                    select_sessions, summarise)

_NON_ALNUM = re.compile(r"[^A-Za-z0-9]")


def project_dir_name(cwd):
    return _NON_ALNUM.sub("-", cwd)


def transcript_candidates(config_dir, cwd, session_id, dir_name=None):
    """`dir_name`: CLAUDE_CODE_PROJECT_DIR_NAME as it was when the call was made (claude >=
    2.1.234 writes the transcripts to `projects/<that name>/` instead of the cwd's)."""
    projects = os.path.join(config_dir, "projects")
    if session_id:
        safe = glob.escape(session_id)
        return (glob.glob(os.path.join(projects, "*", safe + ".jsonl"))
                + glob.glob(os.path.join(projects, "*", safe, "**", "*.jsonl"), recursive=True))
    if _plain_name(dir_name):
        # used as given; its munged form too, in case claude munges it as it does a cwd
        names = sorted({dir_name, project_dir_name(dir_name)})
    elif cwd:
        names = [project_dir_name(cwd)]
    else:
        return []
    found = []
    for name in names:
        base = os.path.join(projects, glob.escape(name))
        found += (glob.glob(os.path.join(base, "*.jsonl"))
                  + glob.glob(os.path.join(base, "*", "subagents", "*.jsonl")))
    return found


def _plain_name(name):
    return isinstance(name, str) and name not in ("", ".", "..") and "/" not in name \
        and os.sep not in name


def harvest(config_dir, cwd, started_at, ended_at, session_id=None, oneshot=False,
            claims=None, dir_name=None):
    """Usage of the assistant messages in the window (`claims`, `oneshot`: see
    harvest.select_sessions; `dir_name`: see transcript_candidates)."""
    if not config_dir:
        return None
    files = recent_files(transcript_candidates(config_dir, cwd, session_id, dir_name),
                         started_at)
    # (message id, request id) -> (part, timestamp, session) of the largest snapshot. Not keyed
    # by session: a resumed or forked session copies earlier messages into its own file.
    best = {}
    for path in files:
        for line in read_lines(path):
            if not is_candidate(line):
                continue
            entry = _assistant_usage(line, started_at, ended_at)
            if entry is None:
                continue
            key, part, session, ts = entry
            if session_id and session and session != session_id:
                continue
            if key not in best:
                best[key] = (part, ts, session)
            elif entry_size(part) > entry_size(best[key][0]):
                best[key] = (part, min(ts, best[key][1]), best[key][2])
    found = {}
    for key, (part, ts, session) in best.items():
        found.setdefault(session, []).append((key, part, ts))
    chosen = select_sessions("claude", found, oneshot and not session_id, claims)
    sessions = [s for s in chosen if s]
    session = session_id or (sessions[0] if len(sessions) == 1 else None)
    return summarise([p for parts in chosen.values() for p in parts], session_id=session)


def is_candidate(line):
    """Whether a transcript line can be an assistant message with usage: it has both strings.
    A line without them cannot; one with them may still not be (a progress entry can nest a
    whole assistant message), which `assistant_usage` decides on the decoded line."""
    # .find, not `in`: `bytes in bytes` tries the operand as an integer first and raises (and
    # drops) a TypeError each time: this runs on every line of a transcript
    return line.find(b'"assistant"') >= 0 and line.find(b'"usage"') >= 0


def assistant_usage(obj):
    """(key, timestamp text, session id, model, input, output, cache read, cache write, cwd,
    git branch) of a decoded transcript line, or None unless it is a top-level `assistant`
    entry whose message carries a usage object (not an API error, not `<synthetic>`). The
    key, "<message id>:<request id>", is the claim key of the harvest and the import."""
    if not isinstance(obj, dict):
        return None
    get = obj.get
    if get("type") != "assistant" or get("isApiErrorMessage"):
        return None
    message = get("message")
    if not isinstance(message, dict):
        return None
    usage = message.get("usage")
    model = message.get("model")
    if not isinstance(usage, dict) or model == "<synthetic>":
        return None
    tokens = usage.get
    fresh, out = tokens("input_tokens"), tokens("output_tokens")
    read, write = tokens("cache_read_input_tokens"), tokens("cache_creation_input_tokens")
    return ("%s:%s" % (message.get("id") or get("uuid"), get("requestId")),
            get("timestamp"), get("sessionId"), model,
            fresh if type(fresh) is int else as_int(fresh),  # as_int, without a call
            out if type(out) is int else as_int(out),
            read if type(read) is int else as_int(read),
            write if type(write) is int else as_int(write),
            get("cwd"), get("gitBranch") or None)


def _assistant_usage(line, started_at, ended_at):
    found = assistant_usage(jsonl.decode(line))
    if found is None:
        return None
    key, stamp, session, model, fresh, out, read, write = found[:8]
    ts = parse_time(stamp)
    if not in_window(ts, started_at, ended_at):
        return None
    part = {"model": model, "input_tokens": fresh, "output_tokens": out,
            "cache_read_tokens": read, "cache_write_tokens": write,
            "reasoning_tokens": None}  # Claude does not report thinking tokens separately
    return key, part, session, ts


def entry_size(part):
    return (part["output_tokens"],
            part["input_tokens"] + part["cache_read_tokens"] + part["cache_write_tokens"])


