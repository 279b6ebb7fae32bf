"""`llm-shim import`: usage the shims did not see, from the tools' own logs (docs/telemetry.md
"Import").

Incremental: `import_files` remembers each log file's identity (device, inode, size, mtime)
and the byte offset read so far, so a run parses only what was appended; a file that was
truncated or rewritten (another inode, shorter, or other bytes before the offset) is read again
from the start. When no file's identity changed nothing is parsed at all: that check (one
stat per file) is what `report`, `logs`, `budget` and budget admission pay before answering.

Idempotent: an imported entry is the attempts row `import:<tool>:<key>` (attempt 0), inserted
or, for a Claude message whose later lines carry a larger usage, updated; never twice. Rows
and the offsets that produced them are committed in one transaction, so an import killed half
way resumes with no duplicate and no gap.

Counted once: an entry the shim already counted is skipped — its key is in `harvest_claims`
(the call-time harvest's claim), or it belongs to a shim call's session inside that call's
time window. The other way round, `supersede` (called by ingestion) deletes the import rows a
shim call's harvest or session now accounts for.
"""

import fcntl
import json
import os
import socket
import sqlite3
import time

from shim import __version__, errors, paths
from shim.telemetry import prices, store
from shim.telemetry.imports import logfile, sources

PREFIX = "import:"
SOURCE = "import"
# Test hook: exit abruptly after this many files were committed (an interrupted import).
CRASH_ENV = "LLM_SHIM_IMPORT_CRASH_AFTER"
# `off` turns the automatic import before report/logs/budget/admission off.
AUTO_ENV = "LLM_SHIM_IMPORT"
BATCH_ROWS = 20000
WINDOW_SLACK_SECONDS = 2.0
LOCK_NAME = "import.lock"
# Budget admission imports at most this much per call (the rest on later calls or reports).
ADMISSION_SECONDS = 0.05
ADMISSION_BYTES = 4 * 1024 * 1024
ADMISSION_LLM_ROWS = 2000
TOKEN_KEYS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
              "reasoning_tokens")
_UPDATED = ("ended_at", "model", "provider", "tier", "input_tokens", "output_tokens",
            "cache_read_tokens", "cache_write_tokens", "reasoning_tokens", "cost_usd",
            "cost_source", "computed_cost_usd", "price_version")
_LARGER = ("excluded.output_tokens > attempts.output_tokens OR "
           "(excluded.output_tokens = attempts.output_tokens AND "
           "excluded.input_tokens + excluded.cache_read_tokens + excluded.cache_write_tokens > "
           "attempts.input_tokens + attempts.cache_read_tokens + attempts.cache_write_tokens)")


def run(conn, cfg=None, environ=None, *, since=None, dry_run=False, deadline=None,
        max_bytes=None, found=None):
    """Import every log file that changed since the last run. Returns a summary dict:
    files (seen), changed, read, entries, new (rows written), counted_by_shim, before_since,
    remaining (changed files left for later: past `deadline` or not readable in a slice),
    tokens {tool: [input, output, cache read, cache write]}, cost_usd, unreadable [paths].

    `since` (epoch seconds) drops older entries; `dry_run` writes nothing; `deadline`
    (time.monotonic()) and `max_bytes` (per file) bound a slice."""
    environ = os.environ if environ is None else environ
    found = sources.scan(sources.roots(environ)) if found is None else found
    known = _known(conn)
    changed = [(t, p, i) for t, p, i in found if not _same(known.get(p), i)]
    summary = {"files": len(found), "changed": len(changed), "read": 0, "entries": 0,
               "new": 0, "counted_by_shim": 0, "before_since": 0, "remaining": 0,
               "tokens": {}, "cost_usd": 0.0, "unpriced": 0, "unreadable": []}
    if not changed:
        return summary
    if cfg is None:
        from shim.telemetry import ingest

        cfg = ingest.load_config()
    table = prices.load_table(cfg)
    counted = _Counted(conn)
    make_row = _RowMaker(cfg, table)
    crash_after = int(environ.get(CRASH_ENV) or 0)
    rows, done_files, committed = [], [], 0
    for n, (tool, path, ident) in enumerate(changed):
        if deadline is not None and time.monotonic() > deadline:
            summary["remaining"] = len(changed) - n
            break
        try:
            entries, file_row = _read(tool, path, ident, known.get(path), max_bytes)
        except (OSError, ImportError, sqlite3.Error, ValueError, EOFError):
            summary["unreadable"].append(path)
            continue
        if file_row is None:  # a compressed file in a bounded slice
            summary["remaining"] += 1
            continue
        summary["read"] += 1
        for entry in entries:
            summary["entries"] += 1
            if since is not None and entry["ts"] < since:
                summary["before_since"] += 1
                continue
            if counted.covers(entry):
                summary["counted_by_shim"] += 1
                continue
            row = make_row(entry)
            rows.append(row)
            _tally(summary, row)
        done_files.append(file_row)
        if not dry_run and (len(rows) >= BATCH_ROWS or crash_after):
            summary["new"] += _commit(conn, rows, done_files, make_row.counters)
            committed += len(done_files)
            rows, done_files = [], []
            if crash_after and committed >= crash_after:
                os._exit(9)
    if not dry_run and (rows or done_files):
        summary["new"] += _commit(conn, rows, done_files, make_row.counters)
    return summary


def _tally(summary, row):
    cell = summary["tokens"].setdefault(row["tool"], [0, 0, 0, 0])
    for i, key in enumerate(TOKEN_KEYS[:4]):
        cell[i] += row.get(key) or 0
    if row.get("cost_usd") is None:
        summary["unpriced"] += 1
    else:
        summary["cost_usd"] += row["cost_usd"]


def _known(conn):
    out = {}
    for path, dev, inode, size, mtime_ns, offset, tail, state in conn.execute(
            "SELECT path, dev, inode, size, mtime_ns, offset, tail, state FROM import_files"):
        out[path] = {"dev": dev, "inode": inode, "size": size, "mtime_ns": mtime_ns,
                     "offset": offset, "tail": tail, "state": state}
    return out


def _same(known, ident):
    return known is not None and (known["dev"], known["inode"], known["size"],
                                  known["mtime_ns"]) == tuple(ident)


def _read(tool, path, ident, known, max_bytes):
    """(entries, import_files row) of what is new in one file; (…, None) when it must wait."""
    if tool == "llm":
        from shim.telemetry.imports import llm

        same_db = known is not None and (known["dev"], known["inode"]) == tuple(ident[:2])
        state = json.loads(known["state"]) if same_db and known["state"] else {}
        limit = ADMISSION_LLM_ROWS if max_bytes else None
        entries, state = llm.read(path, state, limit)
        stored = ident if not (limit and len(entries) >= limit) else (*ident[:2], -1, ident[3])
        return entries, _file_row(path, tool, stored, 0, None, state)
    if max_bytes and path.endswith(".zst"):
        return [], None
    if logfile.still_appended(path, known, ident):
        offset, state = known["offset"], json.loads(known["state"] or "{}")
    else:
        offset, state = 0, {}
    data, new_offset, tail = logfile.read_span(path, offset, max_bytes)
    if tool == "claude":
        from shim.telemetry.imports import claude

        entries, state = claude.parse(data, state)
    else:
        from shim.telemetry.imports import codex

        entries, state = codex.parse(data, state, path)
    stored = ident
    if not path.endswith(".zst") and new_offset < ident[2]:
        stored = (*ident[:2], new_offset, ident[3])  # a partial line or a slice: look again
    return entries, _file_row(path, tool, stored, new_offset, tail, state)


def _file_row(path, tool, ident, offset, tail, state):
    return (path, tool, ident[0], ident[1], ident[2], ident[3], offset, tail,
            json.dumps(state), time.time())


class _Counted:
    """What the shim already counted: harvest claims, and shim calls' session windows."""

    def __init__(self, conn):
        self.conn = conn
        self._claims = None
        self._windows = None

    def covers(self, entry):
        if self._claims is None:
            self._load()
        if (entry["tool"], entry["key"]) in self._claims:
            return True
        ts = entry["ts"]
        for start, end in self._windows.get(entry.get("session_id"), ()):
            if start - WINDOW_SLACK_SECONDS <= ts <= end + WINDOW_SLACK_SECONDS:
                return True
        return False

    def _load(self):
        self._claims = set(self.conn.execute(
            "SELECT tool, key FROM harvest_claims WHERE invocation_id NOT LIKE 'import:%'"))
        self._windows = {}
        for session, start, end in self.conn.execute(
                "SELECT session_id, started_at, IFNULL(ended_at, started_at) FROM attempts "
                "WHERE session_id IS NOT NULL AND source IS NULL"):
            self._windows.setdefault(session, []).append((start, end))


class _RowMaker:
    """An import entry -> an attempts row (or a counters row under `privacy: off`), priced."""

    def __init__(self, cfg, table):
        from shim.telemetry import ingest, record

        self.cfg, self.table = cfg, table
        self.counters = record.privacy_mode(cfg, None) == "off"
        self._facts = ingest._model_facts
        self._project = record._project
        self._projects = {}
        try:
            self.host = socket.gethostname()
        except OSError:
            self.host = None

    def __call__(self, entry):
        row = {"invocation_id": PREFIX + entry["tool"] + ":" + entry["key"], "attempt": 0,
               "started_at": entry["ts"], "ended_at": entry["ts"], "tool": entry["tool"],
               "model": entry.get("model"), "agent": None, "provider": None, "tier": None,
               "blocked": 0}
        for key in TOKEN_KEYS:
            row[key] = entry.get(key)
        self._facts(row, self.cfg)
        part = {key: entry.get(key) for key in TOKEN_KEYS}
        part["model"] = entry.get("model")
        try:
            prices.price_record(row, [part], self.table)
        except (TypeError, ValueError, KeyError):
            row["cost_usd"], row["cost_source"] = None, "unknown"
        if self.counters:
            return row
        cwd = entry.get("cwd")
        if cwd not in self._projects:
            self._projects[cwd] = self._project(self.cfg, cwd)
        row.update(host=self.host, session_id=entry.get("session_id"),
                   project=self._projects[cwd], prompt_chars=entry.get("prompt_chars"),
                   usage_source=SOURCE, source=SOURCE, git_branch=entry.get("git_branch"),
                   shim_version=__version__)
        return row


def _commit(conn, rows, files, counters):
    with store.transaction(conn):
        written = _upsert(conn, rows, counters)
        conn.executemany(
            "INSERT INTO import_files (path, tool, dev, inode, size, mtime_ns, offset, tail, "
            "state, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (path) DO "
            "UPDATE SET tool = excluded.tool, dev = excluded.dev, inode = excluded.inode, "
            "size = excluded.size, mtime_ns = excluded.mtime_ns, offset = excluded.offset, "
            "tail = excluded.tail, state = excluded.state, imported_at = excluded.imported_at",
            files)
    return written


def _upsert(conn, rows, counters):
    if not rows:
        return 0
    if counters:
        return store.insert_counters(conn, rows)
    from shim.telemetry.migrations import ATTEMPT_COLUMNS, IMPORT_COLUMNS

    columns = ATTEMPT_COLUMNS + IMPORT_COLUMNS
    updates = ", ".join(f"{c} = excluded.{c}" for c in _UPDATED)
    sql = (f"INSERT INTO attempts ({', '.join(columns)}) "
           f"VALUES ({', '.join('?' * len(columns))}) "
           f"ON CONFLICT (invocation_id, attempt) DO UPDATE SET {updates} WHERE {_LARGER}")
    values = [tuple(row.get(c) if c not in ("blocked", "budget_override") else 0
                    for c in columns) for row in rows]
    return conn.executemany(sql, values).rowcount


def supersede(conn, attempts, claims):
    """Delete the import rows that shim attempts being ingested now account for: the entries
    their harvest claimed, and their sessions' entries inside their time windows. Call it in
    ingestion's transaction, after the inserts."""
    keys = [(PREFIX + tool + ":" + key,) for (tool, key), owner in (claims or {}).items()
            if owner is not None]
    if keys:
        conn.executemany("DELETE FROM attempts WHERE invocation_id = ? AND attempt = 0", keys)
    windows = [(a["session_id"], a["started_at"] - WINDOW_SLACK_SECONDS,
                (a.get("ended_at") or a["started_at"]) + WINDOW_SLACK_SECONDS)
               for a in attempts if a.get("session_id") and a.get("started_at") is not None]
    if windows:
        conn.executemany("DELETE FROM attempts WHERE session_id = ? AND started_at >= ? "
                         "AND started_at <= ? AND source = 'import'", windows)


# --- automatic refresh ---------------------------------------------------------------------

def refresh(conn, cfg=None, environ=None, *, bounded=False, what="report"):
    """Bring the store up to date before `what` answers, when automatic import is on.

    Unbounded (report, logs, budget): imports every changed file. Bounded (budget admission):
    at most ADMISSION_SECONDS and ADMISSION_BYTES per file, and says what is left. Never
    raises: a failed import is one warning, the command still answers from what is stored.
    Returns the summary, or None when off, busy (another import runs) or failed."""
    environ = os.environ if environ is None else environ
    if (environ.get(AUTO_ENV) or "").lower() in ("off", "0", "no", "false"):
        return None
    try:
        with _lock(blocking=False) as locked:
            if not locked:
                return None
            if bounded:
                summary = run(conn, cfg, environ,
                              deadline=time.monotonic() + ADMISSION_SECONDS,
                              max_bytes=ADMISSION_BYTES)
            else:
                summary = run(conn, cfg, environ)
    except (sqlite3.Error, OSError) as exc:
        if errors.debug_enabled():
            raise
        errors.warn(what, f"could not import the tools' own logs: {exc}",
                    "run `llm-shim import` to see why")
        return None
    if bounded and summary["remaining"]:
        errors.warn("budget", f"{summary['remaining']} changed log files not imported yet "
                    "(the budget check imports a small slice per call)",
                    "run `llm-shim import` so budgets count all usage outside the shim")
    return summary


class _lock:
    """An exclusive lock on data_dir()/import.lock: one import at a time per store."""

    def __init__(self, blocking=True):
        self.blocking = blocking
        self.fd = None

    def __enter__(self):
        directory = paths.data_dir()
        paths.ensure_dir(directory)
        self.fd = os.open(os.path.join(directory, LOCK_NAME),
                          os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | (0 if self.blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            return False
        return True

    def __exit__(self, *exc):
        os.close(self.fd)
        return False


lock = _lock
