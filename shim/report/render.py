"""The terminal forms of a report document: an aligned table and a unicode bar chart.

Tokens follow the one token model of docs/telemetry.md: input (fresh), cache read, cache
write and output, each its own column. A cost with unpriced attempts behind it is a lower
bound and printed as `≥ 1.23*`; a period the range cuts short is labelled `2026-09*`; both
are explained in footnotes under the table.
"""

from shim.report import fit
from shim.report.measures import GROUP_KEYS as KEYS

BLOCKS = " ▏▎▍▌▋▊▉█"  # 0..8 eighths of a character cell
COLUMNS = (  # (header, field, formatter name); "calls" are invocations
    ("calls", "invocations", "count"),
    ("attempts", "attempts", "count"),
    ("failed", "failures", "count"),
    ("blocked", "blocked", "count"),
    ("input", "input_tokens", "tokens"),
    ("cache rd", "cache_read_tokens", "tokens"),
    ("cache wr", "cache_write_tokens", "tokens"),
    ("output", "output_tokens", "tokens"),
    ("reasoning", "reasoning_tokens", "tokens"),
    ("no tokens", "unknown_token_attempts", "count"),
    ("cost $", "cost_usd", "cost"),
    ("unpriced", "unpriced_attempts", "count"),
    ("latency", "mean_latency_ms", "latency"),
    ("saved $", "savings_usd", "money"),
    ("saved %", "savings_pct", "percent"),
)
# Which columns a narrow terminal loses first (docs/report.md, "Fitting the terminal").
DROP_ORDER = ("reasoning", "no tokens", "latency", "attempts", "blocked", "saved %", "failed", "unpriced", "saved $",
              "calls", "cache wr", "cache rd")
SHRINK = {"model": 12, "agent": 8, "project": 12, "provider": 8, "tool": 6}  # then cut these
NOUN = {"hour": "hourly", "day": "daily", "week": "weekly", "month": "monthly"}
LOWER_BOUND = "≥ "  # before a cost that leaves unpriced attempts out
MARK = "*"


def count(value):
    return f"{value:,}"


def tokens(value):
    """Compact: 950, 12.3k, 4.56M, 1.2G."""
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            scaled = value / size
            digits = 2 if abs(scaled) < 10 else 1 if abs(scaled) < 100 else 0
            return f"{scaled:.{digits}f}{suffix}"
    return str(value)


def money(value):
    if value and abs(value) < 0.005:
        return "<0.01" if value > 0 else ">-0.01"
    return f"{value:,.2f}"


def money_precise(value):
    """Enough decimals for a small amount to show (0.0042, 0.000031), at most 6: the HTML
    page and dashboard, where `<0.01` everywhere would say nothing."""
    if not value:
        return "0.00"
    digits = 2
    while digits < 6 and abs(value) < 10 ** (1 - digits):
        digits += 1
    return f"{value:,.{digits}f}"


def cost(measures, amount=money):
    """The cost of a row or total: `≥ 1.23*` when unpriced attempts are left out of it."""
    text = amount(measures["cost_usd"])
    return f"{LOWER_BOUND}{text}{MARK}" if measures.get("unpriced_attempts") else text


def latency(value):
    if value is None:
        return "-"
    if value < 1000:
        return f"{value:.0f}ms"
    if value < 60_000:
        return f"{value / 1000:.1f}s"
    return f"{value / 60_000:.1f}min"


def percent(value):
    return "-" if value is None else f"{value:.1f}%"


FORMATTERS = {"count": count, "tokens": tokens, "money": money, "latency": latency,
              "percent": percent}


def token_sum(measures, field):
    """A token sum: `≥ 12.3k*` when attempts without token counts are left out of it."""
    text = tokens(measures[field])
    return f"{LOWER_BOUND}{text}{MARK}" if measures.get("unknown_token_attempts") else text


def cells(measures, columns=COLUMNS, amount=money):
    return [cost(measures, amount) if kind == "cost" else token_sum(measures, field)
            if kind == "tokens" else import_aware(measures, field)
            or FORMATTERS[kind](measures[field])
            for _, field, kind in columns]


IMPORTED = "imp"  # after a count of messages imported from the tools' own logs


def import_aware(measures, field):
    """The cell of a count or saving that imported rows would misstate, else None: calls
    add the imported messages (`12 + 340 imp`), attempts leave the import rows (quarter-hour
    sums, not calls) out, and savings are `-` where only imported usage is behind the cell."""
    from shim.report import imported

    if not measures.get("imported_rows"):
        return None
    if field == "invocations":
        messages = f"{measures['imported_messages']:,} {IMPORTED}"
        return f"{measures['invocations']:,} + {messages}" if measures["invocations"] else messages
    if field == "attempts":
        return count(imported.shim_attempts(measures))
    if field in ("savings_usd", "savings_pct") and imported.imported_only(measures):
        return "-"
    return None


def columns_for(doc):
    """The columns to show: `unpriced` only when some attempt has no price, `no tokens` only
    when some attempt has no token counts, `reasoning` only when some tool reported
    reasoning tokens."""
    totals = doc["totals"]
    hidden = {field for field in ("unpriced_attempts", "reasoning_tokens",
                                  "unknown_token_attempts") if not totals.get(field)}
    return tuple(c for c in COLUMNS if c[1] not in hidden)


def period_label(period):
    """A row's period, marked when the range cuts it short."""
    return period["period"] + (MARK if period.get("clipped") else "")


def title(doc):
    text = (f"{NOUN[doc['granularity']]} report {doc['since']} .. {doc['until']} "
            f"({doc['timezone']})")
    if doc["group_by"]:
        text += f" by {', '.join(doc['group_by'])}"
    filters = "; ".join(f"{k} = {', '.join(v)}" for k, v in doc["filters"].items())
    return text + (f"; {filters}" if filters else "")


def table(doc, width=None, why=None):
    """The aligned table with a totals row, plus notes on what the numbers leave out.

    `width` (terminal columns, None = no limit) drops columns in DROP_ORDER until it fits.
    """
    from tabulate import SEPARATING_LINE

    keys = [k for k in doc["group_by"] if k in KEYS]
    columns = columns_for(doc)
    headers = ["period", *keys, *(h for h, _, _ in columns)]
    body = [[period_label(row), *(key_text(row.get(k)) for k in keys), *cells(row, columns)]
            for row in doc["rows"]]
    body.append(SEPARATING_LINE)
    body.append(["total", *("" for _ in keys), *cells(doc["totals"], columns)])
    align = ["left"] * (1 + len(keys)) + ["right"] * len(columns)
    text, dropped = fit.render(headers, body, align, width=width, drop_order=DROP_ORDER,
                               shrink=SHRINK)
    lines = notes(doc, why)
    if dropped:
        lines.append(f"(not shown to fit {width} columns: {', '.join(dropped)}; --wide shows "
                     "every column)")
    return title(doc) + "\n\n" + text + "\n" + fit.wrap(lines, width)


def key_text(value):
    return "(none)" if value is None else value


def notes(doc, why=None):
    """Footnotes for the marks and for what the sums leave out. `why` ({model: "no price" |
    "priced now" | "no token counts"}, report/unpriced.py) words why each model's cost is
    unknown; without it the models are named as having no known cost."""
    totals = doc["totals"]
    out = []
    if totals["unpriced_attempts"]:
        groups = {}
        for model in totals.get("unpriced_models") or ():
            kind = (why or {}).get(model, "no known cost")
            groups.setdefault(WHY_TEXT.get(kind, kind), []).append(key_text(model))
        named = "; ".join(f"{kind}: {', '.join(models)}" for kind, models in groups.items())
        out.append(f"{MARK} lower bound: {totals['unpriced_attempts']:,} attempts have no known "
                   f"cost and are not in it" + (f" ({named})" if named else "")
                   + "; `llm-shim doctor` says how to price them")
    if totals.get("unknown_token_attempts"):
        out.append(f"{MARK} token sums marked {LOWER_BOUND}n{MARK} are lower bounds: "
                   f"{totals['unknown_token_attempts']:,} attempts have no token counts (the "
                   "tool reported none, e.g. text mode without harvested usage) and are not in "
                   "them")
    for period in doc["periods"]:
        if period.get("clipped"):
            out.append(f"{period['period']}{MARK} counted {clip_text(period)} only (the range "
                       "cuts the period short)")
    if totals.get("imported_rows"):
        out.append(f"{IMPORTED}: {totals['imported_messages']:,} messages imported from the "
                   "tools' own logs (`llm-shim import`), not calls through a shim: they are "
                   "not in attempts, and no saving is claimed for them (saved: -)")
    priced = (totals["attempts"] - totals.get("imported_rows", 0) - totals["blocked"]
              - totals["unknown_cost_attempts"])
    if totals["baseline_attempts"] < priced:
        out.append(f"note: savings are measured on the {totals['baseline_attempts']:,} of "
                   f"{priced:,} priced attempts that have a baseline cost")
    return out


WHY_TEXT = {"priced now": "priced now, not re-priced yet"}


def clip_text(period):
    """'from 2026-09-05 to 2026-09-30': the days of a clipped period that were counted."""
    return f"from {period['first_day']} to {period['last_day']}"


def bar_chart(doc, width=40, field="cost_usd"):
    """One line per period: label, a bar in eighth-blocks, the amount. Periods before the
    first one with a call are left out (one day of data is one line, not 30)."""
    series = doc["periods"]
    first = next((i for i, p in enumerate(series) if p.get("attempts") or p[field]), None)
    if first is None:
        return ""
    skipped, series = first, series[first:]
    largest = max((p[field] for p in series), default=0) or 1
    label_width = max(len(p["period"]) for p in series)
    lines = [f"{NOUN[doc['granularity']]} spend, USD"]
    for p in series:
        eighths = round(max(p[field], 0) / largest * width * 8)
        full, part = divmod(eighths, 8)
        bar = BLOCKS[8] * full + (BLOCKS[part] if part else "")
        amount = cost(p).replace(" ", "") if field == "cost_usd" else money(p[field])
        lines.append(f"{p['period']:<{label_width}} {bar:<{width}} {amount:>10}")
    if skipped:
        lines.append(f"({skipped} earlier {UNIT[doc['granularity']]}s without calls not shown)")
    return "\n".join(lines) + "\n"


UNIT = {"hour": "hour", "day": "day", "week": "week", "month": "month"}


def empty_message(doc, database_empty):
    if database_empty:
        return ("no invocations recorded yet: calls made through the shims (claude, codex, llm) "
                "are recorded as they run; install them with `llm-shim install`, make a call, "
                "then run `llm-shim report` again")
    scope = f"between {doc['since']} and {doc['until']} ({doc['timezone']})"
    filters = " and ".join(f"--{k} {','.join(v)}" for k, v in doc["filters"].items())
    hint = "try a longer range, e.g. --since 90d" + (", or other filters" if filters else "")
    return (f"no invocations recorded {scope}" + (f" matching {filters}" if filters else "")
            + f"; {hint}")
