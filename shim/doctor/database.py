"""The telemetry database check: it opens, passes `quick_check`, takes a write lock, and its
schema (`PRAGMA user_version`) is the latest migration.

The version is read first through a read-only connection, so a database written by a newer
llm-shim is reported as it is. Opening it the normal way (`store.connect`) then migrates an
older schema, as the next `llm-shim logs` would; the result says so.
"""

import os
import sqlite3

from shim import safefs
from shim.doctor.context import result, tilde, writable_dir

NAME = "telemetry"
TIMEOUT = 2.0


def _user_version_readonly(path):
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=TIMEOUT)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def _try_write(path):
    """Take and release the write lock (BEGIN IMMEDIATE); returns the schema version."""
    from shim.telemetry import migrations, store

    conn = store.connect(path, timeout=TIMEOUT)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return migrations.user_version(conn)
    finally:
        conn.close()


def check(path, home):
    from shim.telemetry import migrations, store

    shown = tilde(path, home)
    try:
        safefs.check_not_link(*(path + suffix for suffix in ("",) + store.SIDE_FILES))
    except safefs.Refused as exc:
        return result(NAME, False, f"{tilde(exc.path, home)} is a symlink: llm-shim neither "
                                   "opens nor chmods it, so calls are not counted", safefs.HINT)
    if not os.path.exists(path):
        ok, where = writable_dir(os.path.dirname(path))
        if not ok:
            return result(NAME, False, f"{tilde(where, home)} is not writable: the database "
                                       f"cannot be created",
                          f"fix its permissions (chmod u+rwx {where}) or set LLM_SHIM_HOME")
        return result(NAME, True, f"{shown} not created yet (the first `llm-shim logs` or "
                                  "`report` creates it); its directory is writable")
    latest = migrations.LATEST
    try:
        before = _user_version_readonly(path)
        if not (os.access(path, os.R_OK | os.W_OK)
                and os.access(os.path.dirname(path), os.W_OK | os.X_OK)):
            return result(NAME, False, f"{shown} (schema {before}) is read-only"
                          + (f" and cannot be migrated to {latest}" if before < latest else ""),
                          store.HINTS["readonly"].format(path=path))
        quick_check = getattr(store, "check", None)
        problem = quick_check(path, timeout=TIMEOUT) if quick_check else None
        if problem:
            return result(NAME, False, f"{shown} is damaged: {problem}", store.HINTS["corrupt"])
        after = _try_write(path)
    except sqlite3.Error as exc:
        kind = store.classify(exc)
        return result(NAME, False, f"{shown}: {exc}", store.HINTS[kind].format(path=path),
                      severity="warn" if kind == "locked" else "fail")
    if after > latest:
        return result(NAME, False, f"{shown} has schema {after}, newer than this llm-shim's "
                                   f"{latest}",
                      "run the newest llm-shim you have installed (older code still records, "
                      "but may not read what newer code wrote)", severity="warn")
    if after != latest:
        return result(NAME, False, f"{shown} has schema {after}, expected {latest}",
                      "run `llm-shim logs` to migrate it; LLM_SHIM_DEBUG=1 shows why it fails")
    migrated = f", migrated just now from {before}" if before < after else ""
    return result(NAME, True, f"{shown} writable, schema {after} (current{migrated})")


def unpriced_models(path):
    """[(model or None, attempts with token counts, attempts without)] that ran with no known
    cost, most first (report/unpriced.classify says what each needs); read-only."""
    from shim.report import unpriced

    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=TIMEOUT)
    except sqlite3.Error:
        return []  # the telemetry check reports why the database cannot be opened
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        counts = {}
        for table in ("attempts", "counters"):
            if table not in tables:
                continue
            for model, with_tokens, without in conn.execute(
                    f"SELECT NULLIF(model, ''), SUM({unpriced.TOKENS_KNOWN}), "
                    f"SUM(NOT {unpriced.TOKENS_KNOWN}) FROM {table} WHERE cost_usd IS NULL "
                    "AND IFNULL(blocked, 0) = 0 GROUP BY 1"):
                old = counts.get(model, (0, 0))
                counts[model] = (old[0] + with_tokens, old[1] + without)
    except sqlite3.Error:
        return []
    finally:
        conn.close()
    return sorted(((m, a, b) for m, (a, b) in counts.items()),
                  key=lambda item: (-(item[1] + item[2]), item[0] or ""))
