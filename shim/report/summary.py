"""The report document: folded sums turned into rows, per-period series and totals.

This dict is what `--json` prints (schema in docs/report-schema.json, described in
docs/report.md); the table, CSV and HTML are all drawn from it, so every format agrees.
"""

import datetime as dt

from shim.report import query
from shim.report.measures import NANO

SCHEMA_VERSION = 1

# The measures of every row, period and total, in output order.
FIELDS = (
    "invocations", "attempts", "failures", "blocked",
    "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
    "reasoning_tokens", "unknown_token_attempts", "cost_usd", "unknown_cost_attempts",
    "unpriced_attempts", "mean_latency_ms",
    "baseline_attempts", "baseline_cost_usd", "savings_usd", "savings_pct",
)


def measures(vector):
    """Output measures from a vector of integer sums (query.MEASURE_NAMES order)."""
    m = dict(zip(query.MEASURE_NAMES, vector))
    baseline, compared = m["baseline_nusd"], m["compared_nusd"]
    return {
        "invocations": m["invocations"],
        "attempts": m["attempts"],
        "failures": m["failures"],
        "blocked": m["blocked"],
        "input_tokens": m["input_tokens"],
        "output_tokens": m["output_tokens"],
        "cache_read_tokens": m["cache_read_tokens"],
        "cache_write_tokens": m["cache_write_tokens"],
        "reasoning_tokens": m["reasoning_tokens"],
        # Attempts with no token counts: when not 0, every token sum is a lower bound.
        "unknown_token_attempts": m["unknown_tokens"],
        "cost_usd": usd(m["cost_nusd"]),
        "unknown_cost_attempts": m["unknown_cost"],
        # The same count under the name the token and cost model uses (docs/telemetry.md):
        # when it is not 0, cost_usd is a lower bound.
        "unpriced_attempts": m["unknown_cost"],
        "mean_latency_ms": round(m["latency_ms"] / m["latency_n"], 1) if m["latency_n"] else None,
        "baseline_attempts": m["baseline_attempts"],
        "baseline_cost_usd": usd(baseline),
        "savings_usd": usd(baseline - compared),
        "savings_pct": round(100.0 * (baseline - compared) / baseline, 2) if baseline else None,
    }


def usd(nano):
    return round(nano / NANO, 9)


def _iso(epoch, zone):
    return dt.datetime.fromtimestamp(epoch, zone).isoformat()


def _row_order(item):
    (index, keys), vector = item
    cost = vector[query.MEASURE_NAMES.index("cost_nusd")]
    return index, -cost, tuple((k is None, k or "") for k in keys)


def unpriced_models(unpriced, index=None, keys=None):
    """Sorted model names with unpriced attempts in one cell (index and keys given), one
    period (index only) or everywhere; `unpriced` is {(index, keys): {model: attempts}}."""
    found = set()
    for (i, k), models in unpriced.items():
        if (index is None or i == index) and (keys is None or k == keys):
            found.update(models)
    return sorted(found, key=lambda m: (m is None, m or ""))


def build(periods, sums, *, group_by, granularity, zone, zone_name, week_starts, filters,
          source, generated_at=None, unpriced=None):
    """The report document for `sums` (from `query.collect`) over `periods`.

    `unpriced` ({(period index, keys): {model: unpriced attempts}}) names the models behind
    the unpriced attempts of each cell (`api.unpriced`); empty when every attempt is priced.
    """
    group_by = list(group_by)
    unpriced = unpriced or {}
    rows = []
    for (index, keys), vector in sorted(sums.items(), key=_row_order):
        row = {"period": periods[index]["period"]}
        row.update(zip(group_by, keys))
        row.update(measures(vector))
        row["unpriced_models"] = unpriced_models(unpriced, index, keys)
        row["clipped"] = bool(periods[index].get("clipped"))
        rows.append(row)
    per_period = [[] for _ in periods]
    for (index, _), vector in sums.items():
        per_period[index].append(vector)
    series = []
    for p, vectors in zip(periods, per_period):
        entry = {"period": p["period"], "first_day": p["first"].isoformat(),
                 "last_day": p["last"].isoformat(), "start": _iso(p["start"], zone),
                 "end": _iso(p["end"], zone), "clipped": bool(p.get("clipped"))}
        entry.update(measures(query.total(vectors)))
        entry["unpriced_models"] = unpriced_models(unpriced, len(series))
        series.append(entry)
    generated_at = generated_at or dt.datetime.now(dt.timezone.utc)
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": generated_at.isoformat(timespec="seconds"),
        "timezone": zone_name,
        "granularity": granularity,
        "week_starts": week_starts,
        "since": periods[0]["first"].isoformat() if periods else None,
        "until": periods[-1]["last"].isoformat() if periods else None,
        "group_by": group_by,
        "filters": {k: sorted(v) for k, v in sorted((filters or {}).items()) if v},
        "currency": "USD",
        "source": source,
        "rows": rows,
        "periods": series,
        "totals": dict(measures(query.total(sums.values())),
                       unpriced_models=unpriced_models(unpriced)),
    }


def breakdown(sums, group_by):
    """[(key tuple, output measures)] summed over periods, most expensive first (for charts)."""
    folded = {}
    for (_, keys), vector in sums.items():
        folded.setdefault(keys, []).append(vector)
    out = [(keys, measures(query.total(vectors))) for keys, vectors in folded.items()]
    out.sort(key=lambda item: (-item[1]["cost_usd"], tuple(str(k) for k in item[0])))
    return out


def per_period(sums, periods):
    """[(period label, clipped, [(key tuple, measures)], dearest first)] for the periods with
    calls: the per-period breakdown (e.g. cost per model per month) of the HTML page."""
    cells = {}
    for (index, keys), vector in sums.items():
        cells.setdefault(index, []).append((keys, measures(vector)))
    out = []
    for index in sorted(cells):
        items = sorted(cells[index], key=lambda item: (-item[1]["cost_usd"],
                                                       tuple(str(k) for k in item[0])))
        out.append((periods[index]["period"], bool(periods[index].get("clipped")), items))
    return out
