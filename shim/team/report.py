"""`llm-shim report --team`: the same report document, summed in PostgreSQL over every member.

The local report (shim/report) sums SQLite per UTC bucket and folds buckets into local periods
in Python. Here PostgreSQL sums `team_attempts` and `team_counters` per bucket and group with
the same measures, written for PostgreSQL below, and the same fold (`query.add_all`) and
document builder (`summary.build`) make the document, so the table, JSON, CSV and HTML are the
local ones. Integer measures make the team report exactly the sum of the members' reports:
SQLite's `round(x)` is `trunc(x + 0.5)` away from zero, reproduced here in float8 arithmetic
(PostgreSQL's own `round(float8)` breaks ties to even).

The row-only keys of the local report work here too: `--source shim|import|all` and `--by
source` (an import row's invocation id says so, in both tables), `--by branch` (git_branch,
team schema m002) and `--by session` (with the sessions list, folded by shim/report/sessions).
"""

from shim.report import api, imported, query, summary
from shim.report import periods as periods_mod
from shim.report import sessions as sessions_mod
from shim.report.measures import COLUMNS, GROUP_KEYS, MEASURES, ROW_KEYS

SOURCES = ("team_attempts", "team_counters")


def _round(expr):
    return f"trunc(({expr}) + CASE WHEN ({expr}) < 0 THEN -0.5 ELSE 0.5 END)::bigint"


def _flag(condition):
    return f"(CASE WHEN {condition} THEN 1 ELSE 0 END)"


_RAN = "COALESCE({blocked}, 0) = 0"
_COMPARED = "({baseline_cost_usd} IS NOT NULL AND {cost_usd} IS NOT NULL AND " + _RAN + ")"

# The measures of shim/report/measures.py, in PostgreSQL (same names, same integers).
PG_MEASURES = {
    "attempts": "1",
    "invocations": _flag("{attempt} = 1"),
    "failures": _flag("COALESCE({exit_code}, 0) <> 0 AND " + _RAN),
    "blocked": _flag("COALESCE({blocked}, 0) <> 0"),
    "input_tokens": "COALESCE({input_tokens}, 0)",
    "output_tokens": "COALESCE({output_tokens}, 0)",
    "cache_read_tokens": "COALESCE({cache_read_tokens}, 0)",
    "cache_write_tokens": "COALESCE({cache_write_tokens}, 0)",
    "reasoning_tokens": "COALESCE({reasoning_tokens}, 0)",
    "cost_nusd": "COALESCE(" + _round("{cost_usd} * 1e9::float8") + ", 0)",
    "unknown_cost": _flag("{cost_usd} IS NULL AND " + _RAN),
    "unknown_tokens": _flag("{input_tokens} IS NULL AND {output_tokens} IS NULL AND "
                            "{cache_read_tokens} IS NULL AND {cache_write_tokens} IS NULL AND "
                            + _RAN),
    "latency_ms": "(CASE WHEN {duration_ms} IS NOT NULL AND " + _RAN + " THEN "
                  + _round("{duration_ms}") + " ELSE 0 END)",
    "latency_n": _flag("{duration_ms} IS NOT NULL AND " + _RAN),
    "baseline_attempts": _flag(_COMPARED),
    "baseline_nusd": "(CASE WHEN " + _COMPARED + " THEN "
                     + _round("{baseline_cost_usd} * 1e9::float8") + " ELSE 0 END)",
    "compared_nusd": "(CASE WHEN " + _COMPARED + " THEN "
                     + _round("{cost_usd} * 1e9::float8") + " ELSE 0 END)",
}
assert tuple(PG_MEASURES) == tuple(MEASURES), "keep PG_MEASURES in step with measures.MEASURES"


def expressions(available):
    cols = {c: (c if c in available else "NULL") for c in COLUMNS}
    return {name: sql.format(**cols) for name, sql in PG_MEASURES.items()}


def key_sql(key, available):
    """A group or filter key in PostgreSQL: a column, a ROW_KEYS expression (`%` doubled: the
    statement has parameters), or NULL::text when the table lacks the column."""
    if key in ROW_KEYS:
        column = ROW_KEYS[key]
        if not column.isidentifier():
            return column.replace("%", "%%")
        key = column
    return key if key in available else "NULL::text"


def _filter_sql(filters, available):
    """(WHERE clauses, params) for report filters {key: [values]}: shim.report.query.filter_sql
    in PostgreSQL's words."""
    clauses, params = [], []
    for key in sorted(filters):
        clauses.append(f"{key_sql(key, available)} = ANY(%s)")
        params.append(list(filters[key]))
    return clauses, params


def _statement(table, available, seconds, team, lo, hi, group_by, filters):
    measures = expressions(available)
    sums = ", ".join(f"SUM({measures[m]})::bigint" for m in query.MEASURE_NAMES)
    keys = "".join(f", {key_sql(k, available)}" for k in group_by)
    clauses, values = _filter_sql(filters, available)
    where = ["team = %s", "started_at >= %s", "started_at < %s", *clauses]
    params = [team, lo, hi, *values]
    group = ", ".join(str(i) for i in range(1, len(group_by) + 2))
    sql = (f"SELECT trunc(started_at / {int(seconds)})::bigint{keys}, {sums} FROM {table} "
           f"WHERE {' AND '.join(where)} GROUP BY {group}")
    return sql, params


def collect(pgc, team, periods, group_by=(), filters=None):
    """Like shim.report.query.collect, over the team store: {(period index, keys): sums}."""
    from shim.team import schema

    sums = {}
    if not periods:
        return sums
    filters = {k: list(v) for k, v in (filters or {}).items() if v}
    for key in (*group_by, *filters):
        if key not in GROUP_KEYS:  # names go into the SQL text: only known columns
            raise ValueError(key)
    seconds = periods_mod.bucket_seconds(periods) or 1
    locate = query.locator(periods)
    lo, hi = periods[0]["start"], periods[-1]["end"]
    for table in SOURCES:
        available = set(schema.columns(pgc, table))
        if any(key_sql(k, available) == "NULL::text" for k in filters):
            continue  # this table cannot match the filter (counters have no project)
        sql, params = _statement(table, available, seconds, team, lo, hi, tuple(group_by),
                                 filters)
        query.add_all(sums, locate, seconds, pgc.execute(sql, params))
    return sums


def sessions(pgc, team, periods, filters=None):
    """`--by session`'s list from the team store: shim.report.sessions' sums in PostgreSQL,
    folded by the same code."""
    from shim.team import schema

    available = set(schema.columns(pgc, "team_attempts"))
    if not periods or "session_id" not in available:
        return []
    clauses, values = _filter_sql({k: v for k, v in (filters or {}).items() if v}, available)
    where = ["team = %s", "session_id IS NOT NULL", "started_at >= %s", "started_at < %s",
             *clauses]
    params = [team, periods[0]["start"], periods[-1]["end"], *values]
    clause = " AND ".join(where)
    per_model = pgc.execute(
        "SELECT session_id, model, MIN(tool), MIN(project), MIN(started_at), "
        "MAX(COALESCE(ended_at, started_at)), SUM(cost_usd), "
        "SUM(CASE WHEN cost_usd IS NULL THEN 1 ELSE 0 END)::bigint, "
        "SUM(COALESCE(input_tokens, 0))::bigint, SUM(COALESCE(output_tokens, 0))::bigint "
        f"FROM team_attempts WHERE {clause} GROUP BY session_id, model", params).fetchall()
    prompts = pgc.execute(
        f"SELECT session_id, prompt_chars FROM team_attempts WHERE {clause} "
        "AND prompt_chars IS NOT NULL ORDER BY started_at DESC", params).fetchall()
    return sessions_mod.fold(per_model, prompts)


def has_rows(pgc, team):
    return any(pgc.execute(f"SELECT 1 FROM {t} WHERE team = %s LIMIT 1", (team,)).fetchone()
               for t in SOURCES)


def compute(pgc, team, *, granularity="day", since=None, until=None, group_by=(),
            filters=None, timezone=None, week_starts=None, now=None):
    """(document, periods, filters) of the team report; the shape of shim.report.api.compute."""
    configured_zone, configured_week, aliases = api.settings()
    zone_text = timezone or configured_zone
    zone = periods_mod.resolve_zone(zone_text)
    week_starts = week_starts or configured_week
    periods = api.select_periods(granularity, since, until, zone, week_starts, now)
    filters = {k: list(v) for k, v in (filters or {}).items() if v and k in api.FILTER_KEYS}
    query_filters = dict(filters)
    if "model" in query_filters:
        query_filters["model"] = api.expand_models(query_filters["model"], aliases)
    sums = collect(pgc, team, periods, group_by, query_filters)
    doc = summary.build(
        periods, sums, group_by=group_by, granularity=granularity, zone=zone,
        zone_name=periods_mod.zone_name(zone) if zone_text == "local" else zone_text,
        week_starts=week_starts, filters=filters, source="rows")
    imported.annotate(doc, imported_cells(pgc, team, periods, group_by, query_filters),
                      group_by)
    return doc, periods, query_filters


def imported_cells(pgc, team, periods, group_by, filters):
    """shim.report.imported.cells over the team store: import rows and their messages."""
    from shim.team import schema

    available = set(schema.columns(pgc, "team_attempts"))
    if not periods or "entry_count" not in available:
        return {}
    seconds = periods_mod.bucket_seconds(periods) or 1
    keys = "".join(f", {key_sql(k, available)}" for k in group_by)
    # LIKE, not a key range: a PostgreSQL collation may order punctuation its own way
    clauses, values = _filter_sql(filters, available)
    where = ["team = %s", "invocation_id LIKE %s", "started_at >= %s", "started_at < %s",
             *clauses]
    params = [team, imported.LOW + "%", periods[0]["start"], periods[-1]["end"], *values]
    group = ", ".join(str(i) for i in range(1, len(group_by) + 2))
    sql = (f"SELECT trunc(started_at / {int(seconds)})::bigint{keys}, count(*)::bigint, "
           f"SUM(COALESCE(entry_count, 0))::bigint FROM team_attempts "
           f"WHERE {' AND '.join(where)} GROUP BY {group}")
    return imported.fold(periods, seconds, pgc.execute(sql, params))


def breakdown(pgc, team, periods, key, filters):
    return summary.breakdown(collect(pgc, team, periods, [key], filters), [key])


def team_report(settings, cfg=None, *, granularity, since, until, group_by, filters, timezone,
                with_charts):
    """(doc, by_model, by_agent, store_empty) for the CLI: this machine's new rows are
    pushed first (so the report includes the call made a moment ago), then the store read."""
    from shim import errors
    from shim.team import pg, sync

    pg.psycopg()  # one clear error when the [team] extra is missing
    try:
        sync.sync(settings, cfg)
    except pg.Unreachable:
        raise
    except errors.ShimError as exc:
        errors.warn("team", exc.why, "this machine's newest rows may be missing from the report")
    conn = pg.connect(settings)
    try:
        doc, periods, query_filters = compute(
            conn, settings["name"], granularity=granularity, since=since, until=until,
            group_by=group_by, filters=filters, timezone=timezone)
        by_model = by_agent = ()
        if with_charts and doc["rows"]:
            by_model = breakdown(conn, settings["name"], periods, "model", query_filters)
            by_agent = breakdown(conn, settings["name"], periods, "agent", query_filters)
        empty = not doc["rows"] and not has_rows(conn, settings["name"])
        if "session" in group_by:
            doc["sessions"] = sessions(conn, settings["name"], periods, query_filters)
    except pg.psycopg().Error as exc:
        raise pg.classify(exc, settings) from None
    finally:
        conn.close()
    return doc, by_model, by_agent, empty
