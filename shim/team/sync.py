"""Push new and changed local rows to the team store, whenever the store can be reached.

The outbox lives in the local telemetry database: `team_outbox` (an AUTOINCREMENT sequence,
never reused, plus the row's kind and key) is filled by triggers on `attempts` and
`counters`, so every row ingestion inserts, and every later change of a column the store
holds, is queued in the same transaction, whoever writes it:

* AFTER INSERT: a new row;
* AFTER UPDATE OF the sent columns: an import row that grew (`llm-shim import` adds to it) or
  that `supersede` took entries out of, a row re-priced (shim/telemetry/reprice.py);
* AFTER DELETE of an import row emptied by `supersede` (entry_count 0): kind `attempt_gone`,
  so the store drops it too. Other deletes (`logs prune`) are not queued: the store keeps
  everything.

It is created, and backfilled with every row already there, the first time team mode syncs,
and again when the target (server, database or team name) or the shape (the columns sent, the
triggers' column list) changes; a database replaced by `llm-shim logs repair` has no outbox,
so its rows are all sent again.

A push takes the oldest `BATCH` entries, reads the *current* local row of each key once (a
key queued several times is sent once), and in one PostgreSQL transaction upserts them:
`INSERT ... ON CONFLICT (team, invocation_id, attempt) DO UPDATE` only where a value differs
and the stored row is this machine's (import row ids are not random: the same transcript
imported on two machines keeps the first machine's row); keys of `attempt_gone` entries whose
row is still absent are deleted. Only after COMMIT are those entries deleted locally. A sync
killed anywhere re-sends at most one batch, which changes nothing the second time.

After every call the shim starts `python -m shim.team.sync` detached (shim/proxy.py): it
ingests the spool, imports a bounded slice of the tools' own logs, and pushes for at most
BACKGROUND_SECONDS. Syncs are serialised by a lock file; one that finds the lock taken leaves
a flag so the holder goes round once more.
"""

import fcntl
import os
import sqlite3
import sys
import time

from shim import errors, paths, safefs
from shim.telemetry.migrations import ATTEMPT_COLUMNS, COUNTER_COLUMNS, IMPORT_COLUMNS

BATCH = 500
BACKGROUND_SECONDS = 10.0
LOCK_FILE = "team-sync.lock"
AGAIN_FILE = "team-sync.again"
# Test hook: exit abruptly after this many rows were committed to PostgreSQL, before the
# outbox advances (the worst moment for a crash).
CRASH_ENV = "LLM_SHIM_TEAM_SYNC_CRASH_AFTER"
BATCH_ENV = "LLM_SHIM_TEAM_SYNC_BATCH"
NEVER_SENT = ("prompt_text", "response_text")  # stays on the member's machine
KINDS = {"attempt": ("attempts", "team_attempts", ATTEMPT_COLUMNS + IMPORT_COLUMNS),
         "counter": ("counters", "team_counters", COUNTER_COLUMNS)}
KEY_COLUMNS = ("invocation_id", "attempt")
GONE = "attempt_gone"  # an emptied import row was deleted locally: delete it in the store
IMPORT_PATTERN = "import:%"  # invocation ids of `llm-shim import` rows (shim.telemetry.imports)
_OUTBOX_OBJECTS = ("team_outbox", "team_sync_state", "team_outbox_attempts",
                   "team_outbox_counters", "team_outbox_attempts_update",
                   "team_outbox_counters_update", "team_outbox_attempts_gone")


def target_key(settings):
    from shim.team import pg

    return f"{pg.target(settings)}#{settings['name']}"


# --- the local outbox -----------------------------------------------------------------------------

def ensure_outbox(conn, key, shape=""):
    """Create the outbox (tables and triggers) if needed; when it is new, lost a trigger, fed
    another target until now or sent another shape (`shape`: the columns pushed), (re)create
    the triggers and queue every local row. Returns the number of rows queued."""
    ready = _outbox_ready(conn)
    if ready and _state(conn, "target") == key and _state(conn, "shape") == shape:
        return 0
    from shim.telemetry import store

    with store.transaction(conn):
        conn.execute("""CREATE TABLE IF NOT EXISTS team_outbox (
                            seq INTEGER PRIMARY KEY AUTOINCREMENT,
                            kind TEXT NOT NULL,
                            invocation_id TEXT NOT NULL,
                            attempt INTEGER NOT NULL)""")
        conn.execute("CREATE TABLE IF NOT EXISTS team_sync_state "
                      "(key TEXT PRIMARY KEY, value TEXT)")
        present = _local_columns(conn)
        for kind, (table, _, wanted) in KINDS.items():
            conn.execute(f"""CREATE TRIGGER IF NOT EXISTS team_outbox_{table}
                             AFTER INSERT ON {table} BEGIN
                                 INSERT INTO team_outbox (kind, invocation_id, attempt)
                                 VALUES ('{kind}', NEW.invocation_id, NEW.attempt);
                             END""")
            # The column list may have changed with the shape: always rebuild this one.
            sent = [c for c in wanted if c in present[table] and c not in NEVER_SENT
                    and c not in KEY_COLUMNS]
            conn.execute(f"DROP TRIGGER IF EXISTS team_outbox_{table}_update")
            conn.execute(f"""CREATE TRIGGER team_outbox_{table}_update
                             AFTER UPDATE OF {', '.join(sent)} ON {table} BEGIN
                                 INSERT INTO team_outbox (kind, invocation_id, attempt)
                                 VALUES ('{kind}', NEW.invocation_id, NEW.attempt);
                             END""")
        gone_when = f"OLD.invocation_id LIKE '{IMPORT_PATTERN}'"
        if "entry_count" in present["attempts"]:
            gone_when += " AND IFNULL(OLD.entry_count, 0) <= 0"
        conn.execute("DROP TRIGGER IF EXISTS team_outbox_attempts_gone")
        conn.execute(f"""CREATE TRIGGER team_outbox_attempts_gone
                         AFTER DELETE ON attempts WHEN {gone_when} BEGIN
                             INSERT INTO team_outbox (kind, invocation_id, attempt)
                             VALUES ('{GONE}', OLD.invocation_id, OLD.attempt);
                         END""")
        # New, retargeted, reshaped, or a trigger went missing (a table rebuilt): queue every
        # row (the upsert changes only the stored rows that differ).
        conn.execute("DELETE FROM team_outbox")
        queued = 0
        for kind, (table, _, _) in KINDS.items():
            queued += conn.execute(
                f"INSERT INTO team_outbox (kind, invocation_id, attempt) "
                f"SELECT '{kind}', invocation_id, attempt FROM {table} ORDER BY rowid").rowcount
        _set_state(conn, "target", key)
        _set_state(conn, "shape", shape)
    return queued


def _local_columns(conn):
    return {table: {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
            for table, _, _ in KINDS.values()}


def _outbox_ready(conn):
    names = {r[0] for r in conn.execute(
        f"SELECT name FROM sqlite_master WHERE name IN ({', '.join('?' * len(_OUTBOX_OBJECTS))})",
        _OUTBOX_OBJECTS)}
    return len(names) == len(_OUTBOX_OBJECTS)


def _state(conn, key):
    try:
        row = conn.execute("SELECT value FROM team_sync_state WHERE key = ?", (key,)).fetchone()
    except sqlite3.OperationalError:
        return None
    return row[0] if row else None


def _set_state(conn, key, value):
    conn.execute("INSERT INTO team_sync_state (key, value) VALUES (?, ?) "
                 "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))


def waiting(conn):
    """Rows queued for the team store (0 when there is no outbox yet)."""
    try:
        return conn.execute("SELECT COUNT(*) FROM team_outbox").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def status(conn):
    """{"waiting", "target", "last_sync_at", "last_error"} from the local bookkeeping."""
    last = _state(conn, "last_sync_at")
    return {"waiting": waiting(conn), "target": _state(conn, "target"),
            "last_sync_at": float(last) if last else None,
            "last_error": _state(conn, "last_error")}


# --- pushing -------------------------------------------------------------------------------------

def push(conn, settings, *, pg_conn=None, max_seconds=None, batch=None):
    """Send every queued row (or what fits in max_seconds). Returns
    {"attempts", "counters" (rows new to the store), "updated" (stored rows whose values
    changed), "deleted" (emptied import rows removed), "sent", "waiting", "seconds"}.

    Raises pg.Unreachable / ShimError when the store cannot be used; what was committed
    before that stays committed and leaves the outbox."""
    from shim.team import pg, schema

    started = time.monotonic()
    batch = batch or int(os.environ.get(BATCH_ENV) or BATCH)
    crash_after = os.environ.get(CRASH_ENV)
    own = pg_conn is None
    remote = pg.connect(settings) if own else pg_conn
    stats = {"attempts": 0, "counters": 0, "updated": 0, "deleted": 0, "sent": 0}
    try:
        machine = pg.machine_id()
        shapes = {}
        for kind, (local, table, wanted) in KINDS.items():
            there = set(schema.columns(remote, table))
            shapes[kind] = [c for c in wanted if c in there and c not in NEVER_SENT]
        ensure_outbox(conn, target_key(settings),
                      ";".join(",".join(shapes[k]) for k in KINDS))
        while True:
            entries = conn.execute("SELECT seq FROM team_outbox ORDER BY seq LIMIT ?",
                                   (batch,)).fetchall()
            if not entries:
                break
            head = entries[-1][0]
            with remote.transaction():
                for kind, (local, table, _) in KINDS.items():
                    rows = _rows(conn, kind, local, shapes[kind], head)
                    if rows:
                        new, updated = _copy(remote, table, shapes[kind], settings["name"],
                                             machine, rows)
                        stats[f"{kind}s"] += new
                        stats["updated"] += updated
                        stats["sent"] += len(rows)
                gone = _gone(conn, head)
                if gone:
                    stats["deleted"] += _delete(remote, settings["name"], machine, gone)
                    stats["sent"] += len(gone)
                _machine_seen(remote, settings["name"], machine, len(entries))
            if crash_after and stats["sent"] >= int(crash_after):
                os._exit(70)  # test hook: committed remotely, outbox not yet advanced
            conn.execute("DELETE FROM team_outbox WHERE seq <= ?", (head,))
            if max_seconds is not None and time.monotonic() - started > max_seconds:
                break
    except pg.psycopg().Error as exc:
        raise pg.classify(exc, settings) from None
    finally:
        if own:
            remote.close()
    _record_result(conn, None)
    stats["waiting"] = waiting(conn)
    stats["seconds"] = round(time.monotonic() - started, 3)
    return stats


def _rows(conn, kind, local, columns, head):
    """The current local row of each key queued up to `head`, once per key (a row inserted
    and then grown, or updated many times, is sent once, as it is now), oldest first."""
    select = ", ".join(f"t.{c}" for c in columns)
    return conn.execute(
        f"SELECT {select} FROM (SELECT invocation_id, attempt, MIN(seq) AS first "
        f"FROM team_outbox WHERE kind = ? AND seq <= ? GROUP BY invocation_id, attempt) o "
        f"JOIN {local} t ON t.invocation_id = o.invocation_id AND t.attempt = o.attempt "
        f"ORDER BY o.first", (kind, head)).fetchall()


def _gone(conn, head):
    """Keys of emptied import rows deleted locally (and not written again since)."""
    return conn.execute(
        "SELECT DISTINCT o.invocation_id, o.attempt FROM team_outbox o WHERE o.kind = ? "
        "AND o.seq <= ? AND NOT EXISTS (SELECT 1 FROM attempts t WHERE "
        "t.invocation_id = o.invocation_id AND t.attempt = o.attempt)",
        (GONE, head)).fetchall()


def _delete(remote, team, machine, keys):
    """Delete this machine's import rows `keys` from the store. Returns how many were there."""
    with remote.cursor() as cur:
        cur.execute("DELETE FROM team_attempts t USING unnest(%s::text[], %s::integer[]) "
                    "AS g(invocation_id, attempt) WHERE t.team = %s AND t.machine = %s "
                    "AND t.invocation_id = g.invocation_id AND t.attempt = g.attempt "
                    "AND t.invocation_id LIKE %s",
                    ([k[0] for k in keys], [k[1] for k in keys], team, machine,
                     IMPORT_PATTERN))
        return max(cur.rowcount, 0)


def _copy(remote, table, columns, team, machine, rows):
    """COPY the rows into a session temp table, then upsert them. Returns (new, updated): a
    stored row is updated only when a value differs (a re-sent batch changes nothing) and,
    for an import row, only when this machine stored it."""
    incoming = f"incoming_{table}"
    names = ", ".join(["team", "machine", *columns])
    values = [c for c in columns if c not in KEY_COLUMNS]
    sets = ", ".join(f"{c} = excluded.{c}" for c in ["machine", *values])
    differs = (f"({', '.join(f'{table}.{c}' for c in values)}) IS DISTINCT FROM "
               f"({', '.join(f'excluded.{c}' for c in values)})")
    remote.execute(f"CREATE TEMP TABLE IF NOT EXISTS {incoming} "
                   f"(LIKE {table} INCLUDING DEFAULTS)")
    remote.execute(f"TRUNCATE {incoming}")
    with remote.cursor() as cur:
        with cur.copy(f"COPY {incoming} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((team, machine, *row))
        cur.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {incoming} "
                    f"ON CONFLICT (team, invocation_id, attempt) DO UPDATE SET {sets}, "
                    f"synced_at = now() "
                    f"WHERE ({table}.machine = excluded.machine "
                    f"OR {table}.invocation_id NOT LIKE %s) AND {differs} "
                    f"RETURNING (xmax = 0)", (IMPORT_PATTERN,))
        outcome = [r[0] for r in cur.fetchall()]
    new = sum(1 for inserted in outcome if inserted)
    return new, len(outcome) - new


def _machine_seen(remote, team, machine, count):
    from shim import __version__
    from shim.policy import state

    remote.execute("""
        INSERT INTO team_machines (team, machine, host, shim_version, last_sync, rows_pushed)
        VALUES (%s, %s, %s, %s, now(), %s)
        ON CONFLICT (team, machine) DO UPDATE SET
            host = excluded.host, shim_version = excluded.shim_version,
            last_sync = now(), rows_pushed = team_machines.rows_pushed + excluded.rows_pushed""",
                   (team, machine, state.host(), __version__, count))


def _record_result(conn, error):
    try:
        if error is None:
            _set_state(conn, "last_sync_at", repr(time.time()))
        _set_state(conn, "last_error", error)
    except sqlite3.Error:
        pass


# --- one sync: ingest, then push -----------------------------------------------------------------

def sync_once(settings, cfg=None, *, honour_down=False, max_seconds=None, ingest_first=True,
              bounded_import=False):
    """Ingest the spool into the local store, import what changed in the tools' own logs (a
    bounded slice when `bounded_import`: the after-call sync), then push. Returns push()'s
    stats plus "ingested". Raises like push(); the local store is never left behind."""
    from shim.team import pg
    from shim.telemetry import imports, ingest, store

    try:
        conn = store.connect()
    except sqlite3.Error as exc:
        raise _local_error(exc) from None
    try:
        ingested = ingest.ingest(conn, cfg=cfg) if ingest_first else 0
        if ingest_first:  # usage outside the shim reaches the team too (never raises)
            imports.refresh(conn, cfg, bounded=bounded_import, what="sync",
                            quiet=bounded_import)
        if honour_down and pg.recently_down():
            raise pg.Unreachable("team", f"{pg.describe(settings)} was unreachable moments ago",
                                 "rows wait in the outbox for the next sync")
        try:
            stats = push(conn, settings, max_seconds=max_seconds)
        except errors.ShimError as exc:
            _record_result(conn, f"{exc.why}")
            raise
        except sqlite3.Error as exc:
            raise _local_error(exc) from None
        stats["ingested"] = ingested
        return stats
    finally:
        conn.close()


def _local_error(exc):
    from shim.telemetry import store

    kind = store.classify(exc)
    path = paths.database_file()
    return errors.TelemetryError("sync", f"{path}: {exc}",
                                 store.HINTS[kind].format(path=path)
                                 + "; the outbox is kept for the next sync")


class _Lock:
    """flock on the sync lock file; `again` flags a sync requested while it was held."""

    def __init__(self):
        directory = paths.ensure_dir(paths.data_dir())
        self.again = os.path.join(directory, AGAIN_FILE)
        self.fd = safefs.open_file(os.path.join(directory, LOCK_FILE), os.O_RDWR | os.O_CREAT)

    def take(self, blocking):
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
            return True
        except BlockingIOError:
            return False

    def give(self):
        fcntl.flock(self.fd, fcntl.LOCK_UN)

    def close(self):
        os.close(self.fd)

    def flag(self):
        os.close(safefs.open_file(self.again, os.O_WRONLY | os.O_CREAT))

    def take_flag(self):
        try:
            os.unlink(self.again)
            return True
        except FileNotFoundError:
            return False


def sync(settings, cfg=None, *, honour_down=False, max_seconds=None):
    """The on-demand sync (`llm-shim sync`): wait for a running one, then ingest and push."""
    lock = _Lock()
    try:
        lock.take(blocking=True)
        try:
            lock.take_flag()
            return sync_once(settings, cfg, honour_down=honour_down, max_seconds=max_seconds)
        finally:
            lock.give()
    finally:
        lock.close()


def background(settings, cfg):
    """The after-call sync: never waits for another sync; leaves it a flag instead."""
    lock = _Lock()
    try:
        if not lock.take(blocking=False):
            lock.flag()
            if not lock.take(blocking=False):
                return None  # the holder sees the flag after it lets go
        result = None
        while True:
            lock.take_flag()
            try:
                result = sync_once(settings, cfg, honour_down=True,
                                   max_seconds=BACKGROUND_SECONDS, bounded_import=True)
            except errors.ShimError:
                result = None
            finally:
                lock.give()
            if not os.path.exists(lock.again) or not lock.take(blocking=False):
                return result
    finally:
        lock.close()


def push_imports(conn, settings, pg_conn, max_seconds):
    """Before a team budget judges: push this machine's queued import rows (usage outside
    the shim has no reservation in the store, so until its row is there the team would not
    see it). Skipped when none waits or another sync holds the lock (that one is pushing
    them). Returns push()'s stats or None; local trouble is not the call's problem."""
    try:
        if conn.execute("SELECT 1 FROM team_outbox WHERE invocation_id LIKE ? LIMIT 1",
                        (IMPORT_PATTERN,)).fetchone() is None:
            return None
        lock = _Lock()
    except (sqlite3.Error, OSError):
        return None  # no outbox yet: the first sync sends everything
    try:
        if not lock.take(blocking=False):
            return None
        try:
            return push(conn, settings, pg_conn=pg_conn, max_seconds=max_seconds)
        except sqlite3.Error:
            return None
        finally:
            lock.give()
    finally:
        lock.close()


def main():
    """`python -m shim.team.sync`: the detached after-call sync. Silent; never a traceback."""
    def work():
        from shim import team
        from shim.config import compiled

        cfg = compiled.load()
        settings = team.settings(cfg)
        if settings is not None:
            background(settings, cfg)

    return errors.run_detached("team: background sync failed", work)


if __name__ == "__main__":
    sys.exit(main())
