"""llm's `logs.db` (`$LLM_USER_PATH/logs.db`, else `~/.config/io.datasette.llm/logs.db`).

llm 0.36 logs to the table `turns` (the legacy `responses` table exists but stays empty); older
versions log to `responses`. Both have model, input_tokens, output_tokens, token_details (JSON)
and datetime_utc. Only the newest `MAX_ROWS` rows are read, read-only, then filtered to the
window. llm does not record the cwd, so concurrent llm calls see each other's rows in their
windows: each row counts for one attempt only (harvest.select_sessions, by row id), and a
one-shot call takes the one conversation that answered first after it started. Failed prompts are not logged by llm; rows with NULL tokens (a silent stream failure)
carry no usage.

OpenAI-style token_details: input_tokens includes `prompt_tokens_details.cached_tokens`
(chat) or `input_tokens_details.cached_tokens` (responses); Anthropic-style details carry
`cache_read_input_tokens` / `cache_creation_input_tokens` outside input_tokens.
"""

import json
import os
import sqlite3
from urllib.parse import quote

from shim.telemetry.harvest import as_int, in_window, parse_time, select_sessions, summarise

MAX_ROWS = 500


def harvest(user_path, started_at, ended_at, oneshot=False, claims=None):
    if not user_path:
        return None
    db = os.path.join(user_path, "logs.db")
    if not os.path.exists(db):
        return None
    conn = sqlite3.connect(f"file:{quote(db)}?mode=ro", uri=True, timeout=2.0)
    try:
        rows = _recent_rows(conn)
    finally:
        conn.close()
    found = {}
    for row in reversed(rows):  # oldest first
        ts = parse_time(row.get("datetime_utc"))
        if not in_window(ts, started_at, ended_at):
            continue
        part = llm_part(row)
        if part is not None:
            key = "%s:%s" % (row.get("thread_id"), row.get("id") or row.get("datetime_utc"))
            found.setdefault(row.get("thread_id"), []).append((key, part, ts))
    chosen = select_sessions("llm", found, oneshot, claims)
    threads = [t for t in chosen if t]
    return summarise([p for parts in chosen.values() for p in parts],
                     session_id=threads[0] if len(threads) == 1 else None)


def _recent_rows(conn):
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    for table, thread_col in (("turns", "thread_id"), ("responses", "conversation_id")):
        if table not in tables:
            continue
        present = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
        wanted = ["id", "model", "resolved_model", "input_tokens", "output_tokens",
                  "token_details", "datetime_utc", thread_col]
        cols = [c for c in wanted if c in present]
        if "datetime_utc" not in cols or "input_tokens" not in cols:
            continue
        cur = conn.execute(f"SELECT {', '.join(cols)} FROM {table} ORDER BY rowid DESC LIMIT ?",
                           (MAX_ROWS,))
        rows = [dict(zip(cols, r)) for r in cur]
        for row in rows:
            row["thread_id"] = row.pop(thread_col, None)
        if rows or table == "responses":
            return rows
    return []


def llm_part(row):
    """The usage part of one llm logs.db row (import reads the same rows: one split)."""
    if row.get("input_tokens") is None and row.get("output_tokens") is None:
        return None
    details = {}
    if row.get("token_details"):
        try:
            details = json.loads(row["token_details"]) or {}
        except (TypeError, ValueError):
            details = {}
    total_in = as_int(row.get("input_tokens"))
    if "cache_read_input_tokens" in details or "cache_creation_input_tokens" in details:
        fresh, cached = total_in, as_int(details.get("cache_read_input_tokens"))
        cache_write = as_int(details.get("cache_creation_input_tokens"))
    else:
        cached = as_int(_nested(details, "prompt_tokens_details", "cached_tokens")
                      or _nested(details, "input_tokens_details", "cached_tokens"))
        fresh, cache_write = max(total_in - cached, 0), 0
    reasoning = (_nested(details, "completion_tokens_details", "reasoning_tokens")
                 or _nested(details, "output_tokens_details", "reasoning_tokens"))
    return {
        "model": row.get("resolved_model") or row.get("model"),
        "input_tokens": fresh,
        "output_tokens": as_int(row.get("output_tokens")),
        "cache_read_tokens": cached,
        "cache_write_tokens": cache_write,
        "reasoning_tokens": as_int(reasoning) if reasoning is not None else None,
    }


def _nested(details, outer, inner):
    value = details.get(outer) if isinstance(details, dict) else None
    return value.get(inner) if isinstance(value, dict) else None


