"""The team store's PostgreSQL schema, created and migrated by llm-shim.

Numbered migrations (`m001_...`), each applied with its bookkeeping row in one transaction
under a transaction-level advisory lock, so machines connecting for the first time at once
apply each step exactly once (PostgreSQL DDL is transactional). Applied versions are rows of
`llm_shim_team_schema`; the current version is also that table's comment, which one query
reads on every connection without failing when the table does not exist yet. Never edit a
released migration: append a new one.

Tables (every row carries the team's name, so one database can hold several teams):

* `team_attempts`, `team_counters`: the local `attempts`/`counters` rows of every member,
  plus `machine` (the member's machine id) and `synced_at`; primary key (team,
  invocation_id, attempt). Prompt and response text are never stored here, whatever the
  local privacy mode.
* `team_spend` (view): what team budgets sum, over both tables.
* `team_reservations`: team-budget reservations (shim/team/budgets.py).
* `team_machines`: one row per member machine: host, last sync, rows pushed.

m002 adds the attempts columns the local store gained since (route_score, and the import
columns source, git_branch, git_head, entry_count), so `report --team --by branch` and the
import rows' bookkeeping reach the store; an existing store is altered in place (adding a
nullable column rewrites nothing).
"""

SCHEMA_TABLE = "llm_shim_team_schema"
MIGRATION_LOCK = 7_211_905_391  # pg_advisory_xact_lock key for migrations


def m001_team_store(conn):
    conn.execute("""
        CREATE TABLE team_attempts (
            team text NOT NULL,
            machine text NOT NULL,
            invocation_id text NOT NULL,
            attempt integer NOT NULL,
            started_at double precision NOT NULL,
            ended_at double precision,
            duration_ms double precision,
            host text,
            agent text,
            tool_requested text,
            tool text,
            model_requested text,
            model text,
            provider text,
            tier text,
            complexity text,
            mode text,
            reasons text,
            exit_code integer,
            failure_class text,
            input_tokens bigint,
            output_tokens bigint,
            cache_read_tokens bigint,
            cache_write_tokens bigint,
            reasoning_tokens bigint,
            cost_usd double precision,
            cost_source text,
            reported_cost_usd double precision,
            computed_cost_usd double precision,
            price_version text,
            baseline_model text,
            baseline_cost_usd double precision,
            session_id text,
            project text,
            blocked integer NOT NULL DEFAULT 0,
            block_reason text,
            budget_override integer NOT NULL DEFAULT 0,
            prompt_chars integer,
            prompt_hash text,
            shim_version text,
            usage_source text,
            synced_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (team, invocation_id, attempt)
        )""")
    conn.execute("CREATE INDEX team_attempts_started_at ON team_attempts (team, started_at)")
    conn.execute("""
        CREATE TABLE team_counters (
            team text NOT NULL,
            machine text NOT NULL,
            invocation_id text NOT NULL,
            attempt integer NOT NULL,
            started_at double precision NOT NULL,
            ended_at double precision,
            agent text,
            tool text,
            provider text,
            tier text,
            model text,
            input_tokens bigint,
            output_tokens bigint,
            cache_read_tokens bigint,
            cache_write_tokens bigint,
            reasoning_tokens bigint,
            cost_usd double precision,
            cost_source text,
            blocked integer NOT NULL DEFAULT 0,
            synced_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (team, invocation_id, attempt)
        )""")
    conn.execute("CREATE INDEX team_counters_started_at ON team_counters (team, started_at)")
    conn.execute("""
        CREATE VIEW team_spend AS
            SELECT team, machine, invocation_id, attempt, started_at, agent, tool, provider,
                   model, cost_usd, blocked
              FROM team_attempts
            UNION ALL
            SELECT team, machine, invocation_id, attempt, started_at, agent, tool, provider,
                   model, cost_usd, blocked
              FROM team_counters""")
    conn.execute("""
        CREATE TABLE team_reservations (
            id bigserial PRIMARY KEY,
            team text NOT NULL,
            budget_names text,
            machine text NOT NULL,
            host text,
            pid integer,
            pid_start bigint,
            invocation_id text NOT NULL,
            attempt integer NOT NULL,
            created_at double precision NOT NULL,
            expires_at double precision NOT NULL,
            agent text,
            tool text,
            provider text,
            model text,
            cost_usd double precision NOT NULL,
            settled boolean NOT NULL DEFAULT false,
            override boolean NOT NULL DEFAULT false
        )""")
    conn.execute("CREATE INDEX team_reservations_created_at "
                 "ON team_reservations (team, created_at)")
    conn.execute("CREATE INDEX team_reservations_attempt "
                 "ON team_reservations (invocation_id, attempt)")
    conn.execute("""
        CREATE TABLE team_machines (
            team text NOT NULL,
            machine text NOT NULL,
            host text,
            shim_version text,
            first_seen timestamptz NOT NULL DEFAULT now(),
            last_sync timestamptz,
            rows_pushed bigint NOT NULL DEFAULT 0,
            PRIMARY KEY (team, machine)
        )""")


def m002_import_columns(conn):
    """The attempts columns added locally by m007 (route_score) and m011 (source, git_branch,
    git_head, entry_count). Frozen: a later local column is a new team migration."""
    for column, kind in (("route_score", "double precision"), ("source", "text"),
                         ("git_branch", "text"), ("git_head", "text"),
                         ("entry_count", "bigint")):
        conn.execute(f"ALTER TABLE team_attempts ADD COLUMN IF NOT EXISTS {column} {kind}")


MIGRATIONS = [m001_team_store, m002_import_columns]
LATEST = len(MIGRATIONS)


def version(conn):
    """The schema version (0 when llm-shim never ran here): one query that cannot fail."""
    row = conn.execute("SELECT obj_description(to_regclass(%s), 'pg_class')",
                       (SCHEMA_TABLE,)).fetchone()
    try:
        return int(row[0]) if row and row[0] else 0
    except ValueError:
        return 0


def migrate(conn, target=LATEST):
    """Bring the schema to `target`; returns the resulting version. `conn` is autocommit.

    A store newer than this code is left alone: older code still writes the columns it knows.
    """
    current = version(conn)
    if current >= target:
        return current
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute(f"""
            CREATE TABLE IF NOT EXISTS {SCHEMA_TABLE} (
                version integer PRIMARY KEY,
                name text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now())""")
        current = version(conn)  # another machine may have migrated meanwhile
        while current < target:
            step = MIGRATIONS[current]
            step(conn)
            current += 1
            conn.execute(f"INSERT INTO {SCHEMA_TABLE} (version, name) VALUES (%s, %s)",
                         (current, step.__name__))
            conn.execute(f"COMMENT ON TABLE {SCHEMA_TABLE} IS '{current:d}'")
    return current


def columns(conn, table):
    """The columns of `table` in the store, in order."""
    rows = conn.execute("SELECT column_name FROM information_schema.columns "
                        "WHERE table_schema = current_schema() AND table_name = %s "
                        "ORDER BY ordinal_position", (table,)).fetchall()
    return [r[0] for r in rows]
