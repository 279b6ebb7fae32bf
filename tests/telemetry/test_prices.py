"""Cost arithmetic, long-context tiers, lookup by alias, and the LiteLLM import."""

import json
import os

import pytest

from shim import errors
from shim.telemetry import prices
from tests.telemetry.conftest import data_path


@pytest.fixture
def table(cfg):
    return prices.load_table(cfg)


def part(model=None, i=0, o=0, cr=0, cw=0):
    return {"model": model, "input_tokens": i, "output_tokens": o, "cache_read_tokens": cr,
            "cache_write_tokens": cw}


def test_cost_arithmetic_matches_claude_code_own_figure(table):
    # REAL_CLIS.md: 11 in / 7 out / 3 cache read / 5 cache write on opus = $0.00026275
    usd, estimated = prices.cost([part("claude-opus-4-8", 11, 7, 3, 5)], None, table)
    assert usd == pytest.approx(0.00026275) and not estimated


def test_each_kind_has_its_own_price(table):
    one_million = 1_000_000
    row = prices.lookup(table, "claude-opus-4-8")
    assert prices.part_cost(part(i=one_million), row) == pytest.approx(5.0)
    assert prices.part_cost(part(o=one_million), row) == pytest.approx(25.0)
    assert prices.part_cost(part(cr=one_million), row) == pytest.approx(0.5)
    assert prices.part_cost(part(cw=one_million), row) == pytest.approx(6.25)


def test_lookup_by_alias_1m_suffix_prefix_and_date(table):
    opus = prices.lookup(table, "claude-opus-4-8")
    assert prices.lookup(table, "opus") is opus
    assert prices.lookup(table, "claude-opus-4-8[1m]") is opus
    assert prices.lookup(table, "anthropic/claude-opus-4-8") is opus
    assert prices.lookup(table, "claude-haiku-4-5") is prices.lookup(table,
                                                                     "claude-haiku-4-5-20251001")
    assert prices.lookup(table, "claude-opus-4-8-20990101") is opus
    assert prices.lookup(table, "my-router-model") is None
    assert prices.lookup(table, None) is None


def test_higher_tier_above_the_threshold():
    row = prices.normalise_row({"input": 3, "output": 15, "cache_read": 0.3, "cache_write": 3.75,
                                "input_above_200k": 6, "output_above_200k": 22.5})
    below = part(i=200_000, o=1000)
    above = part(i=150_000, cr=50_001, o=1000)  # prompt = input + cache read + cache write
    assert prices.part_cost(below, row) == pytest.approx(200_000 * 3e-6 + 1000 * 15e-6)
    assert prices.part_cost(above, row) == pytest.approx(
        150_000 * 6e-6 + 50_001 * 0.3e-6 + 1000 * 22.5e-6)  # no cache_read tier: base price


def test_tier_applies_per_request_part():
    table = {"rows": {"m": prices.normalise_row({"input": 1, "output": 1,
                                                 "input_above_200k": 2})},
             "aliases": {}, "version": "t"}
    two_small = [part("m", i=150_000), part("m", i=150_000)]
    usd, _ = prices.cost(two_small, None, table)
    assert usd == pytest.approx(0.3)  # 300k in total, but no single request above 200k


def test_missing_cache_prices_fall_back_to_input():
    row = prices.normalise_row({"input": 2, "output": 8})
    assert prices.part_cost(part(cr=1_000_000, cw=1_000_000), row) == pytest.approx(4.0)


def test_price_record_prefers_the_reported_cost_and_keeps_both(table):
    rec = {"model": "claude-opus-4-8", "input_tokens": 11, "output_tokens": 7,
           "cache_read_tokens": 3, "cache_write_tokens": 5, "reported_cost_usd": 0.001,
           "baseline_model": "claude-opus-4-8"}
    prices.price_record(rec, None, table)
    assert rec["cost_usd"] == 0.001 and rec["cost_source"] == "reported"
    assert rec["computed_cost_usd"] == pytest.approx(0.00026275)
    assert rec["baseline_cost_usd"] == 0.001  # same model: no savings
    assert rec["price_version"] == table["version"]


def test_computed_estimated_unknown(table):
    computed = prices.price_record({"model": "gpt-4o", "input_tokens": 1_000_000,
                                    "output_tokens": 0}, None, table)
    assert computed["cost_source"] == "computed" and computed["cost_usd"] == pytest.approx(2.5)
    guess = dict(table, rows=dict(table["rows"], **{"gpt-9": dict(
        prices.normalise_row({"input": 1, "output": 2}), source="estimate")}))
    estimated = prices.price_record({"model": "gpt-9", "input_tokens": 1000}, None, guess)
    assert estimated["cost_source"] == "estimated"  # `price_source: estimate` in the config
    unknown = prices.price_record({"model": "mystery", "input_tokens": 1}, None, table)
    assert unknown["cost_source"] == "unknown" and unknown["cost_usd"] is None
    no_tokens = prices.price_record({"model": "gpt-4o"}, None, table)
    assert no_tokens["cost_source"] == "unknown"


def test_blocked_calls_cost_nothing(table):
    rec = prices.price_record({"model": "claude-opus-4-8", "blocked": 1,
                               "baseline_model": "claude-opus-4-8"}, None, table)
    assert rec["cost_usd"] == 0 and rec["input_tokens"] == 0 and rec["cost_source"] == "computed"


def test_baseline_cost_reprices_the_same_tokens(table):
    rec = {"model": "claude-haiku-4-5-20251001", "input_tokens": 1_000_000, "output_tokens": 0,
           "baseline_model": "claude-opus-4-8"}
    prices.price_record(rec, None, table)
    assert rec["cost_usd"] == pytest.approx(1.0)
    assert rec["baseline_cost_usd"] == pytest.approx(5.0)


def test_parts_with_their_own_models(table):
    parts = [part("claude-sonnet-5", i=1_000_000), part("claude-haiku-4-5", o=1_000_000)]
    rec = prices.price_record({"model": "claude-sonnet-5", "input_tokens": 1_000_000,
                               "output_tokens": 1_000_000}, parts, table)
    assert rec["computed_cost_usd"] == pytest.approx(3.0 + 5.0)


def test_import_litellm_fixture(cfg, tmp_path):
    dest = tmp_path / "prices.json"
    result = prices.import_litellm(data_path("litellm-small.json"), cfg, dest=str(dest))
    doc = json.loads(dest.read_text())
    models = doc["models"]
    # per-token -> per-million, bare key wins over the provider-prefixed duplicate
    assert models["claude-sonnet-5"] == {"input": 2.0, "output": 10.0, "cache_read": 0.2,
                                         "cache_write": 2.5}
    # an alias of a configured model is stored under the configured id
    assert models["claude-haiku-4-5-20251001"]["input"] == 1.0
    # tiers kept, the 1-hour cache price and priority/flex prices ignored
    assert models["claude-sonnet-4-5"]["input_above_200k"] == 6.0
    assert models["claude-sonnet-4-5"]["cache_write_above_200k"] == 7.5
    assert not any("1hr" in k for row in models.values() for k in row)
    assert models["gpt-5.5"] == {"input": 5.0, "output": 30.0, "cache_read": 0.5,
                                 "input_above_272k": 10.0, "output_above_272k": 45.0}
    for skipped in ("gpt-image-1", "text-embedding-3-small", "anthropic.claude-x", "dall-e-3",
                    "sample_spec"):
        assert skipped not in models
    assert result["rows"] == len(models)
    assert set(result["changed"]) == {"claude-sonnet-5", "gpt-5.5"}
    assert os.stat(dest).st_mode & 0o777 == 0o600


def test_imported_prices_win_over_the_config(cfg):
    prices.import_litellm(data_path("litellm-small.json"), cfg)
    table = prices.load_table(cfg)
    assert table["version"].startswith("imported-")
    row = prices.lookup(table, "sonnet")
    assert row["base"]["input"] == 2.0 and row["source"] == "imported"
    # models the import did not cover keep the config's prices
    assert prices.lookup(table, "claude-opus-4-8")["source"] == "config"
    # a model only LiteLLM knows is priced too
    usd, _ = prices.cost([part("claude-sonnet-4-5", i=100_000)], None, table)
    assert usd == pytest.approx(0.3)


def test_shipped_snapshot_imports_and_covers_the_defaults(cfg):
    result = prices.import_litellm(prices.snapshot_file(), cfg)
    table = prices.load_table(cfg)
    assert result["rows"] >= 20
    assert table["version"] == "imported-2026-12-06:" + table["version"].split(":")[1]
    for model in ("claude-opus-4-8", "claude-sonnet-5", "claude-haiku-4-5-20251001",
                  "claude-fable-5", "gpt-5-mini", "gpt-5.5", "gpt-4o", "gpt-4o-mini", "o3"):
        assert prices.lookup(table, model)["source"] == "imported", model


def test_config_and_package_snapshots_are_identical():
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(repo, "config", prices.SNAPSHOT_NAME), "rb") as a, \
            open(prices.snapshot_file(), "rb") as b:
        assert a.read() == b.read()


@pytest.mark.parametrize("content", ["not json", "[1, 2]", '{"x": {"mode": "chat"}}'])
def test_import_rejects_unusable_files(cfg, tmp_path, content):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    with pytest.raises(errors.ShimError):
        prices.import_litellm(str(bad), cfg)
