"""The terminal forms of a report document: an aligned table and a unicode bar chart."""

from shim.report.measures import GROUP_KEYS as KEYS

BLOCKS = " ▏▎▍▌▋▊▉█"  # 0..8 eighths of a character cell
COLUMNS = (  # (header, field, formatter name); "calls" are invocations
    ("calls", "invocations", "count"),
    ("attempts", "attempts", "count"),
    ("failed", "failures", "count"),
    ("blocked", "blocked", "count"),
    ("in tok", "input_tokens", "tokens"),
    ("out tok", "output_tokens", "tokens"),
    ("cache tok", "cache_tokens", "tokens"),
    ("cost $", "cost_usd", "money"),
    ("latency", "mean_latency_ms", "latency"),
    ("saved $", "savings_usd", "money"),
    ("saved %", "savings_pct", "percent"),
)
NOUN = {"day": "daily", "week": "weekly", "month": "monthly"}


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


def cells(measures):
    values = dict(measures)
    values["cache_tokens"] = values["cache_read_tokens"] + values["cache_write_tokens"]
    return [FORMATTERS[kind](values[field]) for _, field, kind in COLUMNS]


def title(doc):
    text = (f"{NOUN[doc['granularity']]} report {doc['since']} .. {doc['until']} "
            f"({doc['timezone']})")
    if doc["group_by"]:
        text += f" by {', '.join(doc['group_by'])}"
    filters = "; ".join(f"{k} = {', '.join(v)}" for k, v in doc["filters"].items())
    return text + (f"; {filters}" if filters else "")


def table(doc):
    """The aligned table with a totals row, plus notes on what the numbers leave out."""
    from tabulate import SEPARATING_LINE, tabulate

    keys = [k for k in doc["group_by"] if k in KEYS]
    headers = ["period", *keys, *(h for h, _, _ in COLUMNS)]
    body = [[row["period"], *(key_text(row.get(k)) for k in keys), *cells(row)]
            for row in doc["rows"]]
    body.append(SEPARATING_LINE)
    body.append(["total", *("" for _ in keys), *cells(doc["totals"])])
    align = ["left"] * (1 + len(keys)) + ["right"] * len(COLUMNS)
    text = tabulate(body, headers=headers, tablefmt="simple", colalign=align,
                    disable_numparse=True)
    return title(doc) + "\n\n" + text + "\n" + "".join(f"{n}\n" for n in notes(doc))


def key_text(value):
    return "(none)" if value is None else value


def notes(doc):
    totals = doc["totals"]
    out = []
    if totals["unknown_cost_attempts"]:
        out.append(f"note: {totals['unknown_cost_attempts']:,} attempts have no known cost "
                   "and count as $0")
    priced = totals["attempts"] - totals["blocked"] - totals["unknown_cost_attempts"]
    if totals["baseline_attempts"] < priced:
        out.append(f"note: savings are measured on the {totals['baseline_attempts']:,} of "
                   f"{priced:,} priced attempts that have a baseline cost")
    return out


def bar_chart(doc, width=40, field="cost_usd"):
    """One line per period: label, a bar in eighth-blocks, the amount."""
    series = doc["periods"]
    if not series:
        return ""
    largest = max((p[field] for p in series), default=0) or 1
    label_width = max(len(p["period"]) for p in series)
    lines = [f"{NOUN[doc['granularity']]} spend, USD"]
    for p in series:
        eighths = round(max(p[field], 0) / largest * width * 8)
        full, part = divmod(eighths, 8)
        bar = BLOCKS[8] * full + (BLOCKS[part] if part else "")
        lines.append(f"{p['period']:<{label_width}} {bar:<{width}} {money(p[field]):>10}")
    return "\n".join(lines) + "\n"


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
