"""Models whose calls have tokens but no price: named under the report with a way to price
them, so an unknown cost is never silently read as $0."""

from shim.report import query
from shim.report.measures import KEYS

HINT = ("run `llm-shim prices update`, or give the model `prices:` under `models:` in the "
        "config (docs/telemetry.md)")


def models(conn, periods, filters=None):
    """[(model or None, attempts)] over `periods`: attempts that ran and have tokens but no
    cost, most first. `filters` as for query.collect."""
    if not periods:
        return []
    counts = {}
    for table, columns in query.tables(conn).items():
        available = set(columns)
        if not {"cost_usd", "model", "started_at"} <= available:
            continue
        sql = (f"SELECT model, COUNT(*) FROM {table} WHERE started_at >= ? AND started_at < ? "
               "AND cost_usd IS NULL AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL)")
        if "blocked" in available:
            sql += " AND IFNULL(blocked, 0) = 0"
        params = [periods[0]["start"], periods[-1]["end"]]
        usable = True
        for key, values in (filters or {}).items():
            if not values:
                continue
            if key not in KEYS or key not in available:  # names go into the SQL text
                usable = False
                break
            sql += f" AND {key} IN ({', '.join('?' for _ in values)})"
            params.extend(values)
        if not usable:
            continue
        for model, n in conn.execute(sql + " GROUP BY model", params):
            counts[model] = counts.get(model, 0) + n
    return sorted(counts.items(), key=lambda item: (-item[1], item[0] or ""))


def note(found):
    """The footnote line naming them, or None."""
    if not found:
        return None
    named = ", ".join(f"{model or '(no model)'} ({n:,} attempt{'s' if n != 1 else ''})"
                      for model, n in found)
    return f"note: no price for {named}: their cost is unknown, not $0; {HINT}"
