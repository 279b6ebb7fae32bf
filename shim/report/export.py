"""Machine formats of a report document: JSON (the document itself) and CSV (its rows)."""

import csv
import io
import json

from shim.report.summary import FIELDS


def to_json(doc):
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def csv_header(doc):
    return ["period", *doc["group_by"], *FIELDS]


def to_csv(doc):
    """RFC 4180: a header line, then one line per row, CRLF line ends, quoted as needed.

    No totals line: spreadsheets and scripts sum the column themselves, and a totals line
    would be counted twice by anything that does. Unknown values (no latency, no baseline)
    are empty fields.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    header = csv_header(doc)
    writer.writerow(header)
    for row in doc["rows"]:
        writer.writerow(["" if row.get(name) is None else row.get(name) for name in header])
    return out.getvalue()
