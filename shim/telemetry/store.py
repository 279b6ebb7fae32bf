"""The SQLite store: inserts, queries, pruning and repair; error classes and their hints.

Opening the database (the connection's settings, the file created 0600, the schema brought up
to date) is shim.telemetry.database, which a policy gate imports alone. Connections are in
autocommit mode: writers use `transaction()` (BEGIN IMMEDIATE).
"""

import fcntl
import os
import time

from shim import errors, paths, safefs
# Opening the file is shim.telemetry.database (all a policy gate needs); callers keep reaching
# it here too: store.connect, store.sqlite3, store.DEFAULT_TIMEOUT, store.SIDE_FILES.
from shim.telemetry.database import DEFAULT_TIMEOUT, SIDE_FILES, connect, sqlite3  # noqa: F401

# SQLite primary result codes (sqlite3.Error.sqlite_errorcode & 0xff, Python 3.11+).
_BUSY, _LOCKED, _READONLY, _CANTOPEN, _CORRUPT, _NOTADB = 5, 6, 8, 14, 11, 26


def classify(exc):
    """'locked', 'readonly', 'corrupt' or 'other' for a sqlite3 error."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        code &= 0xFF
        if code in (_BUSY, _LOCKED):
            return "locked"
        if code in (_READONLY, _CANTOPEN):
            return "readonly"
        if code in (_CORRUPT, _NOTADB):
            return "corrupt"
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return "locked"
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return "readonly"
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return "corrupt"
    return "other"


HINTS = {
    "locked": "the rows stay in the spool and are imported by the next `llm-shim logs`",
    "readonly": "check the permissions of {path}; the rows stay in the spool meanwhile",
    "corrupt": "run `llm-shim logs repair` (keeps the damaged file, salvages its rows and "
               "imports the spool)",
    "other": "the rows stay in the spool; rerun with LLM_SHIM_DEBUG=1 for details",
}


def warn_db_error(exc, path=None, action="telemetry database"):
    kind = classify(exc)
    path = path or paths.database_file()
    errors.warn(action, f"{path}: {exc}", HINTS[kind].format(path=path))
    return kind


class transaction:
    """`with transaction(conn):` BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception.
    A class rather than contextlib.contextmanager: contextlib costs ~2 ms to import."""

    def __init__(self, conn):
        self.conn = conn

    def __enter__(self):
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, kind, value, tb):
        self.conn.execute("COMMIT" if kind is None else "ROLLBACK")
        return False


def _insert(conn, table, columns, records, encode):
    if not records:
        return 0
    # Only a primary-key conflict (the row is already there) is ignored; columns with NOT NULL
    # are filled by `encode`, so no other constraint can silently drop a row.
    sql = (f"INSERT INTO {table} ({', '.join(columns)}) "
           f"VALUES ({', '.join('?' * len(columns))}) "
           f"ON CONFLICT (invocation_id, attempt) DO NOTHING")
    rows = [tuple(encode(col, rec.get(col)) for col in columns) for rec in records]
    # rowcount counts this statement's own rows; total_changes would also count the rows the
    # report rollup's triggers touch.
    if conn.in_transaction:
        return conn.executemany(sql, rows).rowcount
    with transaction(conn):
        return conn.executemany(sql, rows).rowcount


_NOT_NULL_FLAGS = ("blocked", "budget_override")


def _encode(column, value):
    if column == "reasons" and isinstance(value, (list, tuple)):
        import json  # lazily: a gated shim call connects but never encodes

        return json.dumps(list(value), ensure_ascii=False)
    if column in _NOT_NULL_FLAGS:
        return 1 if value else 0
    if isinstance(value, bool):
        return int(value)
    return value


def insert_attempts(conn, records):
    """Insert attempt records; ones already present (same invocation_id, attempt) are ignored.
    Returns the number of new rows."""
    # The m009 columns only when a record has one: rows without them insert into any schema
    # since m001's (the ones ATTEMPT_COLUMNS names).
    from shim.telemetry.migrations import ATTEMPT_COLUMNS, IMPORT_COLUMNS

    extra = tuple(c for c in IMPORT_COLUMNS if any(rec.get(c) is not None for rec in records))
    return _insert(conn, "attempts", ATTEMPT_COLUMNS + extra, records, _encode)


def insert_counters(conn, records):
    from shim.telemetry.migrations import COUNTER_COLUMNS

    return _insert(conn, "counters", COUNTER_COLUMNS, records, _encode)


CLAIMS_TTL = 7 * 86400  # a claim matters while a window that overlaps it can still be ingested


IN_CHUNK = 500  # values per `IN (...)`: far below SQLite's limit on bound parameters


def select_in(conn, sql, values, before=(), after=()):
    """The rows of `sql`, whose `{marks}` is an IN list over `values`, run in chunks of
    IN_CHUNK; `before` and `after` are the parameters around the list."""
    values = list(values)
    for i in range(0, len(values), IN_CHUNK):
        chunk = values[i:i + IN_CHUNK]
        yield from conn.execute(sql.format(marks=", ".join("?" * len(chunk))),
                                [*before, *chunk, *after])


def claimed_keys(conn, tool, keys):
    """The `keys` of `tool` already in harvest_claims (counted for some attempt)."""
    return {row[0] for row in select_in(
        conn, "SELECT key FROM harvest_claims WHERE tool = ? AND key IN ({marks})", keys,
        before=(tool,))}


def insert_claims(conn, claims, now):
    """Store harvest claims {(tool, key): (invocation_id, attempt)}; drop week-old ones."""
    conn.executemany(
        "INSERT OR IGNORE INTO harvest_claims (tool, key, invocation_id, attempt, claimed_at) "
        "VALUES (?, ?, ?, ?, ?)",
        [(tool, key, owner[0], owner[1], now) for (tool, key), owner in claims.items()
         if owner is not None])
    conn.execute("DELETE FROM harvest_claims WHERE claimed_at < ?", (now - CLAIMS_TTL,))


def recent(conn, limit=20, filters=None):
    """The newest attempts, newest first, as dicts (reasons decoded to a list).

    `filters` (all optional): since/until (epoch seconds, [since, until)), agent/tool/model
    (lists; a model matches the model run or the one asked for), failed/blocked (True keeps
    only failed attempts that ran / only blocked ones).
    """
    where, params = _recent_where(filters or {})
    import json

    conn.row_factory = sqlite3.Row
    try:
        cur = conn.execute(
            f"SELECT * FROM attempts{where} ORDER BY started_at DESC, invocation_id, "
            "attempt DESC LIMIT ?", (*params, int(limit)))
        rows = [dict(r) for r in cur]
    finally:
        conn.row_factory = None
    for row in rows:
        try:
            row["reasons"] = json.loads(row["reasons"]) if row["reasons"] else []
        except ValueError:
            row["reasons"] = [row["reasons"]]
    return rows


def _recent_where(filters):
    clauses, params = [], []
    if filters.get("since") is not None:
        clauses.append("started_at >= ?")
        params.append(filters["since"])
    if filters.get("until") is not None:
        clauses.append("started_at < ?")
        params.append(filters["until"])
    for key, columns in (("agent", ("agent",)), ("tool", ("tool", "tool_requested")),
                         ("model", ("model", "model_requested"))):
        values = list(filters.get(key) or ())
        if values:
            marks = ", ".join("?" * len(values))
            clauses.append("(" + " OR ".join(f"{c} IN ({marks})" for c in columns) + ")")
            params += values * len(columns)
    if filters.get("failed"):
        clauses.append("IFNULL(exit_code, 0) != 0 AND IFNULL(blocked, 0) = 0")
    if filters.get("blocked"):
        clauses.append("IFNULL(blocked, 0) != 0")
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def prune(conn, before):
    """Delete attempts and counters that started before epoch `before`. Returns counts."""
    with transaction(conn):
        attempts = conn.execute("DELETE FROM attempts WHERE started_at < ?", (before,)).rowcount
        counters = conn.execute("DELETE FROM counters WHERE started_at < ?", (before,)).rowcount
    return {"attempts": attempts, "counters": counters}


# --- repair -------------------------------------------------------------------------------------

def check(path=None, timeout=DEFAULT_TIMEOUT):
    """None when the database opens and passes `PRAGMA quick_check`, else the problem text."""
    path = path or paths.database_file()
    if not os.path.exists(path):
        return None
    try:
        conn = connect(path, timeout=timeout)
        try:
            result = conn.execute("PRAGMA quick_check").fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        if classify(exc) == "corrupt":
            return str(exc)
        raise
    return None if result == [("ok",)] else "; ".join(str(r[0]) for r in result[:5])


class _repair_lock:
    """Serialise repairs: two processes must not both move the database away."""

    def __init__(self, path):
        self.path = path

    def __enter__(self):
        self.fd = safefs.open_file(self.path + ".lock", os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(self.fd)
            raise

    def __exit__(self, kind, value, tb):
        os.close(self.fd)
        return False


def repair(path=None, force=False, timeout=DEFAULT_TIMEOUT):
    """Move a damaged database aside, start a fresh one and copy over every readable row.

    Returns {"status": "ok"|"repaired", "problem", "quarantined", "salvaged": {table: rows
    kept}, "ways": [how rows were found], "imports": see _salvage_imports}; see
    shim.telemetry.recover for the ways tried (read as is, header rebuilt, the sqlite3 shell's
    `.recover`). Nothing is deleted: the damaged file stays as
    `telemetry.db.corrupt-<UTC time>` (with its -wal).
    """
    path = path or paths.database_file()
    paths.ensure_dir(os.path.dirname(path))
    with _repair_lock(path):
        problem = check(path, timeout=timeout)
        if problem is None and not force:
            return {"status": "ok", "problem": None, "quarantined": None, "salvaged": {}}
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        quarantined = f"{path}.corrupt-{stamp}-{os.getpid()}"
        for suffix in ("", "-wal", "-shm"):
            try:
                os.rename(path + suffix, quarantined + suffix)
            except FileNotFoundError:
                pass
        from shim.telemetry import recover
        from shim.telemetry.migrations import ATTEMPT_COLUMNS, COUNTER_COLUMNS, IMPORT_COLUMNS

        tables = {"attempts": ATTEMPT_COLUMNS + IMPORT_COLUMNS, "counters": COUNTER_COLUMNS}
        found, ways = recover.salvage(quarantined, tables, _salvage)
        salvaged = {}
        conn = connect(path, timeout=timeout)
        try:
            for table, columns in tables.items():
                salvaged[table] = _insert_raw(conn, table, columns, found[table])
            imported = _salvage_imports(conn, quarantined)
        finally:
            conn.close()
    return {"status": "repaired", "problem": problem or "forced", "quarantined": quarantined,
            "salvaged": salvaged, "ways": ways, "imports": imported}


IMPORT_TABLES = ("import_entries", "import_files", "import_rows")


def _salvage_imports(conn, quarantined):
    """What `llm-shim import` read (shim/telemetry/imports): copied whole, or not at all. A
    partial copy would make the next import add again entries whose sums the salvaged import
    rows already hold; so when the tables cannot be read whole, the import rows go too and
    the next import reads every log file again (an entry whose log the tool has deleted since
    is then lost). Returns "copied", "rebuilt" or "none" (no import tables in the old file)."""
    try:
        conn.execute("ATTACH DATABASE ? AS damaged", (quarantined,))
    except sqlite3.Error:
        return _drop_imports(conn)
    try:
        present = {r[0] for r in conn.execute(
            "SELECT name FROM damaged.sqlite_master WHERE type = 'table'")}
        if "import_entries" not in present:
            return "none"
        if not set(IMPORT_TABLES) <= present:  # the entries of an older schema (before m013)
            return _drop_imports(conn)
        with transaction(conn):
            for table in IMPORT_TABLES:
                conn.execute(f"INSERT OR IGNORE INTO main.{table} SELECT * FROM damaged.{table}")
        return "copied"
    except sqlite3.Error:
        return _drop_imports(conn)
    finally:
        try:
            conn.execute("DETACH DATABASE damaged")
        except sqlite3.Error:
            pass


def _drop_imports(conn):
    with transaction(conn):
        conn.execute("DELETE FROM attempts WHERE source = 'import'")
        conn.execute("DELETE FROM counters WHERE invocation_id LIKE 'import:%'")
        for table in IMPORT_TABLES:
            conn.execute(f"DELETE FROM {table}")
    return "rebuilt"


def _insert_raw(conn, table, columns, rows):
    rows = [r for r in rows if r.get("started_at") is not None]
    return _insert(conn, table, columns, rows,
                   lambda col, value: (1 if value else 0) if col in _NOT_NULL_FLAGS else value)


_SINGLE_STEPS = 1024  # rowids probed one by one past a damaged page before jumping ahead


def _salvage(path, table, wanted, step_limit=1 << 40):
    """Every row of `table` that can still be read from a damaged database (best effort).

    Reads in rowid order; past an unreadable page, probes the next rowids one at a time (a
    damaged leaf holds a few dozen rows: stepping further would skip readable ones), then
    ever further ahead (2, 4, 8, ...) past a damaged subtree.
    """
    try:
        src = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1.0)
    except sqlite3.Error:
        return []
    rows = []
    try:
        try:
            present = [r[1] for r in src.execute(f"PRAGMA table_info({table})")]
        except sqlite3.Error:
            return rows
        columns = [c for c in wanted if c in present]
        if "invocation_id" not in columns or "attempt" not in columns:
            return rows
        select = f"SELECT rowid, {', '.join(columns)} FROM {table} WHERE rowid > ? ORDER BY rowid"
        last, skip, misses = 0, 1, 0
        while skip < step_limit:
            try:
                for row in src.execute(select, (last,)):
                    last = row[0]
                    rows.append(dict(zip(columns, row[1:])))
                    skip, misses = 1, 0
                break
            except sqlite3.Error:
                last += skip
                misses += 1
                if misses > _SINGLE_STEPS:
                    skip *= 2
    finally:
        src.close()
    return rows
