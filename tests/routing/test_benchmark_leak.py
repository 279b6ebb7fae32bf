"""The labelled set must not contain public benchmark items, not even paraphrased (issue 18: an
independent evaluation uses MT-Bench, MMLU and GSM8K, so the router must never see them).

An exact-match check misses a paraphrase ("Omar has 3 brothers. Each brother has 2 sisters" is
MT-Bench 104 with the sexes swapped), so each famous item is written down as the key phrases any
paraphrase keeps: a rule is a tuple of normalised fragments that must all occur in one prompt.
A fragment matches at the start of a word and may run on ("brother" matches "brothers").
"""

import json
import os
import re

import pytest

from tests.support.configs import DATA

# (source, fragments): a prompt that contains every fragment paraphrases that item.
KNOWN = [
    # MT-Bench (lm-sys/FastChat question.jsonl, questions 81-160), by question id
    ("mt-bench 81", ("hawaii",)), ("mt-bench 81", ("travel blog",)),
    ("mt-bench 82", ("quarterly financial report",)),
    ("mt-bench 83", ("smartphone", "blog post")),
    ("mt-bench 84", ("introverted",)), ("mt-bench 84", ("guest speaker",)),
    ("mt-bench 85", ("vivid and unique character",)),
    ("mt-bench 86", ("bustling marketplace",)),
    ("mt-bench 87", ("abandoned house",)),
    ("mt-bench 88", ("wakes up", "time travel")),
    ("mt-bench 89", ("bio energy",)),
    ("mt-bench 90", ("remembre",)), ("mt-bench 90", ("where is her purse",)),
    ("mt-bench 91", ("elon musk",)),
    ("mt-bench 92", ("sheldon",)), ("mt-bench 92", ("hand dryer",)),
    ("mt-bench 93", ("remedies", "ailments")),
    ("mt-bench 94", ("relationship coach",)),
    ("mt-bench 95", ("english translator",)),
    ("mt-bench 96", ("machine learning engineer",)),
    ("mt-bench 97", ("math teacher",)), ("mt-bench 97", ("maths teacher",)),
    ("mt-bench 98", ("tony stark",)), ("mt-bench 98", ("iron man",)),
    ("mt-bench 99", ("square root of", "irrational")), ("mt-bench 99", ("sqrt", "irrational")),
    ("mt-bench 100", ("deforester",)), ("mt-bench 100", ("old tree",)),
    ("mt-bench 100", ("years old tree",)),
    ("mt-bench 101", ("overt", "second person")),
    ("mt-bench 102", ("white house", "greenhouse")),
    ("mt-bench 103", ("healthy", "hospital")),
    ("mt-bench 104", ("sister", "brother", "how many")),
    ("mt-bench 105", ("parking spaces", "executives")),
    ("mt-bench 106", ("oranges cost more than apples",)), ("mt-bench 106", ("true false or uncertain",)),
    ("mt-bench 107", ("is the father of", "relationship between")),
    ("mt-bench 108", ("does not belong",)), ("mt-bench 108", ("doesn t belong",)),
    ("mt-bench 109", ("shadow", "pole")),
    ("mt-bench 110", ("recess",)),
    ("mt-bench 111", ("vertices of a triangle",)), ("mt-bench 111", ("area of the triangle",)),
    ("mt-bench 112", ("startup invests",)), ("mt-bench 112", ("software development", "invest")),
    ("mt-bench 113", ("school color",)), ("mt-bench 113", ("school colour",)),
    ("mt-bench 114", ("two dice", "at least 3")),
    ("mt-bench 115", ("bus stop", "got")), ("mt-bench 115", ("bus", "terminal")),
    ("mt-bench 116", ("x y 4z",)), ("mt-bench 116", ("4z 2",)),
    ("mt-bench 117", ("x 5 10",)), ("mt-bench 117", ("integers in the solution",)),
    ("mt-bench 118", ("divided by 10", "remainder")), ("mt-bench 118", ("remainder", "twice the number")),
    ("mt-bench 119", ("bookstore", "copies")),
    ("mt-bench 120", ("4x 3 9x 14",)),
    ("mt-bench 121", ("most frequent words",)), ("mt-bench 121", ("top 5 words",)),
    ("mt-bench 121", ("text files", "occurrences")),
    ("mt-bench 122", ("fibonacci",)),
    ("mt-bench 123", ("random joke",)),
    ("mt-bench 124", ("longest common subsequence",)),
    ("mt-bench 125", ("common ancestor",)),
    ("mt-bench 126", ("median of two sorted",)),
    ("mt-bench 127", ("majority element",)), ("mt-bench 127", ("boyer moore",)),
    ("mt-bench 128", ("full binary tree",)),
    ("mt-bench 129", ("kth smallest",)), ("mt-bench 129", ("k th smallest",)),
    ("mt-bench 130", ("common elements in two arrays",)),
    ("mt-bench 130", ("without using any extra data structure",)),
    ("mt-bench 131", ("movie reviews",)),
    ("mt-bench 132", ("literature history science and art",)),
    ("mt-bench 133", ("name of the book", "main character")),
    ("mt-bench 134", ("highest profit", "ceo")),
    ("mt-bench 135", ("countries", "capitals", "languages")),
    ("mt-bench 136", ("amazon", "river", "how many times")),
    ("mt-bench 137", ("named entities",)),
    ("mt-bench 138", ("samsung galaxy",)), ("mt-bench 138", ("google pixel",)),
    ("mt-bench 139", ("unique variable names",)),
    ("mt-bench 140", ("closing prices",)), ("mt-bench 140", ("stock prices", "highest and lowest")),
    ("mt-bench 141", ("superposition", "entanglement")),
    ("mt-bench 142", ("satellite", "orbit")),
    ("mt-bench 143", ("photosynthesis",)),
    ("mt-bench 144", ("central dogma",)),
    ("mt-bench 145", ("calcium carbonate",)),
    ("mt-bench 146", ("exothermic", "endothermic")),
    ("mt-bench 147", ("seismic", "bridge")), ("mt-bench 147", ("vegona",)),
    ("mt-bench 148", ("solar powered water heating",)),
    ("mt-bench 149", ("supervised", "unsupervised", "reinforcement")),
    ("mt-bench 150", ("alps", "rhine")),
    ("mt-bench 151", ("fiscal", "monetary")), ("mt-bench 151", ("gdp", "inflation", "unemployment")),
    ("mt-bench 152", ("stages of life", "mortality")),
    ("mt-bench 153", ("antitrust",)),
    ("mt-bench 154", ("opium wars",)), ("mt-bench 154", ("lesson plan", "drama")),
    ("mt-bench 155", ("art masterpieces",)),
    ("mt-bench 156", ("base rate fallacy",)),
    ("mt-bench 157", ("evaluating an argument",)), ("mt-bench 157", ("analytical writing",)),
    ("mt-bench 158", ("socrates",)),
    ("mt-bench 159", ("business etiquette",)), ("mt-bench 159", ("doing business in japan",)),
    ("mt-bench 160", ("documentary films",)), ("mt-bench 160", ("documentaries", "filmmakers")),
    # GSM8K: the famous items of its train and test splits, by their names and numbers
    ("gsm8k natalia", ("natalia", "clips")), ("gsm8k natalia", ("48 of her friends",)),
    ("gsm8k weng", ("weng",)), ("gsm8k weng", ("babysitting", "50 minutes")),
    ("gsm8k betty", ("betty", "wallet")),
    ("gsm8k julie", ("julie", "120 page")), ("gsm8k julie", ("120 page book",)),
    ("gsm8k james letters", ("3 page letter",)),
    ("gsm8k janet", ("janet", "ducks")), ("gsm8k janet", ("16 eggs",)),
    ("gsm8k robe", ("bolts of blue fiber",)), ("gsm8k robe", ("robe", "bolts")),
    ("gsm8k josh", ("flipping", "house")), ("gsm8k josh", ("80 000", "repairs")),
    ("gsm8k james sprints", ("sprints", "times a week")),
    ("gsm8k wendi", ("wendi",)), ("gsm8k kylar", ("kylar",)), ("gsm8k toulouse", ("toulouse", "sheep")),
    ("gsm8k carla", ("carla", "200 gb")),
    ("gsm8k albert", ("albert", "pizza")),
    ("gsm8k ken", ("care package",)),
    ("gsm8k alexis", ("alexis", "business clothes")),
    ("gsm8k tina", ("tina", "overtime")),
    # MMLU: its statement-pair format and a few famous first items
    ("mmlu statements", ("statement 1", "statement 2")),
    ("mmlu abstract_algebra", ("field extension",)),
    ("mmlu abstract_algebra", ("is a field", "z 3")),
    ("mmlu anatomy", ("hyoid bone",)),
    # Cognitive Reflection Test (used by LLM evaluations too)
    ("crt bat and ball", ("bat and a ball",)),
    ("crt lily pads", ("lily pad",)),
    ("crt widgets", ("widgets", "machines", "minutes")),
    ("crt widgets", ("cats", "mice", "minutes")),   # the older form of the same item (L. Carroll)
]

# MMLU-style items: a question followed by four lettered options.
FOUR_OPTIONS = re.compile(r"(?s)(?:^|\W)\(?A[).:]\s.+?\(?B[).:]\s.+?\(?C[).:]\s.+?\(?D[).:]\s")


def normalise(text):
    """Lower case, every run of non-alphanumerics one space, padded: ' word word '."""
    return " %s " % " ".join(re.sub(r"[^0-9a-z]+", " ", text.lower()).split())


def matches(prompt):
    """The known items the prompt contains the key phrases of."""
    text = normalise(prompt)
    hits = [source for source, fragments in KNOWN
            if all(" " + normalise(f).strip() in text for f in fragments)]
    if FOUR_OPTIONS.search(prompt):
        hits.append("four-option multiple choice (MMLU style)")
    return hits


def _labelled():
    with open(os.path.join(DATA, "labelled.jsonl"), encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def test_no_labelled_prompt_paraphrases_a_known_benchmark_item():
    found = {row["id"]: matches(row["prompt"]) for row in _labelled()}
    found = {k: v for k, v in found.items() if v}
    assert not found, found


def test_every_mt_bench_question_is_caught_by_a_rule():
    """The rules are alive: each of the 80 MT-Bench first turns trips one of its own rules."""
    with open(os.path.join(DATA, "mt_bench_first_turns.jsonl"), encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    assert len(rows) == 80
    missed = [r["question_id"] for r in rows
              if "mt-bench %d" % r["question_id"] not in matches(r["prompt"])]
    assert not missed


@pytest.mark.parametrize("prompt, source", [
    ("Omar has 3 brothers. Each brother has 2 sisters. How many sisters does Omar have?", "mt-bench 104"),
    ("Prove that the square root of 7 is irrational.", "mt-bench 99"),
    ("Write a Python function that returns the nth Fibonacci number without recursion.", "mt-bench 122"),
    ("Pretend you are a wise old tree and tell me about your day.", "mt-bench 100"),
    ("Explain photosynthesis in simple terms.", "mt-bench 143"),
    ("Natalia sold clips to 48 of her friends in April.", "gsm8k natalia"),
    ("A bat and a ball cost 1.10 in total.", "crt bat and ball"),
    ("3 cats catch 3 mice in 3 minutes. How many cats catch 100 mice in 100 minutes?", "crt widgets"),
    ("Which is a prime?\nA) 4\nB) 6\nC) 7\nD) 9", "four-option multiple choice (MMLU style)"),
])
def test_paraphrases_are_caught(prompt, source):
    assert source in matches(prompt)


@pytest.mark.parametrize("prompt", [
    "Ravi cuts a 12-metre ribbon into 3-metre pieces, one cut a minute. How many minutes until she is done?",
    "How do I get a token for the care API?",      # "ken" must not match inside "token"
    "Write a haiku about public transport.",
])
def test_ordinary_prompts_are_not_flagged(prompt):
    assert matches(prompt) == []
