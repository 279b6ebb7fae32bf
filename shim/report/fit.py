"""Tables that fit the terminal: drop columns in a fixed order until the widest line fits.

Used by `report`, `logs` and `budget`. The width is $COLUMNS when set, else the terminal's
when the output is a terminal, else unlimited (a pipe or file gets every column); `--wide`
asks for every column whatever the width. Which columns go first is each command's
documented `DROP_ORDER` (docs/report.md, "Fitting the terminal"). When every droppable
column is gone and a line is still too wide, the long text columns a command names (`shrink`:
model ids, agents) are cut with an ellipsis, widest first, down to a floor.
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


def render(headers, rows, align, *, width=None, drop_order=(), shrink=None, then_drop=()):
    """(text, dropped header names): a tabulate `simple` table without the columns of
    `drop_order` (header names) that must go, in that order, for each line to fit `width`;
    then, if it still does not fit, with the cells of the `shrink` columns ({header: the
    narrowest it may get}) shortened, widest column first; then, as a last resort, without
    the columns of `then_drop` as needed (shrinking again after each).

    `rows` are lists of cell strings, or tabulate.SEPARATING_LINE.
    """
    keep = list(range(len(headers)))
    dropped = []
    order = [h for h in drop_order if h in headers]
    last = [h for h in then_drop if h in headers and h not in order]
    while True:
        text = _tabulate(headers, rows, align, keep)
        if width is None or _widest(text) <= width:
            return text, dropped
        if not order:
            text = _shrunk(headers, rows, align, keep, width, shrink or {})
            if _widest(text) <= width or not last:
                return text, dropped
            order.append(last.pop(0))
        name = order.pop(0)
        keep.remove(headers.index(name))
        dropped.append(name)


def _shrunk(headers, rows, align, keep, width, shrink):
    """The table with the `shrink` columns cut, widest first, until it fits or each is at
    its floor."""
    from tabulate import SEPARATING_LINE

    floors = {headers.index(h): max(floor, len(h)) for h, floor in shrink.items()
              if h in headers and headers.index(h) in keep}
    cells = [row for row in rows if row is not SEPARATING_LINE]
    widths = {i: max([len(headers[i])] + [len(row[i]) for row in cells]) for i in floors}
    over = _widest(_tabulate(headers, rows, align, keep)) - width
    while over > 0 and widths:
        column = max(widths, key=lambda i: widths[i] - floors[i])
        cut = min(widths[column] - floors[column], over)
        if cut <= 0:
            break
        widths[column] -= cut
        over -= cut
    rows = [row if row is SEPARATING_LINE else
            [shorten(cell, widths.get(i)) for i, cell in enumerate(row)] for row in rows]
    return _tabulate(headers, rows, align, keep)


def _tabulate(headers, rows, align, keep):
    from tabulate import SEPARATING_LINE, tabulate

    body = [row if row is SEPARATING_LINE else [row[i] for i in keep] for row in rows]
    return tabulate(body, headers=[headers[i] for i in keep], tablefmt="simple",
                    colalign=[align[i] for i in keep], disable_numparse=True)


def _widest(text):
    return max(map(len, text.splitlines() or [""]))


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
