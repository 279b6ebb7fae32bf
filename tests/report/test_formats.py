"""Output formats: table and chart, JSON against its schema, CSV round trip, HTML, files,
and the empty-database message."""

import csv
import io
import json
import os
import xml.etree.ElementTree as ET

import jsonschema
import pytest

from shim.report import render

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCHEMA = os.path.join(REPO, "docs", "report-schema.json")
RANGE = ("--tz", "UTC", "--since", "2026-03-01", "--until", "2026-03-05")
SVG = "{http://www.w3.org/2000/svg}"
XHTML = "{http://www.w3.org/1999/xhtml}"


def _fill(store):
    store.add("2026-03-01 10:00", agent="alice", model="claude-sonnet-5", cost_usd=1.25,
              baseline_cost_usd=2.5, input_tokens=1200, output_tokens=300,
              project='/home/a, "quoted"\nproject')
    store.add("2026-03-01 11:00", agent="bob", tool="codex", model="gpt-5.5",
              provider="openai", cost_usd=0.5, baseline_cost_usd=0.5, input_tokens=900)
    store.add("2026-03-03 09:00", agent="alice", model="claude-opus-4-8", cost_usd=4.0,
              baseline_cost_usd=4.0, input_tokens=5_000_000, duration_ms=61_000.0)
    store.add("2026-03-03 09:30", agent="bob", tool="codex", model="gpt-5.5",
              provider="openai", cost_usd=None, exit_code=1)


def _validator():
    with open(SCHEMA, encoding="utf-8") as fh:
        schema = json.load(fh)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


@pytest.mark.parametrize("by", ["", "model", "agent,model,tool,provider,project"])
def test_json_matches_its_schema(store, report, by):
    _fill(store)
    code, doc, _ = report("--json", *RANGE, *(["--by", by] if by else []))
    assert code == 0
    _validator().validate(doc)
    assert doc["schema_version"] == 1
    assert len(doc["periods"]) == 5  # empty days are in the series with zeros
    assert doc["periods"][1]["attempts"] == 0 and doc["periods"][1]["cost_usd"] == 0


def test_schema_rejects_a_wrong_document(store, report):
    """The schema is strict enough to notice a renamed or mistyped field."""
    _fill(store)
    _, doc, _ = report("--json", *RANGE)
    validator = _validator()
    renamed = json.loads(json.dumps(doc))
    renamed["totals"]["cost"] = renamed["totals"].pop("cost_usd")
    assert not validator.is_valid(renamed)
    mistyped = json.loads(json.dumps(doc))
    mistyped["rows"][0]["invocations"] = "1"
    assert not validator.is_valid(mistyped)


def test_csv_round_trip(store, report):
    _fill(store)
    _, doc, _ = report("--json", *RANGE, "--by", "agent,project")
    code, text, _ = report("--csv", *RANGE, "--by", "agent,project")
    assert code == 0
    assert text.endswith("\r\n") and "\r\n" in text.rstrip("\r\n")  # RFC 4180 line ends
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    header, body = parsed[0], parsed[1:]
    assert header[:3] == ["period", "agent", "project"]
    assert "cost_usd" in header and "savings_pct" in header
    assert len(body) == len(doc["rows"])  # no totals line
    for fields, row in zip(body, doc["rows"]):
        record = dict(zip(header, fields))
        assert record["project"] == (row["project"] or "")
        assert int(record["invocations"]) == row["invocations"]
        assert float(record["cost_usd"]) == row["cost_usd"]
        assert record["mean_latency_ms"] == ("" if row["mean_latency_ms"] is None
                                             else str(row["mean_latency_ms"]))
    assert any(r["project"] == '/home/a, "quoted"\nproject' for r in doc["rows"])


def test_table_has_totals_and_notes(store, report):
    _fill(store)
    code, text, _ = report(*RANGE, "--by", "model", "--no-chart")
    assert code == 0
    lines = text.splitlines()
    assert lines[0].startswith("daily report 2026-03-01 .. 2026-03-05 (UTC) by model")
    header = next(line for line in lines if line.startswith("period"))
    assert "calls" in header and "cost $" in header and "saved %" in header
    total = next(line for line in lines if line.startswith("total"))
    assert "5.75" in total  # 1.25 + 0.5 + 4.0
    assert "5.00M" in next(line for line in lines if "claude-opus-4-8" in line)
    assert "1.0min" in text  # 61 s mean latency on that row
    assert "1 attempts have no known cost" in text
    assert "spend, USD" not in text  # --no-chart


def test_chart_is_drawn_on_request(store, report):
    _fill(store)
    code, text, _ = report(*RANGE, "--chart")
    chart = text[text.index("daily spend, USD"):].splitlines()[1:]
    assert [line.split()[0] for line in chart] == [f"2026-03-0{d}" for d in range(1, 6)]
    bars = {line.split()[0]: line.split()[1] if len(line.split()) == 3 else "" for line in chart}
    assert bars["2026-03-03"] == "█" * 40  # the largest day fills the width
    assert bars["2026-03-02"] == ""
    assert bars["2026-03-01"] == "█" * 17 + "▌"  # 1.75 / 4.0 * 40 = 17.5 cells


def test_bar_chart_eighths():
    doc = {"granularity": "day", "periods": [
        {"period": "a", "cost_usd": 8.0}, {"period": "b", "cost_usd": 1.0},
        {"period": "c", "cost_usd": 0.0}]}
    lines = render.bar_chart(doc, width=2).splitlines()
    assert lines[1].split()[1] == "██"
    assert lines[2].split()[1] == "▎"  # 1/8 of the maximum = 1/8 of 16 eighths = 2 eighths
    assert lines[3].split()[1] == "0.00"


def test_output_file_and_html(store, report, tmp_path):
    _fill(store)
    out, page = tmp_path / "r.csv", tmp_path / "r.html"
    code, text, err = report("--csv", *RANGE, "--output", str(out), "--html", str(page))
    assert code == 0 and text == ""
    assert err == (f"llm-shim: wrote the HTML report to {page}\n"
                   f"llm-shim: wrote the report to {out}\n")
    assert out.read_bytes().startswith(b"period,invocations,")
    root = ET.fromstring(page.read_text(encoding="utf-8"))  # well-formed
    assert root.tag == XHTML + "html"
    charts = {svg.get("id"): svg for svg in root.iter(SVG + "svg")}
    assert set(charts) == {"spend-over-time", "spend-by-model", "spend-by-agent",
                           "savings-over-time"}
    spend = [(r.get("data-label"), float(r.get("data-value")))
             for r in charts["spend-over-time"].iter(SVG + "rect")]
    assert spend == [("2026-03-01", 1.75), ("2026-03-02", 0.0), ("2026-03-03", 4.0),
                     ("2026-03-04", 0.0), ("2026-03-05", 0.0)]
    by_model = [(r.get("data-label"), float(r.get("data-value")))
                for r in charts["spend-by-model"].iter(SVG + "rect")]
    assert by_model == [("claude-opus-4-8", 4.0), ("claude-sonnet-5", 1.25), ("gpt-5.5", 0.5)]
    by_agent = {r.get("data-label"): float(r.get("data-value"))
                for r in charts["spend-by-agent"].iter(SVG + "rect")}
    assert by_agent == {"alice": 5.25, "bob": 0.5}
    savings = [float(r.get("data-value")) for r in charts["savings-over-time"].iter(SVG + "rect")]
    assert savings == [1.25, 0.0, 0.0, 0.0, 0.0]
    titles = [t.text for t in charts["spend-by-model"].iter(SVG + "title")]
    assert "claude-opus-4-8: $4.00" in titles
    text = page.read_text(encoding="utf-8")
    assert "<script" not in text and "http://" not in text.replace(
        "http://www.w3.org/", "")  # self-contained: no scripts, no links out


def test_empty_database(report):
    code, text, err = report()
    assert code == 0
    assert text.startswith("no invocations recorded yet")
    assert "llm-shim install" in text and "period" not in text
    code, doc, err = report("--json")
    assert code == 0 and doc["rows"] == [] and doc["totals"]["invocations"] == 0
    assert "no invocations recorded yet" in err
    code, text, err = report("--csv")
    assert code == 0 and text.startswith("period,") and len(text.splitlines()) == 1


def test_nothing_in_range(store, report, tmp_path):
    store.add("2026-01-05 10:00", cost_usd=1.0)
    code, text, _ = report(*RANGE, "--agent", "alice")
    assert code == 0
    assert text.startswith("no invocations recorded between 2026-03-01 and 2026-03-05 (UTC) "
                           "matching --agent alice")
    page = tmp_path / "e.html"
    assert report(*RANGE, "--html", str(page))[0] == 0
    assert "no invocations recorded between" in ET.tostring(ET.fromstring(page.read_text()),
                                                            encoding="unicode")


def test_spool_is_ingested_first(report, tmp_path):
    """A call spooled a moment ago shows up: the report imports the spool before reading."""
    from shim import paths

    os.makedirs(paths.spool_dir(), exist_ok=True)
    record = {"v": 1, "invocation_id": "a" * 32, "attempt": 1, "started_at": 1772359200.0,
              "ended_at": 1772359201.0, "duration_ms": 1000.0, "agent": "spooled",
              "tool": "claude", "model": "claude-sonnet-5", "exit_code": 0,
              "input_tokens": 10, "output_tokens": 5, "cache_read_tokens": 0,
              "cache_write_tokens": 0, "blocked": 0, "reasons": []}
    with open(os.path.join(paths.spool_dir(), "spool.log"), "a") as fh:
        fh.write(repr(record) + "\n")
    code, doc, err = report("--json", *RANGE, "--by", "agent")
    assert code == 0, err
    assert [r["agent"] for r in doc["rows"]] == ["spooled"]  # 2026-03-01 10:00 UTC
    assert doc["rows"][0]["cost_usd"] > 0  # priced at ingestion


def test_stats_alias(store, report, capsys):
    from shim.cli.main import main

    _fill(store)
    assert main(["stats", "--json", *RANGE]) == 0
    assert json.loads(capsys.readouterr().out)["totals"]["attempts"] == 4


def test_unwritable_output(store, report, tmp_path):
    code, _, err = report(*RANGE, "--output", str(tmp_path / "missing" / "r.txt"))
    assert code == 1 and "cannot write" in err
