"""Generate a realistic set of Claude Code transcripts and Codex rollouts (for `llm-shim import`
tests and the ccusage benchmark, docs/benchmarks.md; it lives in tests/support because both use it).

    python tests/support/gen_transcripts.py OUT [--sessions 300] [--messages 200000] [--days 60]
                                            [--codex-share 0.2] [--seed 1]

Writes OUT/claude/projects/<munged cwd>/<session>.jsonl (with some subagent files) and
OUT/codex/sessions/YYYY/MM/DD/rollout-<time>-<id>.jsonl, as the real tools write them: user
and assistant lines with large text and tool blocks, the usage on assistant lines, codex
token counts cumulative per thread. Deterministic for a seed. Prints the totals it wrote.
"""

import argparse
import json
import os
import random
import time
import uuid

CLAUDE_MODELS = ("claude-sonnet-4-5-20250929", "claude-opus-4-1-20250805",
                 "claude-haiku-4-5-20251001")
CODEX_MODELS = ("gpt-5-codex", "gpt-5")
PROJECTS = ("/home/dev/src/webapp", "/home/dev/src/api-server", "/home/dev/src/infra",
            "/home/dev/src/ml-pipeline", "/home/dev/notes")
BRANCHES = ("main", "feature/login", "fix/cache", "refactor-db")
DAY = 86400


def _iso(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + ".%03dZ" % int(ts % 1 * 1000)


def _munge(cwd):
    return "".join(c if c.isalnum() else "-" for c in cwd)


def _filler(rng, n):
    words = ("the", "function", "returns", "value", "test", "file", "module", "error", "fix",
             "query", "index", "cache", "update", "build", "config")
    return " ".join(rng.choice(words) for _ in range(n))


def claude_session(rng, out, session_no, messages, start, end, totals):
    cwd = rng.choice(PROJECTS)
    session = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    branch = rng.choice(BRANCHES)
    directory = os.path.join(out, "claude", "projects", _munge(cwd))
    os.makedirs(directory, exist_ok=True)
    model = rng.choice(CLAUDE_MODELS)
    ts = start
    step = max((end - start) / max(messages, 1), 0.5)
    lines = []
    sub_lines = []
    for i in range(messages):
        ts += step * rng.uniform(0.5, 1.5)
        if i % 6 == 0:
            prompt = _filler(rng, rng.randint(5, 80))
            lines.append({"parentUuid": None, "isSidechain": False, "userType": "external",
                          "cwd": cwd, "sessionId": session, "version": "2.1.197",
                          "gitBranch": branch, "type": "user",
                          "message": {"role": "user", "content": prompt},
                          "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                          "timestamp": _iso(ts - 0.2)})
        if rng.random() < 0.1:
            model = rng.choice(CLAUDE_MODELS)
        usage = {"input_tokens": rng.randint(1, 400),
                 "cache_creation_input_tokens": rng.randint(0, 3000),
                 "cache_read_input_tokens": rng.randint(0, 60000),
                 "output_tokens": rng.randint(1, 1500), "service_tier": "standard"}
        entry = {"parentUuid": None, "isSidechain": False, "userType": "external", "cwd": cwd,
                 "sessionId": session, "version": "2.1.197", "gitBranch": branch,
                 "type": "assistant",
                 "message": {"id": "msg_%024x" % rng.getrandbits(96), "type": "message",
                             "role": "assistant", "model": model,
                             "content": [{"type": "text", "text": _filler(rng, rng.randint(20, 150))}],
                             "stop_reason": "end_turn", "usage": usage},
                 "requestId": "req_%024x" % rng.getrandbits(96),
                 "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "timestamp": _iso(ts)}
        day = time.strftime("%Y-%m-%d", time.gmtime(ts))
        cell = totals.setdefault(("claude", day, model), [0, 0, 0, 0])
        for k, key in enumerate(("input_tokens", "output_tokens", "cache_read_input_tokens",
                                 "cache_creation_input_tokens")):
            cell[k] += usage[key]
        (sub_lines if session_no % 10 == 3 and i % 4 == 1 else lines).append(entry)
        # a tool result the way claude logs it: big, not usage
        if i % 3 == 2:
            lines.append({"type": "user", "sessionId": session, "cwd": cwd,
                          "message": {"role": "user", "content": [
                              {"type": "tool_result", "tool_use_id": "toolu_x",
                               "content": _filler(rng, rng.randint(50, 400))}]},
                          "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                          "timestamp": _iso(ts + 0.1)})
    with open(os.path.join(directory, session + ".jsonl"), "w") as fh:
        fh.writelines(json.dumps(line, separators=(",", ":")) + "\n" for line in lines)
    if sub_lines:
        sub = os.path.join(directory, session, "subagents")
        os.makedirs(sub, exist_ok=True)
        with open(os.path.join(sub, "agent-%s.jsonl" % session[:8]), "w") as fh:
            fh.writelines(json.dumps(line, separators=(",", ":")) + "\n" for line in sub_lines)


def codex_session(rng, out, messages, start, end, totals):
    cwd = rng.choice(PROJECTS)
    thread = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    parts = time.gmtime(start)
    directory = os.path.join(out, "codex", "sessions", "%04d" % parts.tm_year,
                             "%02d" % parts.tm_mon, "%02d" % parts.tm_mday)
    os.makedirs(directory, exist_ok=True)
    name = "rollout-%s-%s.jsonl" % (time.strftime("%Y-%m-%dT%H-%M-%S", parts), thread)
    lines = [{"timestamp": _iso(start), "type": "session_meta",
              "payload": {"id": thread, "timestamp": _iso(start), "cwd": cwd,
                          "originator": "codex_cli_rs", "cli_version": "0.169.0"}}]
    model = rng.choice(CODEX_MODELS)
    total = {"input_tokens": 0, "cached_input_tokens": 0, "output_tokens": 0,
             "reasoning_output_tokens": 0, "total_tokens": 0}
    ts = start
    step = max((end - start) / max(messages, 1), 0.5)
    for i in range(messages):
        ts += step * rng.uniform(0.5, 1.5)
        if i % 5 == 0:
            if rng.random() < 0.2:
                model = rng.choice(CODEX_MODELS)
            lines.append({"timestamp": _iso(ts - 0.3), "type": "turn_context",
                          "payload": {"cwd": cwd, "approval_policy": "on-request",
                                      "model": model, "summary": "auto"}})
            lines.append({"timestamp": _iso(ts - 0.2), "type": "response_item",
                          "payload": {"type": "message", "role": "user", "content": [
                              {"type": "input_text", "text": _filler(rng, rng.randint(5, 60))}]}})
        cached = rng.randint(0, 40000)
        last = {"input_tokens": cached + rng.randint(1, 3000), "cached_input_tokens": cached,
                "output_tokens": rng.randint(1, 1200), "reasoning_output_tokens": 0}
        last["reasoning_output_tokens"] = rng.randint(0, last["output_tokens"])
        last["total_tokens"] = last["input_tokens"] + last["output_tokens"]
        for key in total:
            total[key] += last[key]
        lines.append({"timestamp": _iso(ts - 0.1), "type": "response_item",
                      "payload": {"type": "message", "role": "assistant", "content": [
                          {"type": "output_text", "text": _filler(rng, rng.randint(20, 120))}]}})
        lines.append({"timestamp": _iso(ts), "type": "event_msg",
                      "payload": {"type": "token_count",
                                  "info": {"total_token_usage": dict(total),
                                           "last_token_usage": last,
                                           "model_context_window": 272000},
                                  "rate_limits": None}})
        day = time.strftime("%Y-%m-%d", time.gmtime(ts))
        cell = totals.setdefault(("codex", day, model), [0, 0, 0, 0])
        cell[0] += last["input_tokens"] - cached
        cell[1] += last["output_tokens"]
        cell[2] += cached
    with open(os.path.join(directory, name), "w") as fh:
        fh.writelines(json.dumps(line, separators=(",", ":")) + "\n" for line in lines)


def generate(out, sessions=300, messages=200000, days=60, codex_share=0.2, seed=1, now=None):
    """Write the set; returns {(tool, UTC day, model): [input, output, cache read, cache
    write]} of what was written (codex input is fresh input: input minus cached)."""
    rng = random.Random(seed)
    now = now if now is not None else time.time()
    first = (int(now) // DAY - days) * DAY
    totals = {}
    per_session = max(messages // max(sessions, 1), 1)
    for n in range(sessions):
        start = first + rng.uniform(0, days - 1) * DAY
        end = start + rng.uniform(0.2, 6) * 3600
        if rng.random() < codex_share:
            codex_session(rng, out, per_session, start, end, totals)
        else:
            claude_session(rng, out, n, per_session, start, end, totals)
    return totals


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--sessions", type=int, default=300)
    parser.add_argument("--messages", type=int, default=200000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--codex-share", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    totals = generate(args.out, args.sessions, args.messages, args.days, args.codex_share,
                      args.seed)
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(args.out) for f in fs)
    print(json.dumps({"cells": len(totals), "bytes": size,
                      "tokens": [sum(v[i] for v in totals.values()) for i in range(4)]}))


if __name__ == "__main__":
    main()
