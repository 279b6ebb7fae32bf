"""SQL aggregation: the store summed per local period and group key.

SQLite sums per UTC bucket (a quarter hour, or a UTC day where a whole one lies inside a
period) and group; Python adds each bucket into the period that holds it. Buckets never
straddle a period bound (`periods.bucket_seconds`), so the fold is exact across DST changes
and in half-hour zones. The rollup tables (`rollup`) answer when the schema has them; else the
`attempts` and `counters` rows are summed directly, with the same expressions (`measures`).
"""

import bisect

from shim.report import periods as periods_mod
from shim.report import rollup
from shim.report.measures import (GROUP_KEYS, MEASURES, ROW_KEYS, bucket_expression,
                                   expressions)

MEASURE_NAMES = tuple(MEASURES)


def tables(conn):
    """{table: [columns]} for the source tables present (attempts, counters)."""
    found = {}
    for table in rollup.SOURCES:
        columns = rollup.columns_of(conn, table)
        if columns:
            found[table] = columns
    return found


def has_rows(conn):
    """True when anything at all was ever recorded."""
    for table in tables(conn):
        if conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone():
            return True
    return False


def collect(conn, periods, group_by=(), filters=None, *, use_rollup=True):
    """Sum the store over `periods` (from `periods.build`).

    Returns (sums, source): sums maps (period index, key tuple) to the list of measure totals
    (MEASURE_NAMES order, integers), only for cells with at least one attempt; source names
    what was read ("rollup" or "rows").
    """
    sums = {}
    if not periods:
        return sums, "rows"
    locate = locator(periods)
    source, statements = _statements(conn, periods, group_by, filters, use_rollup)
    for _, seconds, sql, params in statements:
        add_all(sums, locate, seconds, conn.execute(sql, params))
    return sums, source


def explain(conn, periods, group_by=(), filters=None, *, use_rollup=True):
    """The EXPLAIN QUERY PLAN of each statement `collect` runs, as text lines."""
    source, statements = _statements(conn, periods, group_by, filters, use_rollup)
    lines = []
    for table, _, sql, params in statements:
        plan_rows = conn.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
        lines.append(f"{table}: " + "; ".join(r[-1] for r in plan_rows))
    return source, lines


def _statements(conn, periods, group_by, filters, use_rollup):
    """(source, [(table, bucket seconds, sql, params)])."""
    group_by = tuple(group_by)
    filters = {k: list(v) for k, v in (filters or {}).items() if v}
    for key in (*group_by, *filters):
        if key not in GROUP_KEYS:  # names go into the SQL text: only known columns
            raise ValueError(key)
    seconds = periods_mod.bucket_seconds(periods) or 1
    if any(k in ROW_KEYS for k in (*group_by, *filters)):
        use_rollup = False
    if use_rollup and seconds == rollup.LEVELS[0][1] and rollup.exists(conn):
        return "rollup", [(table, size, *_rollup_sql(table, lo, hi, group_by, filters))
                          for table, size, lo, hi in plan(periods)]
    lo, hi = periods[0]["start"], periods[-1]["end"]
    statements = []
    for table, columns in tables(conn).items():
        available = set(columns)
        if all(group_column(k, available) != "NULL" for k in filters):  # else it cannot match
            statements.append((table, seconds, *_raw_sql(table, available, seconds, lo, hi,
                                                  group_by, filters)))
    return "rows", statements


def plan(periods):
    """[(table, bucket seconds, first bucket, end bucket)]: whole UTC days inside a period come
    from the day rollup, the rest of the period from the quarter-hour one; adjacent ranges of
    the same table are merged."""
    (fine, fine_s), (coarse, coarse_s) = rollup.LEVELS
    pieces = []
    for p in periods:
        start, end = p["start"], p["end"]
        first_day, last_day = -(-start // coarse_s), end // coarse_s
        if first_day < last_day:
            pieces += [(fine, fine_s, start, first_day * coarse_s),
                       (coarse, coarse_s, first_day * coarse_s, last_day * coarse_s),
                       (fine, fine_s, last_day * coarse_s, end)]
        else:
            pieces.append((fine, fine_s, start, end))
    merged = []
    for table, size, lo, hi in pieces:
        if lo >= hi:
            continue
        if merged and merged[-1][0] == table and merged[-1][3] == lo:
            merged[-1] = (table, size, merged[-1][2], hi)
        else:
            merged.append((table, size, lo, hi))
    return [(table, size, lo // size, hi // size) for table, size, lo, hi in merged]


def group_column(key, available=None):
    """The SQL for a group or filter key (a column, or a ROW_KEYS expression)."""
    if key in ROW_KEYS:
        column = ROW_KEYS[key]
        plain = column.isidentifier()
        return column if not plain or available is None or column in available else "NULL"
    return key if available is None or key in available else "NULL"


def filter_sql(filters):
    """(WHERE clauses, params) for report filters {column key: [values]} (also sessions)."""
    clauses, params = [], []
    for key in sorted(filters):
        values = filters[key]
        clauses.append(f"{group_column(key)} IN ({', '.join('?' * len(values))})")
        params += values
    return clauses, params


def _rollup_sql(table, lo, hi, group_by, filters):
    sums = ", ".join(f"SUM({m})" for m in MEASURE_NAMES)
    where, params = filter_sql(filters)
    keys = "".join(f", {k}" for k in group_by)
    sql = (f"SELECT bucket{keys}, {sums} FROM {table} "
           f"WHERE {' AND '.join(['bucket >= ?', 'bucket < ?'] + where)} GROUP BY bucket{keys}")
    return sql, [lo, hi] + params


def _raw_sql(table, available, seconds, lo, hi, group_by, filters):
    measures = expressions(available)
    sums = ", ".join(f"SUM({measures[m]})" for m in MEASURE_NAMES)
    keys = "".join(f", {group_column(k, available)}" for k in group_by)
    where, params = filter_sql(filters)
    group = ", ".join(str(i) for i in range(1, len(group_by) + 2))
    sql = (f"SELECT {bucket_expression('', seconds)}{keys}, {sums} FROM {table} "
           f"WHERE {' AND '.join(['started_at >= ?', 'started_at < ?'] + where)} "
           f"GROUP BY {group}")
    return sql, [lo, hi] + params


def locator(periods):
    """instant -> period index (periods are contiguous and ordered)."""
    starts = [p["start"] for p in periods]
    end = periods[-1]["end"]
    cache = {}

    def locate(instant):
        index = cache.get(instant)
        if index is None:
            index = bisect.bisect_right(starts, instant) - 1
            if index < 0 or instant >= end:
                index = -1
            cache[instant] = index
        return index

    return locate


def add_all(sums, locate, seconds, rows):
    """Fold bucket rows (bucket, group..., measures) into `sums` per period (the team report
    folds PostgreSQL's rows with it too)."""
    width = len(MEASURE_NAMES)
    for row in rows:
        index = locate(row[0] * seconds)
        if index < 0:
            continue
        keys = tuple(k if k != "" else None for k in row[1:len(row) - width])
        cell = sums.get((index, keys))
        values = row[len(row) - width:]
        if cell is None:
            sums[(index, keys)] = [v or 0 for v in values]
        else:
            for i, v in enumerate(values):
                cell[i] += v or 0


def total(vectors):
    """The element-wise sum of measure lists."""
    out = [0] * len(MEASURE_NAMES)
    for vector in vectors:
        for i, v in enumerate(vector):
            out[i] += v
    return out
