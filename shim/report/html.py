"""`--html FILE`: one self-contained page with inline SVG charts (also the body of the
dashboard, shim/report/dashboard.py).

No script, no web font, no external stylesheet or image: the file opens offline and can be
mailed. The markup is well-formed XML (every element closed, text escaped) so tests and
tools can parse it. Each bar carries `data-label`/`data-value` (stacked segments also
`data-period`/`data-group`) and a <title> tooltip. Amounts have as many decimals as a small
amount needs (`render.money_precise`); a cost with unpriced attempts behind it is shown as a
lower bound, `≥ $1.23*`, in the cards, bars and tables.
"""

import math
from html import escape

from shim.report import render

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5em 2em; color: #222; }
h1 { font-size: 1.4em; margin-bottom: 0.2em; }
h2 { font-size: 1.1em; margin: 1.6em 0 0.4em; }
p.meta { color: #666; margin: 0.2em 0; }
.cards { display: flex; gap: 1em; flex-wrap: wrap; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 0.6em 1em; min-width: 9em; }
.card b { display: block; font-size: 1.3em; white-space: nowrap; }
.card.warn { border-color: #d4a43b; background: #fff8e6; }
svg.chart { display: block; width: 100%; height: auto; }
svg text { font: 12px system-ui, sans-serif; fill: #444; }
.grid { stroke: #e4e4e4; stroke-width: 1; }
.axis { stroke: #888; stroke-width: 1; }
.bar { fill: #3b6fd4; } .bar.neg { fill: #d4553b; } .bar.save { fill: #2f9e6e; }
.legend { display: flex; flex-wrap: wrap; gap: 0.3em 1.2em; margin: 0.3em 0; font-size: 12px; }
.legend span { white-space: nowrap; }
.legend i { display: inline-block; width: 0.9em; height: 0.9em; margin-right: 0.3em;
            vertical-align: -0.1em; border-radius: 2px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin-top: 0.5em; font-size: 12px; }
th, td { padding: 2px 10px; border-bottom: 1px solid #eee; white-space: nowrap; }
th { text-align: left; background: #f6f6f6; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: bold; border-top: 2px solid #999; }
tr.first td { border-top: 1px solid #bbb; }
.unpriced { color: #a0522d; }
"""
PALETTE = ("#3b6fd4", "#e0894a", "#2f9e6e", "#c94f7c", "#8a63d2", "#c9b03b", "#3bb3c9",
           "#7a7a7a", "#9c6b3b", "#5aa83b")
MAX_BARS = 12  # horizontal charts fold the rest into "other"
MAX_STACKS = len(PALETTE) - 1  # stacked charts: the dearest groups, the rest as "other"
OTHER = "other"


def _attrs(**attrs):
    """Attributes from keywords: class_ -> class, data_value -> data-value."""
    return "".join(f' {k.rstrip("_").replace("_", "-")}="{escape(str(v))}"'
                   for k, v in attrs.items())


def usd(value, unpriced=0):
    """`$0.0042`, or `≥ $1.23*` when unpriced attempts are left out of the amount."""
    text = "$" + render.money_precise(value)
    return f"{render.LOWER_BOUND}{text}{render.MARK}" if unpriced else text


def _svg_open(chart_id, caption, width, height):
    box = _attrs(id=chart_id, viewBox=f"0 0 {width} {height}", role="img", aria_label=caption,
                 preserveAspectRatio="xMinYMin meet")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart"{box}>\n'
            f"<title>{escape(caption)}</title>")


def _text(x, y, text, anchor=None, css=None):
    extra = (_attrs(text_anchor=anchor) if anchor else "") + (_attrs(class_=css) if css else "")
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{escape(text)}</text>'


def _rect(css, x, y, width, height, label, value, title, fill=None, **data):
    box = _attrs(class_=css, x=f"{x:.1f}", y=f"{y:.1f}", width=f"{width:.1f}",
                 height=f"{height:.1f}", data_label=label, data_value=f"{value:.9f}",
                 **({"style": f"fill:{fill}"} if fill else {}), **data)
    return f"<rect{box}><title>{escape(title)}</title></rect>"


def nice_ticks(low, high, count=5):
    """Round axis values covering [low, high] (0 always included): 0, 2.5, 5, 7.5, 10."""
    span = (high - low) or 1.0
    raw = span / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    ticks, value = [], first
    while value <= high + step * 1e-9 or len(ticks) < 2:
        ticks.append(round(value, 12))
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 12))
    return ticks


def _tick_text(value, step):
    """`$2`, `$0.50`, `$0.025`: whole dollars when the step is, else cents or finer."""
    if step >= 1 and float(step).is_integer():
        return f"${value:,.0f}"
    digits = 2
    while digits < 6 and abs(round(step * 10 ** digits) - step * 10 ** digits) > 1e-9:
        digits += 1
    return f"${value:,.{digits}f}"


def column_chart(chart_id, caption, series, colours=None, width=1200, height=300):
    """Vertical bars per period, stacked by group: `series` is [(period label, [(group,
    value)])]; negative values hang below the zero line. Gridlines at round values."""
    colours = colours or {}
    left, right, bottom, top = 78, 12, 34, 14
    plot_w, plot_h = width - left - right, height - bottom - top
    highs = [sum(v for _, v in parts if v > 0) for _, parts in series]
    lows = [sum(v for _, v in parts if v < 0) for _, parts in series]
    ticks = nice_ticks(min([0.0] + lows), max([0.0] + highs))
    low, high = ticks[0], ticks[-1]
    span = (high - low) or 1.0
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0

    def y_of(value):
        return top + plot_h * (high - value) / span

    parts_out = [_svg_open(chart_id, caption, width, height)]
    for tick in ticks:
        y = y_of(tick)
        line = _attrs(class_="axis" if tick == 0 else "grid", x1=left, x2=width - right,
                      y1=f"{y:.1f}", y2=f"{y:.1f}")
        parts_out.append(f"<line{line}/>")
        parts_out.append(_text(left - 6, y + 4, _tick_text(tick, step), "end"))
    slot = plot_w / max(len(series), 1)
    label_every = max(1, -(-len(series) // max(1, int(plot_w // 90))))
    for i, (label, parts) in enumerate(series):
        x = left + i * slot + slot * 0.12
        up = down = 0.0
        for group, value in parts:
            if not value and group:  # an empty stack segment; an empty period keeps its bar
                continue
            base = up if value > 0 else down
            y_top, y_bottom = y_of(base + value), y_of(base)
            y, h = min(y_top, y_bottom), abs(y_bottom - y_top)
            if value > 0:
                up += value
            else:
                down += value
            name = f"{label} {group}" if group else label
            css = "bar" if value >= 0 or group else "bar neg"
            parts_out.append(_rect(css, x, y, slot * 0.76, h, label, value,
                                   f"{name}: {usd(value)}", colours.get(group),
                                   data_period=label, data_group=group or ""))
        if i % label_every == 0:
            parts_out.append(_text(x + slot * 0.38, height - 12, label, "middle"))
    parts_out.append("</svg>")
    return "\n".join(parts_out)


def bar_list(chart_id, caption, items, width=1200):
    """Horizontal bars, one per (label, measures), largest first."""
    items = [(label, m["cost_usd"], m.get("unpriced_attempts", 0)) for label, m in items]
    if len(items) > MAX_BARS:
        rest = items[MAX_BARS - 1:]
        items = items[:MAX_BARS - 1] + [(OTHER, sum(v for _, v, _ in rest),
                                        sum(u for _, _, u in rest))]
    row_h, label_w, value_w = 24, 300, 200
    height = row_h * max(len(items), 1) + 8
    plot_w = width - label_w - value_w
    largest = max([v for _, v, _ in items if v > 0], default=0) or 1.0
    parts = [_svg_open(chart_id, caption, width, height)]
    for i, (label, value, unpriced) in enumerate(items):
        y = 4 + i * row_h
        shown = label if len(label) <= 44 else label[:43] + "…"
        bar_w = plot_w * max(value, 0) / largest
        parts.append(_text(label_w - 8, y + 16, shown, "end"))
        parts.append(_rect("bar", label_w, y + 3, bar_w, row_h - 6, label, value,
                           f"{label}: {usd(value, unpriced)}"))
        shown_value = usd(value, unpriced) + (f" ({unpriced:,} unpriced)" if unpriced else "")
        parts.append(_text(label_w + bar_w + 6, y + 16, shown_value,
                           css="unpriced" if unpriced else None))
    parts.append("</svg>")
    return "\n".join(parts)


def _card(name, value, css="card"):
    return f'<div class="{css}">{escape(name)}<b>{escape(value)}</b></div>'


def _cell(text, numeric=False, **data):
    css = _attrs(class_="n") if numeric else ""
    return f"<td{css}{_attrs(**data)}>{escape(text)}</td>"


def table(doc):
    """The report table; every measure cell carries data-field/data-value (tests, scripts)."""
    keys = doc["group_by"]
    columns = render.columns_for(doc)
    head = ["period", *keys]
    out = ['<div class="scroll"><table id="report-table">', "<thead><tr>"
           + "".join(f"<th>{escape(h)}</th>" for h in head)
           + "".join(f'<th class="n">{escape(h)}</th>' for h, _, _ in columns)
           + "</tr></thead>", "<tbody>"]

    def line(first, key_values, measures, css=""):
        cells = [_cell(first)] + [_cell(v) for v in key_values]
        texts = render.cells(measures, columns, render.money_precise)
        for (_, field, _), text in zip(columns, texts):
            value = measures.get(field)
            cells.append(_cell(text, True, data_field=field,
                               data_value="" if value is None else value))
        return f"<tr{_attrs(class_=css) if css else ''}>" + "".join(cells) + "</tr>"

    for row in doc["rows"]:
        out.append(line(render.period_label(row), [render.key_text(row.get(k)) for k in keys],
                        row))
    out.append(line("total", ["" for _ in keys], doc["totals"], "total"))
    out += ["</tbody>", "</table></div>"]
    return "\n".join(out)


BREAKDOWN_COLUMNS = (("calls", "invocations", "count"), ("input", "input_tokens", "tokens"),
                     ("cache rd", "cache_read_tokens", "tokens"),
                     ("cache wr", "cache_write_tokens", "tokens"),
                     ("output", "output_tokens", "tokens"), ("cost $", "cost_usd", "cost"))


def breakdown_table(per_period):
    """Cost per model within each period (ccusage's --breakdown)."""
    out = ['<div class="scroll"><table id="model-breakdown">', "<thead><tr><th>period</th>"
           "<th>model</th>" + "".join(f'<th class="n">{escape(h)}</th>'
                                     for h, _, _ in BREAKDOWN_COLUMNS) + "</tr></thead><tbody>"]
    for label, clipped, items in per_period:
        for i, (keys, measures) in enumerate(items):
            period = (label + (render.MARK if clipped else "")) if i == 0 else ""
            cells = [_cell(period), _cell(render.key_text(keys[0]))]
            for text, (_, field, _) in zip(render.cells(measures, BREAKDOWN_COLUMNS,
                                                        render.money_precise),
                                           BREAKDOWN_COLUMNS):
                cells.append(_cell(text, True, data_field=field, data_value=measures[field]))
            out.append(f"<tr{_attrs(class_='first') if i == 0 else ''}>" + "".join(cells)
                       + "</tr>")
    out.append("</tbody></table></div>")
    return "\n".join(out)


def _label(keys):
    return " / ".join("(none)" if k is None else k for k in keys)


def stacks(doc):
    """(series, colours): per period, the cost of each --by group (the dearest MAX_STACKS
    groups over the range, the rest as "other"); one unnamed group without --by."""
    keys = doc["group_by"]
    if not keys:
        return [(p["period"], [("", p["cost_usd"])]) for p in doc["periods"]], {}
    totals = {}
    for row in doc["rows"]:
        group = _label([row.get(k) for k in keys])
        totals[group] = totals.get(group, 0.0) + row["cost_usd"]
    ranked = sorted(totals, key=lambda g: (-totals[g], g))
    kept = set(ranked[:MAX_STACKS]) if len(ranked) > MAX_STACKS + 1 else set(ranked)
    order = [g for g in ranked if g in kept] + ([OTHER] if len(kept) < len(ranked) else [])
    per = {p["period"]: {} for p in doc["periods"]}
    for row in doc["rows"]:
        group = _label([row.get(k) for k in keys])
        group = group if group in kept else OTHER
        cell = per.setdefault(row["period"], {})
        cell[group] = cell.get(group, 0.0) + row["cost_usd"]
    colours = {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(order)}
    series = [(p["period"], [(g, per[p["period"]].get(g, 0.0)) for g in order])
              for p in doc["periods"]]
    return series, colours


def legend(colours, title):
    if not colours:
        return ""
    items = "".join(f'<span><i style="background:{c}"></i>{escape(g)}</span>'
                    for g, c in colours.items())
    return f'<div class="legend" id="legend"><b>{escape(title)}:</b> {items}</div>'


def cards(totals):
    """The headline figures. Calls add the imported messages (`199,800 imp`) and the saving
    is `-` when only imported usage is behind it, as in the table (render.import_aware)."""
    calls = render.import_aware(totals, "invocations") or render.count(totals["invocations"])
    saved = (render.import_aware(totals, "savings_usd")
             or usd(totals["savings_usd"]) + f" ({render.percent(totals['savings_pct'])})")
    out = [_card("spend", usd(totals["cost_usd"], totals["unpriced_attempts"])),
           _card("calls", calls),
           _card("saved", saved),
           _card("failed attempts", render.count(totals["failures"]))]
    if totals["unpriced_attempts"]:
        out.append(_card("unpriced attempts", render.count(totals["unpriced_attempts"]),
                         "card warn"))
    return '<div class="cards">' + "".join(out) + "</div>"


def sections(doc, by_model=(), by_agent=(), per_period=(), after_spend=()):
    """The report's body: cards, charts, tables and notes (shared with the dashboard, which
    puts its budgets and latest calls `after_spend`, under the first chart)."""
    totals = doc["totals"]
    noun = render.NOUN[doc["granularity"]]
    series, colours = stacks(doc)
    savings = [(p["period"], [("", p["savings_usd"])]) for p in doc["periods"]]
    body = [cards(totals), f"<h2>Spend over time ({noun}, USD)</h2>",
            legend(colours, "by " + ", ".join(doc["group_by"])),
            column_chart("spend-over-time", f"{noun} spend in USD", series, colours),
            *after_spend]
    if by_model:
        body += ["<h2>Spend by model</h2>",
                 bar_list("spend-by-model", "spend by model in USD",
                          [(_label(k), m) for k, m in by_model])]
    if by_agent:
        body += ["<h2>Spend by agent</h2>",
                 bar_list("spend-by-agent", "spend by agent in USD",
                          [(_label(k), m) for k, m in by_agent])]
    body += [f"<h2>Savings ({noun}, USD)</h2>",
             f"<p>Saved {escape(usd(totals['savings_usd']))} of a "
             f"{escape(usd(totals['baseline_cost_usd']))} baseline "
             f"({escape(render.percent(totals['savings_pct']))}): what the same calls would "
             "have cost on the model first asked for, minus what they cost.</p>",
             column_chart("savings-over-time", f"{noun} savings in USD", savings),
             "<h2>Table</h2>", table(doc)]
    if per_period:
        body += [f"<h2>Cost per model, {noun}</h2>", breakdown_table(per_period)]
    body += [f'<p class="meta">{escape(n)}</p>' for n in render.notes(doc, doc.get("_why_unpriced"))]
    return body


def page(doc, by_model=(), by_agent=(), empty_message=None, per_period=()):
    """The HTML text. `by_model`/`by_agent`: summary.breakdown() results for the same range;
    `per_period`: summary.per_period() by model."""
    title = render.title(doc)
    body = ["<h1>llm-shim report</h1>", f'<p class="meta">{escape(title)}; generated '
            f'{escape(doc["generated_at"])}</p>']
    if empty_message:
        body.append(f"<p>{escape(empty_message)}</p>")
    else:
        body += sections(doc, by_model, by_agent, per_period)
    return document(title, "\n".join(body))


def document(title, body, head_extra=""):
    return ("<!DOCTYPE html>\n"
            '<html xmlns="http://www.w3.org/1999/xhtml" lang="en">\n<head>\n'
            '<meta charset="utf-8"/>\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1"/>\n'
            f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n{head_extra}</head>\n"
            f"<body>\n{body}\n</body>\n</html>\n")
