"""Models whose calls have no known cost: named under the report, and by `llm-shim doctor`,
with the one fix that works, so an unknown cost is never silently read as $0.

A recorded row's cost is unknown for one of three reasons (`classify`): its model has no
price (add one: `prices update` or `models.<id>.prices`); its model is priced now but was not
when the row was recorded (`llm-shim prices reprice` prices it; `prices update` runs that by
itself); or the tool reported no token counts (text mode without harvested usage), so no price
can help. `report` and `doctor` both word it from here, so they cannot disagree.
"""

from shim.report import query
from shim.report.measures import KEYS

ADD_PRICE = ("add one: `llm-shim prices update` if LiteLLM's price data has it, else "
             "give it `prices:` under `models:` in the config (models.<id>.prices: {input, "
             "output, cache_read, cache_write} in USD per million tokens; "
             "docs/configuration.md)")
REPRICE = "run `llm-shim prices reprice`"
TOKENS_KNOWN = ("(input_tokens IS NOT NULL OR output_tokens IS NOT NULL "
                "OR cache_read_tokens IS NOT NULL OR cache_write_tokens IS NOT NULL)")


def classify(found, table):
    """{"no price": [(model, n)], "priced now": [(model, n)], "no token counts": [(model, n)]}
    from `found` [(model, attempts with tokens, attempts without)] and a price table
    (prices.load_table): what each model's unpriced attempts need."""
    from shim.telemetry import prices

    out = {"no price": [], "priced now": [], "no token counts": []}
    for model, with_tokens, without in found:
        if not model or prices.lookup(table, model) is None:
            out["no price"].append((model, with_tokens + without))
            continue
        if with_tokens:
            out["priced now"].append((model, with_tokens))
        if without:
            out["no token counts"].append((model, without))
    return out


def attempts_text(pairs):
    return ", ".join(f"{model or '(no model)'} ({n:,} attempt{'s' if n != 1 else ''})"
                     for model, n in pairs)


def models(conn, periods, filters=None):
    """[(model or None, attempts with token counts, attempts without)] over `periods`:
    attempts that ran with no known cost, most first. `filters` as for query.collect."""
    if not periods:
        return []
    counts = {}
    for table, columns in query.tables(conn).items():
        available = set(columns)
        if not {"cost_usd", "model", "started_at"} <= available:
            continue
        known = TOKENS_KNOWN if {"cache_read_tokens", "cache_write_tokens"} <= available \
            else "(input_tokens IS NOT NULL OR output_tokens IS NOT NULL)"
        sql = (f"SELECT model, SUM({known}), SUM(NOT {known}) FROM {table} "
               "WHERE started_at >= ? AND started_at < ? AND cost_usd IS NULL")
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
        for model, with_tokens, without in conn.execute(sql + " GROUP BY model", params):
            old = counts.get(model, (0, 0))
            counts[model] = (old[0] + with_tokens, old[1] + without)
    return sorted(((m, a, b) for m, (a, b) in counts.items()),
                  key=lambda item: (-(item[1] + item[2]), item[0] or ""))


def notes(found, table):
    """The footnote lines under the report, one per reason (none when all is priced)."""
    kinds = classify(found, table)
    lines = []
    if kinds["no price"]:
        lines.append(f"note: no price for {attempts_text(kinds['no price'])}: their cost is "
                     f"unknown, not $0; {ADD_PRICE}")
    if kinds["priced now"]:
        lines.append(f"note: priced now, but recorded before their price: "
                     f"{attempts_text(kinds['priced now'])}; {REPRICE} to count them")
    if kinds["no token counts"]:
        lines.append(f"note: no token counts for {attempts_text(kinds['no token counts'])} "
                     "(the tool reported none): their cost stays unknown")
    return lines


def reasons(found, table):
    """{model: "no price" | "priced now" | "no token counts"} for the lower-bound footnote."""
    out = {}
    for kind, pairs in classify(found, table).items():
        for model, _ in pairs:
            out.setdefault(model, kind)
    return out
