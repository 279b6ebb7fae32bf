"""Machine formats of a report document: JSON (the document itself) and CSV (its rows)."""

import csv
import io
import json

from shim.report.summary import FIELDS


def to_json(doc):
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def csv_header(doc):
    return ["period", *doc["group_by"], *FIELDS, "unpriced_models"]


def _field(row, name):
    value = row.get(name)
    if name == "unpriced_models":  # a list: names joined with ";" ((none) for no model)
        return ";".join("(none)" if m is None else m for m in value or ())
    return "" if value is None else value


def to_csv(doc):
    """RFC 4180: a header line, then one line per row, CRLF line ends, quoted as needed.

    No totals line: spreadsheets and scripts sum the column themselves, and a totals line
    would be counted twice by anything that does. Unknown values (no latency, no baseline)
    are empty fields; `unpriced_models` joins the names with ";".
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    header = csv_header(doc)
    writer.writerow(header)
    for row in doc["rows"]:
        writer.writerow([_field(row, name) for name in header])
    return out.getvalue()
