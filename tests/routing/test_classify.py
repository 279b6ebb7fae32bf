"""The complexity classifier: each feature moves the score the documented way."""

import json
import os

import pytest

from shim.routing.classify import classify
from tests.support.configs import DATA


def test_none_prompt():
    assert classify(None) is None


@pytest.mark.parametrize("prompt, complexity", [
    ("say hi", "simple"),
    ("What is the capital of Australia?", "simple"),
    ("rename the variable x to count", "simple"),
    ("Implement a small LRU cache class in Python with get and put methods.", "standard"),
    ("Prove that every bipartite graph is 2-colourable.", "complex"),
    ("We have a race condition in src/worker.py and src/queue.py: find the root cause.", "complex"),
])
def test_examples(prompt, complexity):
    assert classify(prompt)["complexity"] == complexity


def test_code_blocks_and_file_refs_raise_the_score():
    base = classify("Look at this and tell me what you think")["score"]
    with_code = classify("Look at this and tell me what you think\n```python\nx = 1\n```")["score"]
    with_files = classify("Look at src/app.py, lib/util.ts and README.md and tell me what you think")
    assert with_code > base
    assert with_files["score"] > base
    assert with_files["features"]["file_refs"] == ["README.md", "lib/util.ts", "src/app.py"]


def test_urls_are_not_file_refs():
    assert classify("see https://example.com/docs/index.html")["features"]["file_refs"] == []


def test_length_raises_the_score():
    short = classify("Summarise the notes.")["score"]
    long = classify("Summarise the notes. " + "The meeting covered the roadmap. " * 300)["score"]
    assert long >= short + 3


def test_keywords_are_whole_words_and_phrases():
    assert "debugging" not in classify("a ladybug landed on the table")["features"]["keywords"]
    assert classify("please start refactoring this module")["features"]["keywords"]["refactoring"] == ["refactoring"]
    assert classify("explain it step-by-step")["features"]["keywords"]["reasoning"] == ["step by step"]
    # A phrase needs its words next to each other, in order.
    assert "reasoning" not in classify("one step, then by the next step")["features"]["keywords"]


def test_continued_conversation():
    assert classify("and now?", resume=True)["score"] == classify("and now?")["score"] + 1


def test_trivial_signals_only_count_in_short_prompts():
    long = "What is wrong here? " + "The service returns errors under load. " * 10
    assert "trivial" not in " ".join(classify(long)["why"])


def test_thresholds_are_configurable():
    prompt = "Implement a small LRU cache class in Python with get and put methods."
    assert classify(prompt)["complexity"] == "standard"
    assert classify(prompt, thresholds={"standard": 5, "complex": 9})["complexity"] == "simple"


def test_large_prompts_are_sampled_but_length_counts_in_full():
    prompt = "Prove the lemma.\n" + "filler words here " * 20000
    verdict = classify(prompt)
    assert verdict["features"]["sampled"] is True
    assert verdict["features"]["chars"] == len(prompt)
    assert "proof" in verdict["features"]["keywords"]
    assert verdict["complexity"] == "complex"


def test_non_utf8_and_non_ascii_prompts():
    weird = b"fix the bug in caf\xe9.py \xff".decode("utf-8", "surrogateescape")
    verdict = classify(weird)
    assert verdict["features"]["keywords"]["debugging"] == ["bug"]
    assert classify("Erkläre mir bitte die Architektur 日本語")["complexity"] in ("simple", "standard", "complex")


def test_features_are_plain_and_explained():
    verdict = classify("Debug this:\n```\nTraceback (most recent call last):\n```")
    assert json.loads(json.dumps(verdict)) == verdict
    assert verdict["why"] and all(line[0] in "+-" for line in verdict["why"])


def _rows(name):
    with open(os.path.join(DATA, name), encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def test_tuning_set_regression_guard():
    rows = _rows("coding_prompts.jsonl")
    right = sum(classify(r["prompt"])["complexity"] == r["expected"] for r in rows)
    assert right >= 42, "%d/%d of the hand-labelled tuning set" % (right, len(rows))


def test_holdout_set_regression_guard():
    rows = _rows("coding_prompts_holdout.jsonl")
    right = sum(classify(r["prompt"])["complexity"] == r["expected"] for r in rows)
    assert right >= 14, "%d/%d of the hold-out set" % (right, len(rows))


def test_mt_bench_data_is_intact():
    rows = _rows("mt_bench_first_turns.jsonl")
    assert len(rows) == 80
    assert {r["category"] for r in rows} == {"writing", "roleplay", "reasoning", "math", "coding",
                                             "extraction", "stem", "humanities"}
