"""Many new import rows into `attempts` (or `counters`) with the report rollup summed once.

The rollup triggers (m014's source triggers, m015's view trigger) add each inserted row to its quarter-hour and day cells through
the `report_rollup_delta` view: two upserts per row, about as much again as the row's own
insert. A first import inserts thousands of rows in one transaction, so inside it the insert
trigger of the table is dropped, the rows are inserted, their sums are added to the rollups
by the frozen backfill statements of m012 (the same measures: `GROUP BY` the cell, each
measure summed, added on conflict) over just the new rows (rowid above the largest before),
and the trigger is created again from the very SQL it was stored with. Readers see the
transaction whole or not at all; a failure rolls the trigger back with the rows.

Only when the database's triggers are the frozen ones this code knows (the table's insert
trigger of m014 and the view's trigger of m015, compared text for text): any other rollup
keeps its triggers and the rows go in one by one.
"""

from shim.telemetry import migrations

MIN_ROWS = 64          # fewer rows: the triggers' cost is smaller than a schema change's
_TRIGGERS = "report_rollup_compact_triggers.sql"   # m014: the source tables' triggers
_VIEW_TRIGGERS = "m015_report_rollup_delta_trigger.sql"  # m015: the view's one trigger
_BACKFILL = "m012_report_rollup.sql"               # the same measures, set-based
_VIEW_TRIGGER = "report_rollup_delta_apply"  # holds the measures the source trigger passes on
_ROWID_ROOM = 1 << 62  # SQLite picks random rowids only past 2**63 - 1
_known = {}            # table -> (its insert trigger's name, {trigger name: SQL as stored}
#                        for it and the view's, or None, [backfill statements])


def insert(conn, table, columns, values):
    """INSERT `values` (tuples in `columns` order; none of them there yet) into `table`,
    with the rollup equal to what the insert trigger would have added."""
    plain = (f"INSERT INTO {table} ({', '.join(columns)}) "
             f"VALUES ({', '.join('?' * len(columns))})")
    if len(values) < MIN_ROWS or not _frozen_triggers(conn, table):
        conn.executemany(plain, values)
        return
    name, triggers, backfill = _known[table]
    (before,) = conn.execute(f"SELECT IFNULL(MAX(rowid), 0) FROM {table}").fetchone()
    if before >= _ROWID_ROOM:  # new rowids might not all be above it
        conn.executemany(plain, values)
        return
    conn.execute(f"DROP TRIGGER {name}")
    conn.executemany(plain, values)
    new_rows = f"FROM (SELECT * FROM {table} WHERE rowid > {int(before):d}) WHERE true"
    for sql in backfill:
        conn.execute(sql.replace(f"FROM {table} WHERE true", new_rows))
    conn.execute(triggers[name])


def _frozen_triggers(conn, table):
    """True when the rollup triggers `table`'s inserts go through are the frozen ones
    (m014's source trigger, m015's view trigger), unchanged."""
    if table not in _known:
        _load(table)
    name, triggers, _backfill = _known[table]
    stored = dict(conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN (?, ?)",
        (name, _VIEW_TRIGGER)).fetchall())
    return triggers is not None and stored == triggers


def _load(table):
    name = f"report_rollup_{table}_insert"
    wanted = {}
    for trigger, script in ((name, _TRIGGERS), (_VIEW_TRIGGER, _VIEW_TRIGGERS)):
        for statement in migrations.frozen_statements(script):
            text = _as_stored(statement)
            if text.startswith(f"CREATE TRIGGER {trigger} "):
                wanted[trigger] = text
    backfill = [s.strip().rstrip(";") for s in migrations.frozen_statements(_BACKFILL)
                if s.lstrip().startswith("INSERT INTO report_rollup_")
                and f"FROM {table} WHERE true" in s]
    complete = len(wanted) == 2 and len(backfill) == 2  # one per rollup level
    _known[table] = (name, wanted if complete else None, backfill)


def _as_stored(statement):
    """A frozen CREATE statement as sqlite_master keeps it: without IF NOT EXISTS or ';'."""
    return statement.strip().rstrip(";").replace(" IF NOT EXISTS ", " ", 1)
