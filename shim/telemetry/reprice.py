"""Re-pricing recorded attempts: a row whose cost was unknown (no price for its model when it
was recorded) but whose tokens are known gets its cost once a price exists.

Costs are computed when a row is recorded (prices.price_record); without this, a price added
later (`prices update`, `prices import`, `models.<id>.prices` in the config) would never
reach the rows recorded before it, and `report` would keep showing them as unpriced. The rows
are updated in one transaction; the rollup triggers (shim/report/rollup.py) move their cost
into the report's sums. Counters rows (`privacy: off`) are re-priced the same way.
"""

from shim.telemetry import prices

TOKEN_COLUMNS = tuple(prices.TOKENS[k] for k in prices.KINDS)
# The rows that can be re-priced: unknown cost, not blocked, some token count known.
WHERE = ("cost_usd IS NULL AND IFNULL(cost_source, 'unknown') = 'unknown' "
         "AND IFNULL(blocked, 0) = 0 AND ("
         + " OR ".join(f"{c} IS NOT NULL" for c in TOKEN_COLUMNS) + ")")


def _columns(conn, table):
    return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def reprice(conn, table):
    """Price every re-priceable row that `table` (prices.load_table) now prices. Returns
    {"priced": n, "unpriced": {model: rows still without a price}}."""
    from shim.telemetry import store

    priced, still = 0, {}
    with store.transaction(conn):
        for source in ("attempts", "counters"):
            available = set(_columns(conn, source))
            if not {"cost_usd", "cost_source", "model", *TOKEN_COLUMNS} <= available:
                continue
            extra = [c for c in ("baseline_model",) if c in available]
            rows = conn.execute(
                f"SELECT rowid, model, {', '.join(TOKEN_COLUMNS + tuple(extra))} FROM {source} "
                f"WHERE {WHERE}").fetchall()
            for rowid, model, *values in rows:
                rec = {"model": model, **dict(zip(TOKEN_COLUMNS + tuple(extra), values))}
                parts = [{c: rec[c] for c in TOKEN_COLUMNS}]
                prices.price_record(rec, parts, table)
                if rec["cost_usd"] is None:
                    still[model] = still.get(model, 0) + 1
                    continue
                sets = {"cost_usd": rec["cost_usd"], "cost_source": rec["cost_source"]}
                for column in ("computed_cost_usd", "price_version", "baseline_cost_usd"):
                    if column in available and column in rec:
                        sets[column] = rec[column]
                conn.execute(f"UPDATE {source} SET {', '.join(f'{c} = ?' for c in sets)} "
                             "WHERE rowid = ?", [*sets.values(), rowid])
                priced += 1
    return {"priced": priced, "unpriced": still}
