"""What of a report came from `llm-shim import` rather than through a shim.

An import row sums one session's messages per quarter hour (docs/telemetry.md, "Import"): as
an "attempt" it counts a bucket, not a call, and it has no baseline, so no saving can be
measured on it. The report adds per row, period and total `imported_rows` (those rows) and
`imported_messages` (the messages they hold, `entry_count`), so the table can show imported
messages as such, shim attempts without the buckets, and `-` for savings where only imported
usage is behind a cell. One extra query over the import rows alone: they sort together in
the primary key (`import:` invocation ids), so a shim-only store reads nothing more.
"""

from shim.report import periods as periods_mod
from shim.report import query
from shim.report.measures import bucket_expression

LOW, HIGH = "import:", "import;"  # ';' follows ':' in ASCII: the key range of import ids


def cells(conn, periods, group_by, filters):
    """{(period index, keys): [import rows, messages]} over `periods`, grouped and filtered
    as the report is."""
    if not periods:
        return {}
    available = set(query.tables(conn).get("attempts", ()))
    if "entry_count" not in available:
        return {}
    seconds = periods_mod.bucket_seconds(periods) or 1
    keys = "".join(f", {query.group_column(k, available)}" for k in group_by)
    where, params = query.filter_sql(filters)
    group = ", ".join(str(i) for i in range(1, len(group_by) + 2))
    sql = (f"SELECT {bucket_expression('', seconds)}{keys}, COUNT(*), "
           "SUM(IFNULL(entry_count, 0)) FROM attempts WHERE "
           + " AND ".join(["invocation_id >= ?", "invocation_id < ?", "started_at >= ?",
                           "started_at < ?"] + where)
           + f" GROUP BY {group}")
    return fold(periods, seconds,
                conn.execute(sql, [LOW, HIGH, periods[0]["start"], periods[-1]["end"], *params]))


def fold(periods, seconds, rows):
    """{(period index, keys): [import rows, messages]} from (bucket, *keys, rows, messages)
    rows (the local store's or the team store's)."""
    out = {}
    locate = query.locator(periods)
    for row in rows:
        index = locate(row[0] * seconds)
        if index < 0:
            continue
        cell_keys = tuple(k if k != "" else None for k in row[1:-2])
        cell = out.setdefault((index, cell_keys), [0, 0])
        cell[0] += row[-2] or 0
        cell[1] += row[-1] or 0
    return out


def annotate(doc, found, group_by):
    """Add imported_rows and imported_messages to every row, period and the totals of `doc`
    (from summary.build over the same cells)."""
    index_of = {p["period"]: i for i, p in enumerate(doc["periods"])}
    for row in doc["rows"]:
        _mark(row, found.get((index_of.get(row["period"]), tuple(row.get(k) for k in group_by)),
                             (0, 0)))
    per_period = _folded(found, lambda cell: cell[0])
    for index, period in enumerate(doc["periods"]):
        _mark(period, per_period.get(index, (0, 0)))
    _mark(doc["totals"], (sum(p[0] for p in per_period.values()),
                          sum(p[1] for p in per_period.values())))
    return doc


def annotate_breakdown(by_key, per_period, periods, found):
    """Add imported_rows and imported_messages to the measures of api.models' two breakdowns
    (over the range, and per period) from `found` (cells() grouped the same way), so their
    calls and savings cells read as the table's do."""
    over_range = _folded(found, lambda cell: cell[1])
    for keys, measures in by_key:
        _mark(measures, over_range.get(keys, (0, 0)))
    index_of = {p["period"]: i for i, p in enumerate(periods)}
    for label, _clipped, items in per_period:
        for keys, measures in items:
            _mark(measures, found.get((index_of.get(label), keys), (0, 0)))


def _folded(found, part):
    """{part(cell): [import rows, messages]} of `found` summed over what `part` drops."""
    out = {}
    for cell, (rows, messages) in found.items():
        sums = out.setdefault(part(cell), [0, 0])
        sums[0] += rows
        sums[1] += messages
    return out


def _mark(measures, counts):
    measures["imported_rows"], measures["imported_messages"] = counts


def shim_attempts(measures):
    """The attempts that went through a shim (the import rows taken out)."""
    return measures["attempts"] - measures.get("imported_rows", 0)


def imported_only(measures):
    """True when only imported usage is behind these measures: no saving can be measured."""
    return bool(measures.get("imported_rows")) and not shim_attempts(measures)
