"""Doctor results for people (one line per check, a mark, the fix below) and for scripts (JSON).

The marks are ✓ (ok), ✗ (fail) and ! (warning); a terminal whose encoding cannot show them
gets `ok`, `FAIL` and `warn` instead, rather than an encoding error.
"""

import json

from shim import __version__

MARKS = {"ok": "✓", "fail": "✗", "warn": "!"}
ASCII_MARKS = {"ok": "ok", "fail": "FAIL", "warn": "warn"}


def marks_for(encoding):
    try:
        "".join(MARKS.values()).encode(encoding or "ascii")
    except (LookupError, UnicodeEncodeError):
        return ASCII_MARKS
    return MARKS


def text(results, encoding="utf-8"):
    """The report: `<mark> <name>  <detail>`, then `    fix: <hint>` under what needs fixing."""
    marks = marks_for(encoding)
    mark_width = max(len(m) for m in marks.values())
    name_width = max([len(r["name"]) for r in results] or [0])
    indent = " " * (mark_width + 1 + name_width + 2)
    lines = [f"llm-shim {__version__} doctor"]
    for r in results:
        detail = (r["detail"] or "").splitlines() or [""]
        lines.append(f"{marks[r['status']]:<{mark_width}} {r['name']:<{name_width}}  {detail[0]}")
        lines += [indent + more for more in detail[1:]]
        if r["hint"]:
            hint = r["hint"].splitlines()
            lines.append(f"{indent}fix: {hint[0]}")
            lines += [f"{indent}     {more}" for more in hint[1:]]
    lines.append("")
    lines.append(summary(results))
    return "\n".join(lines) + "\n"


def summary(results):
    fails = sum(r["status"] == "fail" for r in results)
    warns = sum(r["status"] == "warn" for r in results)
    if not fails and not warns:
        return f"all {len(results)} checks passed"
    parts = []
    if fails:
        parts.append(f"{fails} failed")
    if warns:
        parts.append(f"{warns} warning{'s' if warns != 1 else ''}")
    return ", ".join(parts) + f" (of {len(results)} checks)"


def as_json(results):
    """{"version", "ok", "checks": [result, ...]}; `ok` is False when any check failed."""
    document = {"version": __version__,
                "ok": not any(r["status"] == "fail" for r in results),
                "checks": results}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
