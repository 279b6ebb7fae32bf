"""Audit of issue 21: tables fit the terminal with real model ids (not only short test names),
and `logs --reasons` keeps the id the reasons are keyed by."""

import pytest

from tests.support.cli import run

RANGE = ("--tz", "UTC", "--since", "2026-03-01", "--until", "2026-03-03")


@pytest.fixture(autouse=True)
def _no_columns(monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)


def _real_calls(store):
    store.add("2026-03-01 10:00", invocation_id="a1" * 16, agent="code-reviewer", model="claude-haiku-4-5-20251001",
              model_requested="claude-haiku-4-5-20251001", input_tokens=1200,
              cache_read_tokens=34000, cache_write_tokens=2100, output_tokens=800,
              cost_usd=0.0123, reasons=["rule cheap-review: agent code-reviewer -> cheap tier"])
    store.add("2026-03-02 10:00", invocation_id="b2" * 16, agent="default", model="claude-opus-5-5",
              model_requested=None, input_tokens=51000, cache_read_tokens=1200000,
              cache_write_tokens=88000, output_tokens=12000, reasoning_tokens=3000,
              cost_usd=None, cost_source="unknown", exit_code=1, failure_class="rate_limited",
              reasons=["no rule matched: the tool's default model"])
    store.add("2026-03-03 10:00", invocation_id="c3" * 16, agent="default", tool="codex", tool_requested="claude",
              model="gpt-5.5-codex-mini-2026-11-01", model_requested="claude-sonnet-5",
              input_tokens=10, output_tokens=10, cost_usd=0.5, tier="cheap",
              reasons=["redirect claude->codex"])


@pytest.mark.parametrize("columns", [80, 200])
def test_logs_fits_with_real_model_ids(store, capsys, monkeypatch, columns):
    _real_calls(store)
    monkeypatch.setenv("COLUMNS", str(columns))
    _, out, _ = run(capsys, "logs")
    assert max(len(line) for line in out.splitlines()) <= columns
    assert "cost" in out.splitlines()[0] or any(line.startswith("time") for line in
                                                  out.splitlines())
    if columns == 200:  # room enough: the ids are whole
        assert "(default)->claude-opus-5-5" in out
        assert "claude-haiku-4-5-20251001" in out


@pytest.mark.parametrize("columns", [80, 200])
def test_report_by_model_fits_with_real_model_ids(store, capsys, monkeypatch, columns):
    _real_calls(store)
    monkeypatch.setenv("COLUMNS", str(columns))
    _, out, _ = run(capsys, "report", *RANGE, "--by", "agent,model", "--no-chart")
    assert max(len(line) for line in out.splitlines()) <= columns
    if columns == 200:
        assert "gpt-5.5-codex-mini-2026-11-01" in out


def test_logs_reasons_keeps_the_id_column(store, capsys, monkeypatch):
    _real_calls(store)
    monkeypatch.setenv("COLUMNS", "80")
    _, out, _ = run(capsys, "logs", "--reasons")
    assert max(len(line) for line in out.splitlines()) <= 80
    header = next(line for line in out.splitlines() if line.startswith("time"))
    assert " id " in f" {header} "
    reason_ids = {line.split()[0] for line in out.splitlines()
                  if line.endswith("cheap tier")}
    assert len(reason_ids) == 1
    (reason_id,) = reason_ids
    table_lines = [line for line in out.splitlines() if reason_id in line]
    assert len(table_lines) == 2  # its table row and its reason line


def test_until_a_bare_day_includes_that_day_in_logs_as_in_report(store, capsys):
    store.add("2026-12-05 00:00", agent="first")
    store.add("2026-12-05 23:59", agent="last")
    store.add("2026-12-06 00:00", agent="next")
    store.add("2026-12-04 23:59", agent="before")
    day = ("--since", "2026-12-05", "--until", "2026-12-05")
    _, out, _ = run(capsys, "logs", "--json", *day)
    import json

    assert sorted(r["agent"] for r in json.loads(out)) == ["first", "last"]
    _, out, _ = run(capsys, "report", "--json", "--tz", "UTC", *day)
    assert json.loads(out)["totals"]["attempts"] == 2
    _, out, _ = run(capsys, "logs", "--json", "--until", "2026-12-05T12:00")
    assert sorted(r["agent"] for r in json.loads(out)) == ["before", "first"]


@pytest.fixture(autouse=True)
def _utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")


def test_token_sums_over_attempts_without_token_counts_are_lower_bounds(store, capsys,
                                                                        tmp_path):
    import csv
    import io
    import json

    store.add("2026-03-01 10:00", input_tokens=100, output_tokens=20, cost_usd=0.1)
    store.add("2026-03-01 11:00", input_tokens=None, output_tokens=None,
              cache_read_tokens=None, cache_write_tokens=None, cost_usd=None,
              cost_source="unknown")  # a text-mode call without harvested usage
    store.add("2026-03-02 10:00", input_tokens=50, output_tokens=5, cost_usd=0.05)
    _, out, _ = run(capsys, "report", *RANGE, "--wide", "--no-chart")
    first = next(line for line in out.splitlines() if line.startswith("2026-03-01"))
    second = next(line for line in out.splitlines() if line.startswith("2026-03-02"))
    total = next(line for line in out.splitlines() if line.startswith("total"))
    assert "≥ 100*" in first and "≥ 20*" in first
    assert "≥ 150*" in total and "≥ 25*" in total
    assert "≥" not in second.replace("≥ 0.05*", "")  # a fully counted day has no mark
    assert "1 attempts have no token counts" in out
    _, out, _ = run(capsys, "report", *RANGE, "--json")
    doc = json.loads(out)
    assert doc["totals"]["unknown_token_attempts"] == 1
    assert [p["unknown_token_attempts"] for p in doc["periods"]] == [1, 0, 0]
    _, out, _ = run(capsys, "report", *RANGE, "--csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["unknown_token_attempts"] for r in rows] == ["1", "0"]
    page = tmp_path / "r.html"
    run(capsys, "report", *RANGE, "--html", str(page), "--no-chart")
    assert "≥ 150*" in page.read_text(encoding="utf-8")
