"""`--html FILE`: one self-contained page with inline SVG charts.

No script, no web font, no external stylesheet or image: the file opens offline and can be
mailed. The markup is well-formed XML (every element closed, text escaped) so tests and
tools can parse it. Each bar carries `data-label`/`data-value` and a <title> tooltip.
"""

from html import escape

from shim.report import render

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
h1 { font-size: 1.4em; margin-bottom: 0.2em; }
h2 { font-size: 1.1em; margin: 1.6em 0 0.4em; }
p.meta { color: #666; margin-top: 0; }
.cards { display: flex; gap: 1em; flex-wrap: wrap; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 0.6em 1em; min-width: 9em; }
.card b { display: block; font-size: 1.3em; }
svg.chart { display: block; max-width: 100%; height: auto; }
svg text { font: 11px system-ui, sans-serif; fill: #444; }
.bar { fill: #3b6fd4; } .bar.neg { fill: #d4553b; } .bar.save { fill: #2f9e6e; }
.axis { stroke: #999; stroke-width: 1; }
table { border-collapse: collapse; margin-top: 0.5em; font-size: 12px; }
th, td { padding: 2px 8px; border-bottom: 1px solid #eee; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: bold; border-top: 2px solid #999; }
"""
MAX_BARS = 12  # horizontal charts fold the rest into "other"


def _attrs(**attrs):
    """Attributes from keywords: class_ -> class, data_value -> data-value."""
    return "".join(f' {k.rstrip("_").replace("_", "-")}="{escape(str(v))}"'
                   for k, v in attrs.items())


def _svg_open(chart_id, caption, width, height):
    box = _attrs(id=chart_id, viewBox=f"0 0 {width} {height}", width=width, height=height,
                 role="img", aria_label=caption)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart"{box}>\n'
            f"<title>{escape(caption)}</title>")


def _text(x, y, text, anchor=None):
    anchor_attr = _attrs(text_anchor=anchor) if anchor else ""
    return f'<text x="{x:.1f}" y="{y:.1f}"{anchor_attr}>{escape(text)}</text>'


def _bar(css, x, y, width, height, label, value):
    """A bar that says what it is: data-label, data-value and a <title> tooltip."""
    box = _attrs(class_=css, x=f"{x:.1f}", y=f"{y:.1f}", width=f"{width:.1f}",
                 height=f"{height:.1f}", data_label=label, data_value=f"{value:.6f}")
    return f"<rect{box}><title>{escape(label)}: ${escape(render.money(value))}</title></rect>"


def column_chart(chart_id, caption, points, width=760, height=220):
    """Vertical bars, one per (label, value); negative values hang below the zero line."""
    left, bottom, top = 64, 28, 12
    plot_w, plot_h = width - left - 8, height - bottom - top
    high = max([0.0] + [v for _, v in points])
    low = min([0.0] + [v for _, v in points])
    span = (high - low) or 1.0
    zero_y = top + plot_h * high / span
    slot = plot_w / max(len(points), 1)
    step = max(1, -(-len(points) // 12))  # at most ~12 x labels
    axis = _attrs(class_="axis", x1=left, y1=f"{zero_y:.1f}", x2=width - 8, y2=f"{zero_y:.1f}")
    parts = [_svg_open(chart_id, caption, width, height), f"<line{axis}/>",
             _text(left - 6, top + 4, render.money(high), "end"),
             _text(left - 6, zero_y + 4, "0", "end")]
    if low < 0:
        parts.append(_text(left - 6, top + plot_h, render.money(low), "end"))
    for i, (label, value) in enumerate(points):
        bar_h = plot_h * abs(value) / span
        x = left + i * slot + slot * 0.1
        y = zero_y - bar_h if value >= 0 else zero_y
        parts.append(_bar("bar" if value >= 0 else "bar neg", x, y, slot * 0.8, bar_h,
                          label, value))
        if i % step == 0:
            parts.append(_text(x + slot * 0.4, height - 10, label, "middle"))
    parts.append("</svg>")
    return "\n".join(parts)


def bar_list(chart_id, caption, items, width=760):
    """Horizontal bars, one per (label, value), largest first."""
    if len(items) > MAX_BARS:
        rest = sum(v for _, v in items[MAX_BARS - 1:])
        items = items[:MAX_BARS - 1] + [("other", rest)]
    row_h, label_w, value_w = 22, 200, 90
    height = row_h * max(len(items), 1) + 8
    plot_w = width - label_w - value_w
    largest = max([v for _, v in items if v > 0], default=0) or 1.0
    parts = [_svg_open(chart_id, caption, width, height)]
    for i, (label, value) in enumerate(items):
        y = 4 + i * row_h
        shown = label if len(label) <= 30 else label[:29] + "…"
        bar_w = plot_w * max(value, 0) / largest
        parts.append(_text(label_w - 6, y + 15, shown, "end"))
        parts.append(_bar("bar", label_w, y + 3, bar_w, row_h - 6, label, value))
        parts.append(_text(label_w + bar_w + 6, y + 15, "$" + render.money(value)))
    parts.append("</svg>")
    return "\n".join(parts)


def _card(name, value):
    return f'<div class="card">{escape(name)}<b>{escape(value)}</b></div>'


def _table(doc):
    keys = doc["group_by"]
    head = ["period", *keys, *(h for h, _, _ in render.COLUMNS)]
    out = ["<table>", "<thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in head)
           + "</tr></thead>", "<tbody>"]

    def line(first, key_values, measures, css=""):
        cells = [f"<td>{escape(first)}</td>"]
        cells += [f"<td>{escape(v)}</td>" for v in key_values]
        cells += [f'<td class="n">{escape(v)}</td>' for v in render.cells(measures)]
        return f"<tr{_attrs(class_=css) if css else ''}>" + "".join(cells) + "</tr>"

    for row in doc["rows"]:
        out.append(line(row["period"], [render.key_text(row.get(k)) for k in keys], row))
    out.append(line("total", ["" for _ in keys], doc["totals"], "total"))
    out += ["</tbody>", "</table>"]
    return "\n".join(out)


def _label(keys):
    return " / ".join("(none)" if k is None else k for k in keys)


def page(doc, by_model=(), by_agent=(), empty_message=None):
    """The HTML text. `by_model`/`by_agent`: summary.breakdown() results for the same range."""
    totals = doc["totals"]
    title = render.title(doc)
    body = [f"<h1>llm-shim report</h1>", f'<p class="meta">{escape(title)}; generated '
            f'{escape(doc["generated_at"])}</p>']
    if empty_message:
        body.append(f"<p>{escape(empty_message)}</p>")
    else:
        pct = render.percent(totals["savings_pct"])
        body.append('<div class="cards">' + "".join([
            _card("spend", "$" + render.money(totals["cost_usd"])),
            _card("invocations", render.count(totals["invocations"])),
            _card("saved", "$" + render.money(totals["savings_usd"]) + f" ({pct})"),
            _card("failed attempts", render.count(totals["failures"])),
        ]) + "</div>")
        spend = [(p["period"], p["cost_usd"]) for p in doc["periods"]]
        savings = [(p["period"], p["savings_usd"]) for p in doc["periods"]]
        noun = render.NOUN[doc["granularity"]]
        body += [f"<h2>Spend over time ({noun}, USD)</h2>",
                 column_chart("spend-over-time", f"{noun} spend in USD", spend),
                 "<h2>Spend by model</h2>",
                 bar_list("spend-by-model", "spend by model in USD",
                          [(_label(k), m["cost_usd"]) for k, m in by_model]),
                 "<h2>Spend by agent</h2>",
                 bar_list("spend-by-agent", "spend by agent in USD",
                          [(_label(k), m["cost_usd"]) for k, m in by_agent]),
                 f"<h2>Savings ({noun}, USD)</h2>",
                 f"<p>Saved ${escape(render.money(totals['savings_usd']))} of a "
                 f"${escape(render.money(totals['baseline_cost_usd']))} baseline ({escape(pct)}): "
                 "what the same calls would have cost on the model first asked for, minus what "
                 "they cost.</p>",
                 column_chart("savings-over-time", f"{noun} savings in USD", savings),
                 "<h2>Table</h2>", _table(doc)]
        body += [f"<p class=\"meta\">{escape(n)}</p>" for n in render.notes(doc)]
    return ("<!DOCTYPE html>\n"
            '<html xmlns="http://www.w3.org/1999/xhtml" lang="en">\n<head>\n'
            '<meta charset="utf-8"/>\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1"/>\n'
            f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")
