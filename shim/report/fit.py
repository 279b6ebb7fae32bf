"""Tables that fit the terminal: drop columns in a fixed order until the widest line fits.

Used by `report`, `logs` and `budget`. The width is $COLUMNS when set, else the terminal's
when the output is a terminal, else unlimited (a pipe or file gets every column); `--wide`
asks for every column whatever the width. Which columns go first is each command's
documented `DROP_ORDER` (docs/report.md, "Fitting the terminal").
"""

import os
import shutil


def width_for(stream, wide=False):
    """Columns available on `stream`, or None for no limit."""
    if wide:
        return None
    text = os.environ.get("COLUMNS", "").strip()
    if text.isdigit() and int(text) > 0:
        return int(text)
    try:
        if stream.isatty():
            return shutil.get_terminal_size((120, 24)).columns
    except (AttributeError, ValueError, OSError):
        pass
    return None


def render(headers, rows, align, *, width=None, drop_order=(), separators=()):
    """(text, dropped header names): a tabulate `simple` table without the columns of
    `drop_order` (header names) that must go, in that order, for each line to fit `width`.

    `rows` are lists of cell strings, or tabulate.SEPARATING_LINE.
    """
    from tabulate import SEPARATING_LINE, tabulate

    keep = list(range(len(headers)))
    dropped = []
    order = [h for h in drop_order if h in headers]
    while True:
        body = [row if row is SEPARATING_LINE else [row[i] for i in keep] for row in rows]
        text = tabulate(body, headers=[headers[i] for i in keep], tablefmt="simple",
                        colalign=[align[i] for i in keep], disable_numparse=True)
        if width is None or not order or max(map(len, text.splitlines() or [""])) <= width:
            return text, dropped
        name = order.pop(0)
        keep.remove(headers.index(name))
        dropped.append(name)


def shorten(text, width):
    """`text` cut to `width` characters with an ellipsis (model ids, reasons)."""
    return text if width is None or len(text) <= width else text[:max(width - 1, 0)] + "…"


def wrap(lines, width):
    """Notes and legends folded to `width` (continuation lines indented); one per line."""
    if width is None:
        return "".join(f"{line}\n" for line in lines)
    import textwrap

    return "".join(textwrap.fill(line, width, subsequent_indent="  ", break_on_hyphens=False)
                   + "\n" for line in lines)
