"""Numbered schema migrations, tracked by `PRAGMA user_version` (0 = empty file).

`migrate` reads user_version first and returns at once when it is current, so the common path
runs no DDL and takes no write lock (llm#789: migrating on every call broke `xargs -P`).
Each migration runs with its version bump in one `BEGIN IMMEDIATE` transaction and re-reads
the version under that lock, so concurrent first runs apply each step exactly once.
Never edit a released migration: append a new one, and bump schema_version.LATEST (the
version a connection checks without importing this module).
"""

from shim.telemetry.schema_version import LATEST, user_version  # noqa: F401  (callers use them here)

# The attempts columns, in table order (docs/internals.md "Attempt record" plus usage_source
# and route_score).
ATTEMPT_COLUMNS = (
    "invocation_id", "attempt", "started_at", "ended_at", "duration_ms", "host", "agent",
    "tool_requested", "tool", "model_requested", "model", "provider", "tier", "complexity",
    "mode", "reasons", "exit_code", "failure_class",
    "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
    "reasoning_tokens", "cost_usd", "cost_source", "reported_cost_usd", "computed_cost_usd",
    "price_version", "baseline_model", "baseline_cost_usd", "session_id", "project",
    "blocked", "block_reason", "budget_override", "prompt_chars", "prompt_hash",
    "prompt_text", "response_text", "shim_version", "usage_source", "route_score",
)

# Columns added by m011 (not in ATTEMPT_COLUMNS; the team store has both, team schema m002):
# `source` 'import' for a row `llm-shim import` read from a tool's own logs (NULL: a shim call),
# the git branch and HEAD of the cwd at call time (or the transcript's gitBranch), and for an
# import row the number of log entries summed into it.
IMPORT_COLUMNS = ("source", "git_branch", "git_head", "entry_count")

COUNTER_COLUMNS = (
    "invocation_id", "attempt", "started_at", "ended_at", "agent", "tool", "provider", "tier",
    "model", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
    "reasoning_tokens", "cost_usd", "cost_source", "blocked",
)


def m001_attempts(conn):
    conn.execute("""
        CREATE TABLE attempts (
            invocation_id TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            started_at REAL NOT NULL,
            ended_at REAL,
            duration_ms REAL,
            host TEXT,
            agent TEXT,
            tool_requested TEXT,
            tool TEXT,
            model_requested TEXT,
            model TEXT,
            provider TEXT,
            tier TEXT,
            complexity TEXT,
            mode TEXT,
            reasons TEXT,
            exit_code INTEGER,
            failure_class TEXT,
            input_tokens INTEGER,
            output_tokens INTEGER,
            cache_read_tokens INTEGER,
            cache_write_tokens INTEGER,
            reasoning_tokens INTEGER,
            cost_usd REAL,
            cost_source TEXT,
            reported_cost_usd REAL,
            computed_cost_usd REAL,
            price_version TEXT,
            baseline_model TEXT,
            baseline_cost_usd REAL,
            session_id TEXT,
            project TEXT,
            blocked INTEGER NOT NULL DEFAULT 0,
            block_reason TEXT,
            budget_override INTEGER NOT NULL DEFAULT 0,
            prompt_chars INTEGER,
            prompt_hash TEXT,
            prompt_text TEXT,
            response_text TEXT,
            shim_version TEXT,
            PRIMARY KEY (invocation_id, attempt)
        )""")
    conn.execute("CREATE INDEX attempts_started_at ON attempts (started_at)")


def m002_counters_and_usage_source(conn):
    """`privacy: off` keeps only budget counters; `usage_source` says stream or harvest."""
    conn.execute("ALTER TABLE attempts ADD COLUMN usage_source TEXT")
    conn.execute("""
        CREATE TABLE counters (
            invocation_id TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            started_at REAL NOT NULL,
            ended_at REAL,
            agent TEXT,
            tool TEXT,
            provider TEXT,
            tier TEXT,
            model TEXT,
            input_tokens INTEGER,
            output_tokens INTEGER,
            cache_read_tokens INTEGER,
            cache_write_tokens INTEGER,
            reasoning_tokens INTEGER,
            cost_usd REAL,
            cost_source TEXT,
            blocked INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (invocation_id, attempt)
        )""")
    conn.execute("CREATE INDEX counters_started_at ON counters (started_at)")
    # Everything budgets and rate limits count, whatever the privacy mode of each call.
    conn.execute("""
        CREATE VIEW spend AS
            SELECT started_at, agent, tool, provider, tier, model, input_tokens, output_tokens,
                   cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_usd,
                   cost_source, blocked
              FROM attempts
            UNION ALL
            SELECT started_at, agent, tool, provider, tier, model, input_tokens, output_tokens,
                   cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_usd,
                   cost_source, blocked
              FROM counters""")


def m003_report_index(conn):
    """A covering index for reports and budgets: range on started_at, group by the rest,
    without touching the table rows (which may hold prompt text in `full` mode)."""
    conn.execute("""
        CREATE INDEX attempts_report ON attempts (
            started_at, agent, tool, model, provider, tier, cost_usd, baseline_cost_usd,
            input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
            reasoning_tokens, blocked, exit_code, failure_class, cost_source)""")
    conn.execute("DROP INDEX attempts_started_at")  # a prefix of attempts_report


def m004_policy_state(conn):
    """Reservations, cooldowns and rate-limit events of the policy engine (docs/policies.md).
    Frozen: the DDL as policy code had it when m004 shipped; a change is a new migration."""
    conn.execute("""
        CREATE TABLE policy_reservations (
            id INTEGER PRIMARY KEY,
            invocation_id TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            created_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            host TEXT,
            pid INTEGER,
            pid_start INTEGER,
            agent TEXT,
            tool TEXT,
            provider TEXT,
            model TEXT,
            cost_usd REAL NOT NULL,
            tokens INTEGER,
            settled INTEGER NOT NULL DEFAULT 0,
            override INTEGER NOT NULL DEFAULT 0
        )""")
    conn.execute("CREATE INDEX policy_reservations_attempt "
                 "ON policy_reservations (invocation_id, attempt)")
    conn.execute("""
        CREATE TABLE policy_rate_events (
            id INTEGER PRIMARY KEY,
            at REAL NOT NULL,
            agent TEXT,
            tool TEXT,
            model TEXT,
            tokens INTEGER NOT NULL DEFAULT 0,
            invocation_id TEXT,
            attempt INTEGER
        )""")
    conn.execute("CREATE INDEX policy_rate_events_at ON policy_rate_events (at)")
    conn.execute("""
        CREATE TABLE policy_cooldowns (
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            until REAL NOT NULL,
            failure_class TEXT,
            set_at REAL NOT NULL,
            host TEXT,
            pid INTEGER,
            PRIMARY KEY (kind, name)
        )""")


def m005_report_rollup(conn):
    """Pre-summed quarter-hour and day rollups kept current by triggers, so `llm-shim report`
    answers from 1M rows in ~0.2 s (docs/report.md). The SQL is frozen in a data file,
    generated once by `python -m shim.report.rollup` from the schema as of m004."""
    _run_sql_file(conn, "m005_report_rollup.sql")


def m006_harvest_claims(conn):
    """Which log entries (a Claude message, a Codex token count) were already counted for an
    attempt, so two calls whose windows overlap in one directory never both count them."""
    conn.execute("""
        CREATE TABLE harvest_claims (
            tool TEXT NOT NULL,
            key TEXT NOT NULL,
            invocation_id TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            claimed_at REAL NOT NULL,
            PRIMARY KEY (tool, key)
        ) WITHOUT ROWID""")
    conn.execute("CREATE INDEX harvest_claims_claimed_at ON harvest_claims (claimed_at)")


def m007_route_score(conn):
    """The learned router's score of the prompt (issue 18), so `llm-shim logs` can show why a
    call went to its tier."""
    conn.execute("ALTER TABLE attempts ADD COLUMN route_score REAL")


def m008_report_rollup_reasoning(conn):
    """The report rollups again, with reasoning tokens as a measure (the one token model of
    docs/telemetry.md shows them apart): drop m005's tables and triggers, create the new
    ones and backfill them. Frozen SQL, generated by `python -m shim.report.rollup` as of m007."""
    _replace_rollup(conn, "m008_report_rollup.sql")


def _run_sql_file(conn, name):
    """Execute the frozen statements of shim/data/`name`, one `execute` each."""
    for statement in frozen_statements(name):
        conn.execute(statement)


def frozen_statements(name):
    """The statements of the frozen SQL file shim/data/`name`, in order."""
    import sqlite3

    from shim import paths

    with open(paths.package_data(name), encoding="utf-8") as fh:
        script = fh.read()
    out, statement = [], ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            out.append(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"{name} ends with an incomplete statement")
    return out


def m009_alerts(conn):
    """Alert deliveries (shim/alerts). The unique key is the claim: of any number of parallel
    shims crossing a threshold, the one whose INSERT OR IGNORE adds the row delivers it."""
    conn.execute("""
        CREATE TABLE alerts (
            id INTEGER PRIMARY KEY,
            alert TEXT NOT NULL,
            threshold REAL NOT NULL,
            period_start REAL NOT NULL,
            created_at REAL NOT NULL,
            subject_kind TEXT NOT NULL,
            subject TEXT NOT NULL,
            fraction REAL,
            spent_usd REAL,
            limit_usd REAL,
            payload TEXT NOT NULL,
            channels TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending',
            detail TEXT,
            delivered_at REAL,
            UNIQUE (alert, threshold, period_start)
        )""")
    conn.execute("CREATE INDEX alerts_created_at ON alerts (created_at)")


def m010_plan_snapshots(conn):
    """The plan windows' used % as the tools report them (Claude's status line JSON, its
    stream-json `rate_limit_event`), each with the time it was seen: quota routing decides
    from the newest one, `report --blocks` shows it (docs/plans.md)."""
    conn.execute("""
        CREATE TABLE plan_snapshots (
            id INTEGER PRIMARY KEY,
            seen_at REAL NOT NULL,
            tool TEXT NOT NULL,
            plan_window TEXT NOT NULL,
            used_pct REAL,
            resets_at REAL,
            status TEXT,
            source TEXT NOT NULL,
            session_id TEXT
        )""")
    conn.execute("CREATE INDEX plan_snapshots_latest ON plan_snapshots "
                 "(tool, plan_window, seen_at)")


def m011_import(conn):
    """`llm-shim import` (docs/telemetry.md "Import"): where each row came from, the git branch
    and HEAD, and what was read of each log file (identity and byte offset), so a second run
    reads only what is new."""
    for column in IMPORT_COLUMNS:
        kind = "INTEGER" if column == "entry_count" else "TEXT"
        conn.execute(f"ALTER TABLE attempts ADD COLUMN {column} {kind}")
    conn.execute("""
        CREATE TABLE import_files (
            path TEXT PRIMARY KEY,
            tool TEXT NOT NULL,
            dev INTEGER,
            inode INTEGER,
            size INTEGER,
            mtime_ns INTEGER,
            offset INTEGER NOT NULL DEFAULT 0,
            tail BLOB,        -- the bytes just before offset: a rewrite changes them
            state TEXT,       -- per-file parser state (JSON), e.g. a rollout's last total
            imported_at REAL
        )""")
    conn.execute("CREATE INDEX attempts_session ON attempts (session_id, started_at) "
                 "WHERE session_id IS NOT NULL")
    # One row per imported log entry (a Claude message, a Codex token count, an llm row): its
    # tokens and cost, and the attempts row (`row_id`) they are summed into. An import row sums
    # the entries of one session, model, branch and project in one UTC quarter hour, so a
    # report or budget reads a few rows per session rather than one per message.
    conn.execute("""
        CREATE TABLE import_entries (
            tool TEXT NOT NULL,
            key TEXT NOT NULL,
            row_id TEXT NOT NULL,
            ts REAL NOT NULL,
            session_id TEXT,
            input_tokens INTEGER,
            output_tokens INTEGER,
            cache_read_tokens INTEGER,
            cache_write_tokens INTEGER,
            reasoning_tokens INTEGER,
            cost_usd REAL,
            PRIMARY KEY (tool, key)
        ) WITHOUT ROWID""")
    conn.execute("CREATE INDEX import_entries_session ON import_entries (session_id, ts)")



def m012_report_rollup_unknown_tokens(conn):
    """The report rollups again, with the attempts that have no token counts as a measure
    (`unknown_tokens`: token sums over them are lower bounds, docs/report.md): drop m008's
    tables and triggers, create the new ones and backfill them. Frozen SQL, generated by
    `python -m shim.report.rollup` as of m010."""
    _replace_rollup(conn, "m012_report_rollup.sql")


def _replace_rollup(conn, script_name):
    """Drop the rollup tables and their triggers, then run the frozen script that creates and
    backfills the new ones (m008, m012)."""
    for source in ("attempts", "counters"):
        for event in ("insert", "delete", "update"):
            conn.execute(f"DROP TRIGGER IF EXISTS report_rollup_{source}_{event}")
    for table in ("report_rollup_15m", "report_rollup_1d"):
        conn.execute(f"DROP TABLE IF EXISTS {table}")
    _run_sql_file(conn, script_name)


def hash64(text):
    """A stable signed 64-bit integer for `text` (the first 8 bytes of its BLAKE2b digest).
    Frozen: `import_entries` stores log entries, import rows and sessions under it (m013),
    so changing it would make every stored entry unknown to the next import."""
    import hashlib

    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def m013_import_entries_by_hash(conn):
    """`import_entries` keyed by integers, with no secondary index: the entry (hash64 of
    "<tool>\\0<key>") is the rowid, its import row the hash64 of the row's invocation_id. A
    first import writes one entry per log message; with text keys and a session index that
    was most of its time. `import_rows` holds per import row its invocation_id, session
    (hash64), time span and the keys of its entries (int64 little-endian), which is how the
    entries of a session's time window are found (ingest's supersede). Existing entries are
    converted, none is lost."""
    import array
    import sys

    conn.execute("""
        CREATE TABLE import_rows (
            id INTEGER PRIMARY KEY,            -- hash64(invocation_id)
            invocation_id TEXT NOT NULL,
            session INTEGER,                   -- hash64(session_id)
            first REAL NOT NULL,               -- the earliest and latest entry
            last REAL NOT NULL,
            keys BLOB NOT NULL                 -- its entries' keys, int64 little-endian
        )""")
    conn.execute("CREATE INDEX import_rows_session ON import_rows (session, first) "
                 "WHERE session IS NOT NULL")
    conn.execute("""
        CREATE TABLE import_entries_new (
            key INTEGER PRIMARY KEY,           -- hash64(tool || char(0) || key)
            row INTEGER NOT NULL,              -- import_rows.id
            ts REAL NOT NULL,
            input_tokens INTEGER,
            output_tokens INTEGER,
            cache_read_tokens INTEGER,
            cache_write_tokens INTEGER,
            reasoning_tokens INTEGER,
            cost_usd REAL
        )""")
    rows, entries = {}, []
    for tool, key, row_id, ts, session_id, *values in conn.execute(
            "SELECT tool, key, row_id, ts, session_id, input_tokens, output_tokens, "
            "cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_usd "
            "FROM import_entries"):
        row = rows.get(row_id)
        if row is None:
            row = rows[row_id] = [hash64(row_id), None if session_id is None
                                  else hash64(session_id), ts, ts, array.array("q")]
        entry = hash64(f"{tool}\0{key}")
        row[2], row[3] = min(row[2], ts), max(row[3], ts)
        row[4].append(entry)
        entries.append((entry, row[0], ts, *values))
    for row in rows.values():
        if sys.byteorder == "big":
            row[4].byteswap()
    conn.executemany("INSERT OR IGNORE INTO import_rows (id, invocation_id, session, first, "
                     "last, keys) VALUES (?, ?, ?, ?, ?, ?)",
                     [(r[0], name, r[1], r[2], r[3], r[4].tobytes())
                      for name, r in rows.items()])
    entries.sort()
    conn.executemany("INSERT OR REPLACE INTO import_entries_new VALUES "
                     "(?, ?, ?, ?, ?, ?, ?, ?, ?)", entries)
    conn.execute("DROP TABLE import_entries")
    conn.execute("ALTER TABLE import_entries_new RENAME TO import_entries")


def m014_report_rollup_compact_triggers(conn):
    """The same rollup, kept by smaller triggers: the six source triggers pass the row, signed,
    to a view whose one INSTEAD OF trigger adds it to both levels (shim/report/rollup.py).
    SQLite parses the whole schema on a connection's first statement, and m012's triggers were
    39 KB of its 47 KB: every gated shim call paid for them (docs/benchmarks.md, case (e)).
    The tables and their rows stay; only the triggers change, so there is nothing to backfill.
    Frozen SQL, generated by `python -m shim.report.rollup --triggers` as of m012."""
    for source in ("attempts", "counters"):
        for event in ("insert", "delete", "update"):
            conn.execute(f"DROP TRIGGER IF EXISTS report_rollup_{source}_{event}")
    _run_sql_file(conn, "report_rollup_compact_triggers.sql")


def m015_report_rollup_one_delta_trigger(conn):
    """The same rollup, its two INSTEAD OF triggers (m014's add and subtract) made one: each
    level gets the row's contribution times its sign in one upsert, and a cell a removed row
    left without attempts is deleted. The trigger SQL went from 10.0 KB to 6.4 KB of the
    schema every connection parses on its first statement (a gated shim call: ~1.1 M of its
    ~59 M instructions; docs/benchmarks.md, case (e)). The view, the source triggers, the
    tables and their rows stay. Frozen SQL, generated by `shim.report.rollup.
    apply_trigger_sql()` as of m014."""
    conn.execute("DROP TRIGGER IF EXISTS report_rollup_delta_add")
    conn.execute("DROP TRIGGER IF EXISTS report_rollup_delta_subtract")
    _run_sql_file(conn, "m015_report_rollup_delta_trigger.sql")


def m016_import_entry_values_by_row(conn):
    """`import_entries` keeps only each entry's import row (key -> row); its time, token
    counts and cost move to `import_rows.entries`, packed in the order of the row's `keys`
    (per entry: the time as a double, the five counts as int64 with -1 for NULL, the cost as
    a double with NaN for NULL; little-endian). A first import inserts one `import_entries`
    row per log entry at random places of the B-tree (the keys are hashes), and what that
    costs grows with the row's size: 9 columns took ~0.8 s for 200,000 entries in 4 batches,
    2 columns ~0.3-0.5 s; the values are written once per import row instead. Existing entries
    are converted, none is lost: each row's keys are rebuilt from the entries stored under it
    (a key the row listed that ingestion took out since, or listed twice, is left out; an
    entry whose import row is missing, which no writer leaves, is dropped: nothing could take
    it back out of a row's sums anyway)."""
    import array
    import struct
    import sys
    from itertools import groupby

    pack = struct.Struct("<d5qd").pack  # frozen here: imports._ENTRY_VALUES is the same today
    nan = float("nan")
    conn.execute("ALTER TABLE import_rows ADD COLUMN entries BLOB NOT NULL DEFAULT x''")
    updates = []
    found = conn.execute(
        "SELECT e.row, e.key, e.ts, e.input_tokens, e.output_tokens, e.cache_read_tokens, "
        "e.cache_write_tokens, e.reasoning_tokens, e.cost_usd FROM import_entries e "
        "JOIN import_rows r ON r.id = e.row ORDER BY e.row, e.ts, e.key")
    for row, entries in groupby(found, key=lambda e: e[0]):
        keys, values = array.array("q"), []
        for _row, key, ts, a, b, c, d, e, cost in entries:
            keys.append(key)
            values.append(pack(ts, -1 if a is None else a, -1 if b is None else b,
                               -1 if c is None else c, -1 if d is None else d,
                               -1 if e is None else e, nan if cost is None else cost))
        if sys.byteorder == "big":
            keys.byteswap()
        updates.append((keys.tobytes(), b"".join(values), row))
    conn.execute("UPDATE import_rows SET keys = x'', entries = x''")  # rows with no entry left
    conn.executemany("UPDATE import_rows SET keys = ?, entries = ? WHERE id = ?", updates)
    conn.execute("""
        CREATE TABLE import_entries_new (
            key INTEGER PRIMARY KEY,           -- hash64(tool || char(0) || key)
            row INTEGER NOT NULL               -- import_rows.id
        )""")
    conn.execute("INSERT INTO import_entries_new (key, row) SELECT key, row FROM import_entries "
                 "WHERE row IN (SELECT id FROM import_rows) ORDER BY key")
    conn.execute("DROP TABLE import_entries")
    conn.execute("ALTER TABLE import_entries_new RENAME TO import_entries")


def m017_policy_reservations_by_time(conn):
    """Admission reads and prunes reservations through indexes, not by visiting every one:
    a reservation whose attempt was ingested without a cost stands in for it for 40 days, and
    each admission used to visit every such row twice (~2 us each: 20,000 rows, ~13 ms a
    call). A settled reservation now carries its end of life in `expires_at` (created_at + 40
    days, as an in-flight one carries created_at + 24 h), so expiry is one range of
    `policy_reservations_expires`; the pid check reads the in-flight ones through a partial
    index; spend sums read the budget's period through `policy_reservations_created`.
    Frozen: the 40 days are the SETTLED_TTL of policy/state.py when m017 shipped."""
    conn.execute("UPDATE policy_reservations SET expires_at = created_at + 3456000 "
                 "WHERE settled = 1")
    conn.execute("CREATE INDEX policy_reservations_in_flight ON policy_reservations (host) "
                 "WHERE settled = 0")
    conn.execute("CREATE INDEX policy_reservations_expires ON policy_reservations (expires_at)")
    conn.execute("CREATE INDEX policy_reservations_created ON policy_reservations (created_at)")


MIGRATIONS = [m001_attempts, m002_counters_and_usage_source, m003_report_index,
              m004_policy_state, m005_report_rollup, m006_harvest_claims, m007_route_score,
              m008_report_rollup_reasoning, m009_alerts, m010_plan_snapshots, m011_import,
              m012_report_rollup_unknown_tokens, m013_import_entries_by_hash,
              m014_report_rollup_compact_triggers, m015_report_rollup_one_delta_trigger,
              m016_import_entry_values_by_row, m017_policy_reservations_by_time]
if len(MIGRATIONS) != LATEST:  # one definition: a new migration bumps schema_version.LATEST
    raise ImportError(f"shim.telemetry.schema_version.LATEST is {LATEST}, but there are "
                      f"{len(MIGRATIONS)} migrations")


def migrate(conn, target=LATEST):
    """Bring the schema to `target` (default: latest). Returns the resulting version.

    `conn` must be in autocommit mode (isolation_level=None). A database newer than this code
    is left alone: older code can still insert the columns it knows.
    """
    version = user_version(conn)
    while version < target:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = user_version(conn)  # another process may have migrated meanwhile
            if version < target:
                MIGRATIONS[version](conn)
                version += 1
                conn.execute(f"PRAGMA user_version = {version:d}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return version
