"""llm's logs.db -> import entries: one per logged response (the `turns` table of llm 0.36,
the `responses` table of older versions), read-only, from the rowid after the last one read.
The key (thread:id) is the call-time harvest's claim key; the token split is harvest/llm's."""

import sqlite3
from urllib.parse import quote

from shim.telemetry.imports.timestamps import epoch as parse_time
from shim.telemetry.harvest.llm import llm_part

TABLES = (("turns", "thread_id"), ("responses", "conversation_id"))
WANTED = ("id", "model", "resolved_model", "input_tokens", "output_tokens", "token_details",
          "datetime_utc")


def read(db, state, limit=None):
    """(entries, state): the rows after state[table] (a rowid) in each table."""
    state = dict(state or {})
    entries = []
    conn = sqlite3.connect(f"file:{quote(db)}?mode=ro", uri=True, timeout=2.0)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        for table, thread_col in TABLES:
            if table not in tables:
                continue
            present = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
            cols = [c for c in WANTED if c in present]
            if "datetime_utc" not in cols or "input_tokens" not in cols:
                continue
            if thread_col in present:
                cols.append(thread_col)
            sql = (f"SELECT rowid, {', '.join(cols)} FROM {table} WHERE rowid > ? "
                   f"ORDER BY rowid" + (f" LIMIT {int(limit)}" if limit else ""))
            for row in conn.execute(sql, (int(state.get(table) or 0),)):
                state[table] = row[0]
                record = dict(zip(cols, row[1:]))
                entry = _entry(record, record.get(thread_col))
                if entry is not None:
                    entries.append(entry)
    finally:
        conn.close()
    return entries, state


def _entry(row, thread):
    part = llm_part(row)
    ts = parse_time(row.get("datetime_utc"))
    if part is None or ts is None:
        return None
    return {"tool": "llm", "key": "%s:%s" % (thread, row.get("id") or row.get("datetime_utc")),
            "ts": ts, "session_id": thread, "cwd": None, "git_branch": None,
            "prompt_chars": None, **part}
