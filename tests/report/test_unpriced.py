"""A model with tokens but no price is named under the report with a hint, never summed as $0
silently (issue 17)."""

RANGE = ("--since", "2026-03-01", "--until", "2026-03-05", "--tz", "UTC")


def _fill(store):
    store.add("2026-03-02 10:00", model="claude-sonnet-5", cost_usd=1.5, input_tokens=10)
    for _ in range(2):
        store.add("2026-03-02 11:00", model="my-router-model", cost_usd=None,
                  cost_source="unknown", input_tokens=100, output_tokens=5)
    store.add("2026-03-03 11:00", model="other-new-model", cost_usd=None,
              cost_source="unknown", input_tokens=1)
    # no tokens at all (the usage was never found): not a missing price
    store.add("2026-03-03 12:00", model="claude-opus-4-8", cost_usd=None,
              cost_source="unknown", input_tokens=None, output_tokens=None)
    # outside the range, and a blocked call
    store.add("2026-04-01 11:00", model="far-away", cost_usd=None, input_tokens=1)
    store.add("2026-03-03 13:00", model="blocked-model", cost_usd=None, input_tokens=1,
              blocked=1)


def test_unpriced_models_are_named_with_a_hint(store, report):
    _fill(store)
    code, text, _ = report(*RANGE, "--no-chart")
    assert code == 0
    note = next(line for line in text.splitlines() if line.startswith("note: no price for"))
    assert "my-router-model (2 attempts)" in note and "other-new-model (1 attempt)" in note
    assert note.index("my-router-model") < note.index("other-new-model")  # most first
    assert "llm-shim prices update" in note and "models:" in note
    for absent in ("claude-opus-4-8", "far-away", "blocked-model", "claude-sonnet-5"):
        assert absent not in note


def test_model_filter_applies_to_the_note(store, report):
    _fill(store)
    _, text, _ = report(*RANGE, "--no-chart", "--model", "other-new-model")
    assert "other-new-model (1 attempt)" in text and "my-router-model" not in text


def test_json_keeps_its_schema(store, report):
    _fill(store)
    code, doc, err = report(*RANGE, "--json")
    assert code == 0 and "_unpriced" not in doc and err == ""
    assert doc["totals"]["unknown_cost_attempts"] == 4


def test_no_note_when_everything_is_priced(store, report):
    store.add("2026-03-02 10:00", model="claude-sonnet-5", cost_usd=1.5, input_tokens=10)
    _, text, err = report(*RANGE, "--no-chart")
    assert "no price" not in text and err == ""
