"""Issue 21: one token model in every format, unknown cost as a lower bound, tables that fit
the terminal, clipped periods marked, the day view by hour, and `logs` filters."""

import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest

from tests.support.cli import run

RANGE = ("--tz", "UTC", "--since", "2026-03-01", "--until", "2026-03-03")
XHTML = "{http://www.w3.org/1999/xhtml}"


@pytest.fixture(autouse=True)
def _no_columns(monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)


def _split_calls(store):
    """A codex call with cache reads and writes (and reasoning), a claude call that created a
    cache."""
    store.add("2026-03-01 10:00", agent="bob", tool="codex", tool_requested="codex",
              model="gpt-5.5", provider="openai", input_tokens=60, cache_read_tokens=40,
              cache_write_tokens=30, output_tokens=10, reasoning_tokens=4, cost_usd=0.25)
    store.add("2026-03-02 10:00", agent="alice", model="claude-sonnet-5", input_tokens=5,
              cache_read_tokens=0, cache_write_tokens=2000, output_tokens=50, cost_usd=1.5)


def _table_row(text, first):
    """{header: cell} for the table line starting with `first` (columns split on 2+ spaces)."""
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith(("period", "time")))
    names = lines[header].split()
    names = _merge(names)
    row = next(line for line in lines[header + 2:] if line.startswith(first))
    cells = [c for c in row.split("  ") if c.strip()]
    return dict(zip(names, [c.strip() for c in cells]))


def _merge(words):
    """Header words back into names: 'cache rd' is one column."""
    out = []
    for word in words:
        if out and out[-1] == "cache" or (out and out[-1] in ("saved", "cost") and word in
                                           ("$", "%")):
            out[-1] += " " + word
        else:
            out.append(word)
    return out


def test_token_split_is_the_same_in_every_format(store, capsys, tmp_path):
    _split_calls(store)
    # logs: the same four columns, reasoning shown apart
    code, out, _ = run(capsys, "logs", "--wide")
    assert code == 0
    codex = _table_row(out, next(line for line in out.splitlines() if "gpt-5.5" in line)[:19])
    assert (codex["input"], codex["cache rd"], codex["cache wr"]) == ("60", "40", "30")
    assert codex["output"] == "10 (r 4)"
    assert "reasoning" in out  # the legend explains (r N)
    # report table: cache read and cache write are their own columns
    code, out, _ = run(capsys, "report", *RANGE, "--wide", "--no-chart")
    total = _table_row(out, "total")
    assert (total["input"], total["cache rd"], total["cache wr"], total["output"],
            total["reasoning"]) == ("65", "40", "2.03k", "60", "4")
    # JSON
    code, out, _ = run(capsys, "report", *RANGE, "--json")
    totals = json.loads(out)["totals"]
    assert (totals["input_tokens"], totals["cache_read_tokens"], totals["cache_write_tokens"],
            totals["output_tokens"], totals["reasoning_tokens"]) == (65, 40, 2030, 60, 4)
    # CSV
    code, out, _ = run(capsys, "report", *RANGE, "--csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["input_tokens"], r["cache_read_tokens"], r["cache_write_tokens"],
             r["output_tokens"], r["reasoning_tokens"]) for r in rows] == [
        ("60", "40", "30", "10", "4"), ("5", "0", "2000", "50", "0")]
    # HTML: the table's cells carry the same numbers
    page = tmp_path / "r.html"
    code, _, err = run(capsys, "report", *RANGE, "--html", str(page), "--no-chart")
    assert f"wrote the HTML report to {page}" in err
    root = ET.fromstring(page.read_text(encoding="utf-8"))
    table = next(t for t in root.iter(XHTML + "table") if t.get("id") == "report-table")
    total_row = [tr for tr in table.iter(XHTML + "tr") if tr.get("class") == "total"][0]
    values = {td.get("data-field"): td.get("data-value") for td in total_row
              if td.get("data-field")}
    assert (values["input_tokens"], values["cache_read_tokens"], values["cache_write_tokens"],
            values["output_tokens"], values["reasoning_tokens"]) == ("65", "40", "2030", "60",
                                                                     "4")
    headers = [th.text for th in table.iter(XHTML + "th")]
    assert "cache rd" in headers and "cache wr" in headers


def _unpriced(store):
    store.add("2026-03-01 10:00", model="claude-sonnet-5", cost_usd=1.25)
    store.add("2026-03-01 11:00", model="claude-opus-5-5", cost_usd=None,
              cost_source="unknown", input_tokens=900)
    store.add("2026-03-02 11:00", model="claude-opus-5-5", cost_usd=None,
              cost_source="unknown")
    store.add("2026-03-03 11:00", model="claude-sonnet-5", cost_usd=0.5)


def test_unpriced_attempts_make_the_cost_a_lower_bound_everywhere(store, capsys, tmp_path):
    _unpriced(store)
    code, out, _ = run(capsys, "report", *RANGE, "--wide", "--no-chart")
    total = _table_row(out, "total")
    assert total["cost $"] == "≥ 1.75*" and total["unpriced"] == "2"
    assert _table_row(out, "2026-03-01")["cost $"] == "≥ 1.25*"
    assert _table_row(out, "2026-03-03")["cost $"] == "0.50"  # fully priced: no mark
    assert "* lower bound: 2 attempts have no known cost" in out
    assert "claude-opus-5-5" in out
    assert "$0.00" not in out

    code, out, _ = run(capsys, "report", *RANGE, "--json", "--by", "agent")
    doc = json.loads(out)
    assert doc["totals"]["cost_usd"] == 1.75
    assert doc["totals"]["unpriced_attempts"] == 2
    assert doc["totals"]["unpriced_models"] == ["claude-opus-5-5"]
    assert [p["unpriced_attempts"] for p in doc["periods"]] == [1, 1, 0]
    assert [p["unpriced_models"] for p in doc["periods"]] == [["claude-opus-5-5"]] * 2 + [[]]
    assert [r["unpriced_models"] for r in doc["rows"]] == [["claude-opus-5-5"]] * 2 + [[]]

    code, out, _ = run(capsys, "report", *RANGE, "--csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["unpriced_attempts"], r["unpriced_models"]) for r in rows] == [
        ("1", "claude-opus-5-5"), ("1", "claude-opus-5-5"), ("0", "")]

    page = tmp_path / "r.html"
    run(capsys, "report", *RANGE, "--html", str(page), "--no-chart")
    text = page.read_text(encoding="utf-8")
    root = ET.fromstring(text)
    spend = next(d for d in root.iter(XHTML + "div") if d.get("class") == "card"
                 and (d.text or "").startswith("spend"))
    assert spend.find(XHTML + "b").text == "≥ $1.75*"
    assert any((d.text or "").startswith("unpriced attempts") for d in root.iter(XHTML + "div"))
    assert "≥ $0.00* (2 unpriced)" in text  # the model bar of claude-opus-5-5


def test_tables_fit_80_and_200_columns(store, capsys, monkeypatch):
    _unpriced(store)
    _split_calls(store)
    monkeypatch.setenv("COLUMNS", "80")
    _, out, _ = run(capsys, "report", *RANGE, "--by", "model", "--no-chart")
    assert max(len(line) for line in out.splitlines()) <= 80  # table, notes and all
    assert "(not shown to fit 80 columns: reasoning, latency" in out
    assert "cost $" in out  # cost never goes
    _, logs_out, _ = run(capsys, "logs")
    table = logs_out.split("\ncost: ")[0]
    assert max(len(line) for line in logs_out.splitlines()) <= 80
    assert max(len(line) for line in table.splitlines()) <= 80
    assert "(not shown to fit 80 columns" in logs_out

    monkeypatch.setenv("COLUMNS", "200")
    _, out, _ = run(capsys, "report", *RANGE, "--by", "model", "--no-chart")
    assert "not shown" not in out
    for header in ("latency", "attempts", "cache rd", "cache wr", "saved %", "unpriced",
                   "reasoning"):
        assert header in out
    monkeypatch.setenv("COLUMNS", "80")
    _, wide, _ = run(capsys, "report", *RANGE, "--by", "model", "--no-chart", "--wide")
    assert wide == out


def test_clipped_periods_are_marked(store, capsys):
    store.add("2026-09-10 10:00", cost_usd=1.0)
    store.add("2026-10-10 10:00", cost_usd=2.0)
    store.add("2026-11-10 10:00", cost_usd=3.0)
    _, out, _ = run(capsys, "report", "--monthly", "--tz", "UTC", "--since", "2026-09-05",
                    "--until", "2026-11-20", "--no-chart")
    labels = [line.split()[0] for line in out.splitlines() if line.startswith("2026-")]
    assert labels[:3] == ["2026-09*", "2026-10", "2026-11*"]
    assert "2026-09* counted from 2026-09-05 to 2026-09-30" in out
    assert "2026-11* counted from 2026-11-01 to 2026-11-20" in out
    _, out, _ = run(capsys, "report", "--monthly", "--tz", "UTC", "--since", "2026-09-05",
                    "--until", "2026-11-20", "--json")
    doc = json.loads(out)
    assert [p["clipped"] for p in doc["periods"]] == [True, False, True]


def test_since_in_months_and_weeks_means_whole_periods(store, capsys):
    """`--since 3m` is the current month and the two before it: three whole rows."""
    store.add("2026-12-02 10:00", cost_usd=1.0)
    now = "2026-12-06"
    from shim.report import api, periods

    zone = periods.resolve_zone("UTC")
    stamp = periods.day_start(periods.dt.date.fromisoformat(now), zone) + 3600
    built = api.select_periods("month", "3m", None, zone, "monday", stamp)
    assert [(p["period"], p["clipped"]) for p in built] == [
        ("2026-10", False), ("2026-11", False), ("2026-12", False)]
    built = api.select_periods("week", "4w", None, zone, "monday", stamp)
    assert built[0]["first"].weekday() == 0 and not built[0]["clipped"] and len(built) == 4


def test_by_hour_is_the_day_view(store, capsys):
    store.add("2026-03-02 09:10", cost_usd=1.0)
    store.add("2026-03-02 09:50", cost_usd=2.0)
    store.add("2026-03-02 17:05", cost_usd=4.0)
    _, out, _ = run(capsys, "report", "--by", "hour", "--tz", "UTC", "--since", "2026-03-02",
                    "--until", "2026-03-02", "--json")
    doc = json.loads(out)
    assert doc["granularity"] == "hour" and len(doc["periods"]) == 24
    costs = {p["period"]: p["cost_usd"] for p in doc["periods"] if p["cost_usd"]}
    assert costs == {"2026-03-02 09:00": 3.0, "2026-03-02 17:00": 4.0}


def test_chart_of_one_day_is_one_line(store, capsys):
    store.add("2026-03-03 10:00", cost_usd=1.0)
    _, out, _ = run(capsys, "report", "--tz", "UTC", "--since", "2026-02-02", "--until",
                    "2026-03-03", "--chart")
    chart = out[out.index("daily spend, USD"):].splitlines()
    assert chart[1].startswith("2026-03-03") and len(chart) == 3
    assert "29 earlier days without calls not shown" in chart[2]


def test_logs_filters(store, capsys):
    import time

    now = time.time()
    store.add(now - 30, agent="alice", model="claude-sonnet-5", cost_usd=0.1)
    store.add(now - 60, agent="bob", tool="codex", tool_requested="codex", model="gpt-5.5",
              exit_code=1, failure_class="rate_limited", cost_usd=0.2)
    store.add(now - 90, agent="bob", blocked=1, exit_code=75, cost_usd=None)
    store.add(now - 5 * 86400, agent="carol", cost_usd=0.3, reasons=["rule cheap: r1", "x"])

    def ids(*args):
        _, out, _ = run(capsys, "logs", "--json", *args)
        return sorted(r["agent"] for r in json.loads(out))

    assert ids() == ["alice", "bob", "bob", "carol"]
    assert ids("--since", "1h") == ["alice", "bob", "bob"]
    assert ids("--until", "1d") == ["carol"]
    assert ids("--agent", "bob") == ["bob", "bob"]
    assert ids("--tool", "codex") == ["bob"]
    assert ids("--model", "claude-sonnet-5", "--since", "2d") == ["alice", "bob"]
    assert ids("--failed") == ["bob"]
    assert ids("--blocked") == ["bob"]
    _, out, _ = run(capsys, "logs", "--agent", "nobody")
    assert out == "no calls match these filters\n"
    _, out, _ = run(capsys, "logs", "--agent", "carol", "--reasons")
    assert out.splitlines()[-2:] == [line for line in out.splitlines()
                                     if line.endswith(("rule cheap: r1", "  x"))]
    assert "c = computed from the price table" in out  # the legend
    code, _, err = run(capsys, "logs", "--since", "last tuesday")
    assert code == 2 and "cannot read --since" in err


def test_budget_without_budgets_prints_a_starter_example(capsys):
    code, out, _ = run(capsys, "budget")
    assert code == 0 and "no budgets configured" in out
    assert "policies:\n  budgets:\n" in out and "limit: {usd:" in out


SVG = "{http://www.w3.org/2000/svg}"


def test_html_page_stacks_by_group_with_a_legend_gridlines_and_a_breakdown(store, capsys,
                                                                           tmp_path):
    store.add("2026-03-01 10:00", model="claude-sonnet-5", cost_usd=1.25)
    store.add("2026-03-01 11:00", model="gpt-5.5", tool="codex", cost_usd=0.0042)
    store.add("2026-03-02 11:00", model="gpt-5.5", tool="codex", cost_usd=2.5)
    page = tmp_path / "r.html"
    run(capsys, "report", *RANGE, "--by", "model", "--html", str(page), "--no-chart")
    text = page.read_text(encoding="utf-8")
    root = ET.fromstring(text)
    assert "max-width: 60em" not in text and "white-space: nowrap" in text  # full width
    legend = next(d for d in root.iter(XHTML + "div") if d.get("id") == "legend")
    assert [s.tail or "".join(s.itertext()) for s in legend.iter(XHTML + "span")] == \
        ["gpt-5.5", "claude-sonnet-5"]  # dearest group first
    chart = next(s for s in root.iter(SVG + "svg") if s.get("id") == "spend-over-time")
    segments = [(r.get("data-period"), r.get("data-group"), float(r.get("data-value")))
                for r in chart.iter(SVG + "rect")]
    assert sorted(segments) == [("2026-03-01", "claude-sonnet-5", 1.25),
                                ("2026-03-01", "gpt-5.5", 0.0042), ("2026-03-02", "gpt-5.5", 2.5)]
    fills = {r.get("data-group"): r.get("style") for r in chart.iter(SVG + "rect")}
    assert len(set(fills.values())) == 2  # one colour per group
    ticks = [t.text for t in chart.iter(SVG + "text") if (t.text or "").startswith("$")]
    assert ticks[:4] == ["$0.00", "$0.50", "$1.00", "$1.50"] and len(ticks) >= 5
    assert len([line for line in chart.iter(SVG + "line")]) == len(ticks)  # a gridline each
    assert "$0.0042" in text and "&lt;0.01" not in text and "<0.01" not in text
    breakdown = next(t for t in root.iter(XHTML + "table") if t.get("id") == "model-breakdown")
    cells = [[td.text or "" for td in tr] for tr in breakdown.iter(XHTML + "tr")][1:]
    assert [(c[0], c[1], c[-1]) for c in cells] == [
        ("2026-03-01", "claude-sonnet-5", "1.25"), ("", "gpt-5.5", "0.0042"),
        ("2026-03-02", "gpt-5.5", "2.50")]
