"""Audit of issue 21: a recorded attempt whose cost was unknown is priced once its model has a
price (`prices reprice`, run by `prices update`), and `report` and `doctor` say the same thing
about what an unpriced attempt needs."""

import json

import pytest

from shim.cli.main import main
from shim.telemetry import ingest, prices
from tests.support.cli import run

RANGE = ("--tz", "UTC", "--since", "2026-03-01", "--until", "2026-03-03")
NEW = "claude-brand-new-7"  # no price in the shipped snapshot


@pytest.fixture(autouse=True)
def _no_columns(monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)


def _price_file(tmp_path):
    path = tmp_path / "litellm.json"
    path.write_text(json.dumps({NEW: {
        "input_cost_per_token": 1e-06, "output_cost_per_token": 1e-05,
        "litellm_provider": "anthropic", "mode": "chat"}}), encoding="utf-8")
    return str(path)


def _calls(store):
    store.add("2026-03-01 10:00", model="claude-sonnet-5", cost_usd=1.0)
    store.add("2026-03-02 10:00", model=NEW, cost_usd=None, cost_source="unknown",
              input_tokens=1_000_000, output_tokens=100_000, cache_read_tokens=None,
              cache_write_tokens=None)
    # a priced model whose tool reported no token counts: no price can help it
    store.add("2026-03-02 11:00", model="claude-sonnet-5", cost_usd=None,
              cost_source="unknown", input_tokens=None, output_tokens=None,
              cache_read_tokens=None, cache_write_tokens=None)


def _doctor_prices(capsys):
    main(["doctor", "--json"])
    out, _ = capsys.readouterr()
    doc = json.loads(out)
    checks = doc["checks"] if isinstance(doc, dict) and "checks" in doc else doc
    return next(c for c in checks if c["name"] == "prices")


def test_prices_update_reprices_recorded_attempts(store, capsys, tmp_path):
    _calls(store)
    _, out, _ = run(capsys, "report", *RANGE, "--wide", "--no-chart")
    assert f"no price for {NEW} (1 attempt)" in out
    assert "no token counts: claude-sonnet-5" in out  # the footnote says why, per model
    assert f"no price: {NEW}" in out
    check = _doctor_prices(capsys)
    assert check["status"] == "warn" and f"no price: {NEW} (1 attempt)" in check["detail"]

    code, out, _ = run(capsys, "prices", "update", "--from", _price_file(tmp_path))
    assert code == 0 and "re-priced 1 recorded attempt whose cost was unknown" in out

    _, out, _ = run(capsys, "report", *RANGE, "--json")
    doc = json.loads(out)
    assert doc["totals"]["cost_usd"] == pytest.approx(1.0 + 1.0 + 1.0)  # $1 in + $1 out
    assert doc["totals"]["unpriced_attempts"] == 1  # the one without token counts
    row = store.conn.execute("SELECT cost_usd, cost_source, price_version FROM attempts "
                             "WHERE model = ?", (NEW,)).fetchone()
    assert row[0] == pytest.approx(2.0) and row[1] == "computed"
    assert row[2].startswith("imported-")
    _, out, _ = run(capsys, "prices", "reprice")
    assert "re-priced 0 recorded attempts" in out  # nothing left to price twice
    assert _doctor_prices(capsys)["status"] == "ok"


def test_report_and_doctor_agree_when_a_price_arrived_after_the_calls(store, capsys,
                                                                       tmp_path):
    _calls(store)
    prices.import_litellm(_price_file(tmp_path), ingest.load_config())  # no re-pricing
    _, out, _ = run(capsys, "report", *RANGE, "--wide", "--no-chart")
    assert f"priced now, but recorded before their price: {NEW} (1 attempt)" in out
    assert "llm-shim prices reprice" in out
    assert f"no price for {NEW}" not in out
    check = _doctor_prices(capsys)
    assert check["status"] == "warn"
    assert f"priced now: {NEW} (1 attempt)" in check["detail"]
    assert "llm-shim prices reprice" in check["hint"]
    assert "prices update" not in check["hint"]

    code, out, _ = run(capsys, "prices", "reprice")
    assert code == 0 and "re-priced 1 recorded attempt" in out
    _, out, _ = run(capsys, "report", *RANGE, "--json", "--by", "model")
    doc = json.loads(out)
    new = next(r for r in doc["rows"] if r["model"] == NEW)
    assert new["cost_usd"] == pytest.approx(2.0) and new["unpriced_attempts"] == 0


def test_the_html_footnote_says_why_each_cost_is_unknown(store, capsys, tmp_path):
    _calls(store)
    page = tmp_path / "r.html"
    run(capsys, "report", *RANGE, "--html", str(page), "--no-chart")
    text = page.read_text(encoding="utf-8")
    assert f"no price: {NEW}" in text and "no token counts: claude-sonnet-5" in text
