"""The policy engine's shared state, in the telemetry database: reservations, rate-limit events
and cooldowns. Every shim on the machine reads and writes the same rows, so a budget, a rate
limit or a cooldown holds across processes.

Reservations make budgets hold under concurrency (check-then-record lets every parallel call
through, LiteLLM #34732). Inside one `BEGIN IMMEDIATE` transaction an admitter sums the spend
of the period from the `spend` view (attempts + counters) plus every reservation not yet
matched by an ingested row, decides, and inserts its own reservation. A reservation is

* *in flight* (`settled = 0`) while its shim runs the tool: it carries the estimate, the pid,
  its start time and the host; it expires when that process is gone (same host; a reused pid
  does not count, where /proc tells) or after `IN_FLIGHT_TTL`;
* *settled* (`settled = 1`) once the attempt is over and its record is in the spool: it carries
  the actual cost (or the estimate when the cost is not known yet) and stands in for that
  record until ingestion has put it into `attempts`/`counters` with a cost. Then it is dropped.

So an attempt's cost is always counted exactly once: as a reservation or as a row, never
neither, whoever ingests the spool and whenever.

The process's connection to these rows (`connect`) lives here too: one per process, opened on
first use and kept from admission to settlement (and for the cooldown reads of the attempt
loop), and usually never closed: a shim ends with os._exit (shim.entry.end_process,
`may_skip_close`). One module rather than two: every module a gated call imports costs
~0.1 ms however little it holds (docs/benchmarks.md, issue 16).

Not on the hot path (sqlite3 is imported by the connection, on first use).
"""

import os
import time

from shim.procs import host, pid_alive, process_start  # noqa: F401  (state.host() etc. for callers)

IN_FLIGHT_TTL = 24 * 3600          # safety net; the pid check normally ends them sooner
SETTLED_TTL = 40 * 24 * 3600       # beyond the longest calendar period (frozen in m017)
# A settled reservation is matched with its ingested row (and dropped) while it is younger
# than this; one ingested later still stops counting (reserved_spend skips it), and goes at
# SETTLED_TTL. It bounds the rows each admission looks at to a day's.
MATCH_WINDOW = 24 * 3600
RATE_EVENT_TTL = 3600              # the longest rate-limit window
RATE_EVENT_PRUNE_EVERY = 32        # add_rate_event drops old events when the new id is a multiple

TABLES = ("policy_reservations", "policy_rate_events", "policy_cooldowns")

_shared = {"conn": None, "path": None, "timeout": None}
# A WAL left at exit is recovered (read) by the next process's first statement: ~0.4 us per
# KB here (docs/benchmarks.md). Past this size the exit closes the connection instead, which
# checkpoints and deletes the WAL (~9 ms; a gated call writes five pages, ~20 KB: one call in
# fifty). About where the two costs per call balance on this machine.
EXIT_CHECKPOINT_BYTES = 1024 * 1024


# --- the process's connection ---------------------------------------------------------------

def connect(timeout=None):
    """The process's connection to the telemetry database, opened once and kept between
    admit and finish: when no other shim has the file open, every close checkpoints the
    WAL (~7 ms here). Callers must not close it (see may_skip_close).

    `timeout`: seconds to wait for a busy database (SQLite's busy timeout), given when the
    connection is opened (sqlite3 sets it on the handle: no statement) or, for a connection
    already open with another one, set with a PRAGMA; None keeps what it has (the store's
    default for a new connection)."""
    from shim import paths
    from shim.telemetry import database

    path = paths.database_file()
    conn = _shared["conn"]
    if conn is not None and _shared["path"] == path:
        if timeout is not None and timeout != _shared["timeout"]:
            conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000):d}")
            _shared["timeout"] = timeout
        return conn
    if conn is not None:
        conn.close()
        _shared["conn"] = None
    timeout = database.DEFAULT_TIMEOUT if timeout is None else timeout
    _shared["conn"] = database.connect(path, timeout=timeout)
    _shared["path"] = path
    _shared["timeout"] = timeout
    return _shared["conn"]


def may_skip_close():
    """True when the shim may end without closing the connection (shim.entry ends a shim's
    process with os._exit): nothing is open, or what is open is committed and its WAL small.

    Closing the last connection to a WAL database checkpoints it: copies the WAL into the
    database, syncs both and deletes the WAL (four fdatasync calls, ~9 ms, on every gated
    call; Python 3.11 cannot turn that off per connection). Every transaction of ours is
    committed by then (autocommit; `BEGIN IMMEDIATE ... COMMIT`), and with `synchronous =
    NORMAL` a commit in WAL mode is durable against a crash of the process, not of the
    machine: the checkpoint at close never promised more than that, and the next connection
    (or the auto-checkpoint of a later commit) reads and folds in the WAL as it stands.
    The WAL left behind is recovered by the next process, so once it has grown past
    EXIT_CHECKPOINT_BYTES the connection is closed as before (False).
    """
    conn = _shared["conn"]
    if conn is None:
        return True
    if conn.in_transaction:  # never: every caller commits or rolls back; but never lose it
        return False
    try:
        return os.stat(_shared["path"] + "-wal").st_size < EXIT_CHECKPOINT_BYTES
    except OSError:
        return True


# --- housekeeping ---------------------------------------------------------------------------

# A reservation ({r}: the table or its alias) no ingested row with a cost stands for yet: it
# still counts. Not as `DELETE ... AS r`: an alias on DELETE's table is not in every SQLite.
_UNMATCHED_OF = """NOT EXISTS (SELECT 1 FROM attempts a WHERE a.invocation_id = {r}.invocation_id
                              AND a.attempt = {r}.attempt AND a.cost_usd IS NOT NULL)
           AND NOT EXISTS (SELECT 1 FROM counters c WHERE c.invocation_id = {r}.invocation_id
                              AND c.attempt = {r}.attempt AND c.cost_usd IS NOT NULL)"""
_UNMATCHED = _UNMATCHED_OF.format(r="r")


def expire(conn, now=None, prune=True):
    """Settle dead in-flight reservations at their estimate; drop ingested settled ones and,
    with `prune`, rate events past RATE_EVENT_TTL and cooldowns that ended.

    A shim killed outright (SIGKILL) cannot stop its child, which may still be spending: its
    estimate keeps counting, as a settled reservation, instead of vanishing from the budget.

    Admission passes prune=False (two statements fewer on every gated call): nothing it reads
    sees an old event or an ended cooldown (rate_times and cooldowns read their windows only),
    so dropping those is housekeeping, done where the rows are added (add_rate_event on every
    RATE_EVENT_PRUNE_EVERY-th event, set_cooldown) and by `llm-shim budget` (status).
    The reservations are expired on every admission: the rolling-window reset reads them."""
    now = time.time() if now is None else now
    me = host()
    dead = []
    for rid, pid, started in conn.execute(
            "SELECT id, pid, pid_start FROM policy_reservations WHERE settled = 0 AND host IS ?",
            (me,)):
        if not pid_alive(pid, started):
            dead.append(rid)
    if dead:
        conn.executemany("UPDATE policy_reservations SET settled = 1, expires_at = created_at "
                         "+ ? WHERE id = ?", [(SETTLED_TTL, r) for r in dead])
    # One statement (it runs on every admission), read through two indexes (m017): reservations
    # past their expires_at (in flight: IN_FLIGHT_TTL, settled: SETTLED_TTL after created_at;
    # a settled one also SETTLED_TTL old, since a shim of a version before m017 settles without
    # moving its expires_at), and settled ones whose row is ingested with its cost: those of
    # the last MATCH_WINDOW on admission, all of them with `prune` (`llm-shim budget`).
    conn.execute(f"""
        DELETE FROM policy_reservations
         WHERE (expires_at < ? AND (settled = 0 OR created_at < ?))
            OR (created_at >= ? AND settled = 1
                AND NOT ({_UNMATCHED_OF.format(r="policy_reservations")}))""",
                 (now, now - SETTLED_TTL, float("-inf") if prune else now - MATCH_WINDOW))
    if prune:
        _prune_rate_events(conn, now)
        _prune_cooldowns(conn, now)
    return len(dead)


def _prune_rate_events(conn, now):
    conn.execute("DELETE FROM policy_rate_events WHERE at < ?", (now - RATE_EVENT_TTL,))


def _prune_cooldowns(conn, now):
    conn.execute("DELETE FROM policy_cooldowns WHERE until < ?", (now,))


# --- spend ----------------------------------------------------------------------------------------

def _where(scope_column, patterns, time_column, since):
    sql = [f"{time_column} >= ?"]
    args = [since]
    if scope_column is not None:
        sql.append("(" + " OR ".join(f"{scope_column} GLOB ?" for _ in patterns) + ")")
        args += list(patterns)
    return " AND ".join(sql), args


def recorded_spend(conn, scope_column, patterns, since):
    """USD of ingested attempts/counters since `since` in the scope (blocked calls cost 0)."""
    where, args = _where(scope_column, patterns, "started_at", since)
    row = conn.execute(f"SELECT TOTAL(cost_usd) FROM spend WHERE blocked = 0 AND {where}",
                       args).fetchone()
    return float(row[0] or 0.0)


def reserved_spend(conn, scope_column, patterns, since, exclude=None):
    """(settled, in_flight, in_flight_count): USD of reservations not yet matched by a row."""
    where, args = _where(scope_column, patterns, "created_at", since)
    sql = f"""
        SELECT settled, TOTAL(cost_usd), COUNT(*) FROM policy_reservations r
         WHERE {where}
           AND {_UNMATCHED}"""
    if exclude is not None:
        sql += " AND r.id != ?"
        args = list(args) + [exclude]
    totals = {0: (0.0, 0), 1: (0.0, 0)}
    for settled, usd, count in conn.execute(sql + " GROUP BY settled", args):
        totals[int(settled)] = (float(usd or 0.0), int(count))
    return totals[1][0], totals[0][0], totals[0][1]


def oldest_spend(conn, scope_column, patterns, since):
    """started_at of the oldest spending row or reservation since `since` (rolling resets)."""
    where, args = _where(scope_column, patterns, "started_at", since)
    row = conn.execute(f"SELECT MIN(started_at) FROM spend WHERE blocked = 0 AND cost_usd > 0 "
                       f"AND {where}", args).fetchone()
    where_r, args_r = _where(scope_column, patterns, "created_at", since)
    row_r = conn.execute(f"SELECT MIN(created_at) FROM policy_reservations r WHERE cost_usd > 0 "
                         f"AND {where_r} AND {_UNMATCHED}", args_r).fetchone()
    found = [v for v in (row[0], row_r[0]) if v is not None]
    return min(found) if found else None


# --- reservations ---------------------------------------------------------------------------------

def reserve(conn, *, invocation_id, attempt, agent, tool, provider, model, cost_usd, tokens,
            override=False, now=None):
    now = time.time() if now is None else now
    cur = conn.execute(
        "INSERT INTO policy_reservations (invocation_id, attempt, created_at, expires_at, host, "
        "pid, pid_start, agent, tool, provider, model, cost_usd, tokens, settled, override) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
        (invocation_id, int(attempt), now, now + IN_FLIGHT_TTL, host(), os.getpid(),
         process_start(os.getpid()), agent, tool, provider, model, float(cost_usd), tokens,
         1 if override else 0))
    return cur.lastrowid


def settle(conn, reservation_id, cost_usd, attempt=None):
    """The attempt is over and recorded: keep its cost until ingestion has the row."""
    if attempt is None:
        conn.execute("UPDATE policy_reservations SET settled = 1, pid = NULL, cost_usd = ?, "
                     "expires_at = created_at + ? WHERE id = ?",
                     (float(cost_usd), SETTLED_TTL, reservation_id))
    else:
        conn.execute("UPDATE policy_reservations SET settled = 1, pid = NULL, cost_usd = ?, "
                     "attempt = ?, expires_at = created_at + ? WHERE id = ?",
                     (float(cost_usd), int(attempt), SETTLED_TTL, reservation_id))


def release(conn, reservation_id):
    """Nothing ran (blocked, skipped, binary missing): the reservation simply goes."""
    conn.execute("DELETE FROM policy_reservations WHERE id = ?", (reservation_id,))


def in_flight(conn):
    """Every reservation not yet matched by an ingested row, as dicts (for `llm-shim budget`)."""
    cur = conn.execute(f"""
        SELECT id, invocation_id, attempt, created_at, host, pid, agent, tool, provider, model,
               cost_usd, settled, override FROM policy_reservations r WHERE {_UNMATCHED}
         ORDER BY created_at""")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur]


# --- rate-limit events ----------------------------------------------------------------------

def rate_times(conn, scope_column, patterns, since):
    """[(at, tokens)] oldest first: when the window will have room again."""
    where, args = _where(scope_column, patterns, "at", since)
    return list(conn.execute(
        f"SELECT at, tokens FROM policy_rate_events WHERE {where} ORDER BY at", args))


def add_rate_event(conn, *, agent, tool, model, tokens, invocation_id, attempt, now=None):
    now = time.time() if now is None else now
    cur = conn.execute(
        "INSERT INTO policy_rate_events (at, agent, tool, model, tokens, invocation_id, attempt) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (now, agent, tool, model, int(tokens or 0), invocation_id, int(attempt)))
    if cur.lastrowid % RATE_EVENT_PRUNE_EVERY == 0:  # the table stays an hour's events (+32)
        _prune_rate_events(conn, now)
    return cur.lastrowid


def set_rate_tokens(conn, event_id, tokens):
    conn.execute("UPDATE policy_rate_events SET tokens = ? WHERE id = ?", (int(tokens), event_id))


# --- cooldowns -----------------------------------------------------------------------------

def set_cooldown(conn, kind, name, until, failure_class, now=None):
    """Cool `kind` ('tool'|'model') `name` down until `until`; a later deadline wins. Ended
    cooldowns are dropped first (admission leaves them: see expire)."""
    now = time.time() if now is None else now
    _prune_cooldowns(conn, now)
    conn.execute("""
        INSERT INTO policy_cooldowns (kind, name, until, failure_class, set_at, host, pid)
        VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (kind, name) DO UPDATE SET
            until = MAX(until, excluded.until), failure_class = excluded.failure_class,
            set_at = excluded.set_at, host = excluded.host, pid = excluded.pid""",
                 (kind, name, float(until), failure_class, now, host(), os.getpid()))


def cooldowns(conn, now=None):
    """{(kind, name): {"until", "failure_class", "set_at"}} for every active cooldown."""
    now = time.time() if now is None else now
    return {(kind, name): {"until": until, "failure_class": cls, "set_at": set_at}
            for kind, name, until, cls, set_at in conn.execute(
                "SELECT kind, name, until, failure_class, set_at FROM policy_cooldowns "
                "WHERE until >= ?", (now,))}


def clear_cooldowns(conn):
    return conn.execute("DELETE FROM policy_cooldowns").rowcount
