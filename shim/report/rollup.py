"""Rollup tables: per UTC bucket and group, the sums a report needs.

Summing 1,000,000 rows costs SQLite several seconds on a small machine, mostly in the GROUP BY
sort, and no index avoids that for arbitrary `--by` lists (docs/report.md, "Scale"). So the
sums are kept up to date by triggers on `attempts` and `counters`: every INSERT adds the row's
measures to its (bucket, agent, model, tool, provider, project) cell, every DELETE subtracts
them, every UPDATE of a column the report reads does both. The source triggers only pass the
row, signed, to a view (`report_rollup_delta`) whose one INSTEAD OF trigger holds the measure
expressions, so the schema SQLite parses on every connection stays small. There are two levels: UTC quarter
hours (`report_rollup_15m`, exact for any zone's period bounds) and UTC days
(`report_rollup_1d`); a report reads whole UTC days from the second and only the edges of its
local periods from the first (`query.plan`).

The schema is owned by shim/telemetry/migrations.py: a migration runs `install(conn)` (or the
SQL printed by `python -m shim.report.rollup`). The report uses the table only when it exists.
Writers must not use INSERT OR REPLACE on these tables: SQLite fires no DELETE trigger for the
row a REPLACE removes unless `recursive_triggers` is on, so the old row would stay counted.
"""

import sys

from shim.report.measures import (COLUMNS, KEYS, MEASURES, bucket_expression, expressions,
                                  key_expression)

# (table, bucket seconds), finest first.
LEVELS = (("report_rollup_15m", 900), ("report_rollup_1d", 86400))
SOURCES = ("attempts", "counters")


def table_sql(table, seconds):
    measures = ",\n".join(f"    {name} INTEGER NOT NULL" for name in MEASURES)
    keys = ",\n".join(f"    {key} TEXT NOT NULL" for key in KEYS)
    return (f"CREATE TABLE IF NOT EXISTS {table} (\n"
            f"    bucket INTEGER NOT NULL,  -- CAST(started_at / {seconds} AS INTEGER)\n"
            f"{keys},\n{measures},\n"
            f"    PRIMARY KEY (bucket, {', '.join(KEYS)})\n) WITHOUT ROWID")


# The view the source triggers insert a row's signed contribution into: `sign` (+1 for a row
# added, -1 for a row removed), then the columns the measures and keys read (NULL for a column
# the source lacks, which is what the measures read for it anyway).
DELTA_VIEW = "report_rollup_delta"
DELTA_COLUMNS = ("sign",) + COLUMNS


def _cell(available, prefix, seconds):
    """(column list, value list) locating and measuring one row of a source table."""
    names = ["bucket", *KEYS, *MEASURES]
    values = [bucket_expression(prefix, seconds)]
    values += [key_expression(k, available, prefix) for k in KEYS]
    values += list(expressions(available, prefix).values())
    return names, values


def _upsert_clause():
    sets = ", ".join(f"{m} = {m} + excluded.{m}" for m in MEASURES)
    return f"ON CONFLICT (bucket, {', '.join(KEYS)}) DO UPDATE SET {sets}"


def _apply(table, seconds, available, prefix):
    """One row's signed contribution to its cell of `table`: added with the row's sign (an
    added row, 1, creates or grows the cell; a removed one, -1, shrinks it), then, for a
    removed row only, a cell left with no attempt is deleted. A removed row whose cell is
    missing (a damaged rollup) inserts a negative cell that the DELETE takes away at once:
    nothing changes, as m012's UPDATE changed nothing."""
    names, values = _cell(available, prefix, seconds)
    split = 1 + len(KEYS)
    signed = values[:split] + [f"{prefix}sign" if v == "1" else f"{prefix}sign * {v}"
                               for v in values[split:]]
    where = " AND ".join(f"{n} = {v}" for n, v in zip(names[:split], values))
    return (f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(signed)}) "
            f"{_upsert_clause()};\n"
            f"    DELETE FROM {table} WHERE {prefix}sign < 0 AND {where} AND attempts <= 0;")


APPLY_TRIGGER = f"{DELTA_VIEW}_apply"


def apply_trigger_sql():
    """The view of signed row contributions and the one trigger that applies them to every
    level (`_apply`), the statements the source triggers held before (m012), written once for
    both sources, all three events and both signs. SQLite parses every trigger of the schema
    on a connection's first statement, so their size is paid by every call that opens the
    store (docs/benchmarks.md). One signed statement per level rather than an add and a
    subtract trigger (m014) halves that text; a DELETE whose sign test fails is skipped before
    it looks at the table. (A guarded INSERT ... SELECT per level costs the writes about half
    again: tests/bench/rollup_writes.py.)"""
    view = (f"CREATE VIEW IF NOT EXISTS {DELTA_VIEW} AS SELECT "
            + ", ".join(f"NULL AS {c}" for c in DELTA_COLUMNS) + " WHERE 0")
    every = set(COLUMNS)
    body = "\n    ".join(_apply(t, s, every, "NEW.") for t, s in LEVELS)
    return [view, f"CREATE TRIGGER IF NOT EXISTS {APPLY_TRIGGER} INSTEAD OF INSERT ON "
                  f"{DELTA_VIEW} BEGIN\n    {body}\nEND"]


def _delta(sign, available, prefix):
    values = [sign] + [f"{prefix}{c}" if c in available else "NULL" for c in COLUMNS]
    return f"INSERT INTO {DELTA_VIEW} VALUES ({', '.join(values)});"


def trigger_sql(source, available):
    """The three triggers that keep every level equal to the sums over `source`: each passes
    the old row with sign -1 and the new one with +1 to the delta view."""
    read = [c for c in COLUMNS if c in available]
    name = f"report_rollup_{source}"
    removed, added = _delta("-1", available, "OLD."), _delta("1", available, "NEW.")
    return [
        f"CREATE TRIGGER IF NOT EXISTS {name}_insert AFTER INSERT ON {source} BEGIN\n"
        f"    {added}\nEND",
        f"CREATE TRIGGER IF NOT EXISTS {name}_delete AFTER DELETE ON {source} BEGIN\n"
        f"    {removed}\nEND",
        f"CREATE TRIGGER IF NOT EXISTS {name}_update AFTER UPDATE OF {', '.join(read)} "
        f"ON {source} BEGIN\n    {removed}\n    {added}\nEND",
    ]


def trigger_statements(tables):
    """The view, its trigger and the source triggers for `tables` ({name: columns})."""
    out = apply_trigger_sql()
    for source in (s for s in SOURCES if s in tables):
        out += trigger_sql(source, set(tables[source]))
    return out


def backfill_sql(table, seconds, source, available):
    names, values = _cell(available, "", seconds)
    split = 1 + len(KEYS)
    group = ", ".join(str(i) for i in range(1, split + 1))
    select = ", ".join(values[:split] + [f"SUM({v})" for v in values[split:]])
    return (f"INSERT INTO {table} ({', '.join(names)}) SELECT {select} FROM {source} "
            f"WHERE true GROUP BY {group} {_upsert_clause()}")


def statements(tables):
    """Every statement creating and filling the rollups for `tables` ({name: columns})."""
    present = [s for s in SOURCES if s in tables]
    out = [table_sql(t, s) for t, s in LEVELS] + trigger_statements(tables)
    for table, seconds in LEVELS:
        for source in present:
            out.append(backfill_sql(table, seconds, source, set(tables[source])))
    return out


def columns_of(conn, table):
    return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def install(conn):
    """Create the rollups and their triggers and fill them from the existing rows. Call it
    inside the migration's transaction; on an installed rollup it changes nothing."""
    if exists(conn):
        return
    tables = {t: columns_of(conn, t) for t in SOURCES}
    for sql in statements({t: c for t, c in tables.items() if c}):
        conn.execute(sql)


def exists(conn):
    """True when both rollup tables exist with every measure this code reads (a rollup left
    by an older version with other measures is ignored: the rows are summed instead)."""
    wanted = {"bucket", *KEYS, *MEASURES}
    return all(wanted <= set(columns_of(conn, table)) for table, _ in LEVELS)


def drop(conn):
    """Remove the rollup tables and their triggers (before installing a changed rollup)."""
    triggers = conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                            "AND name LIKE 'report_rollup_%'").fetchall()
    for (name,) in triggers:
        conn.execute(f"DROP TRIGGER IF EXISTS {name}")
    conn.execute(f"DROP VIEW IF EXISTS {DELTA_VIEW}")
    for table, _ in LEVELS:
        conn.execute(f"DROP TABLE IF EXISTS {table}")


def main(argv=None):
    """Print the SQL for the current attempts/counters schema (for a frozen migration);
    `--triggers` prints only the view and the triggers (a migration that keeps the tables)."""
    from shim.telemetry.migrations import ATTEMPT_COLUMNS, COUNTER_COLUMNS

    argv = sys.argv[1:] if argv is None else argv
    tables = {"attempts": ATTEMPT_COLUMNS, "counters": COUNTER_COLUMNS}
    for sql in trigger_statements(tables) if "--triggers" in argv else statements(tables):
        sys.stdout.write(sql + ";\n\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
