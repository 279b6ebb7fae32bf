"""The learned router (issue 18): its data, its model file, its knob, and what it decides."""

import json
import os
import subprocess
import sys
import zlib

import pytest

from shim import adapters, paths, routing
from shim.routing import classify, evaluate, router
from tests.support.configs import DATA, REPO

LABELLED = os.path.join(DATA, "labelled.jsonl")


def _rows(split=None):
    with open(LABELLED, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    return [r for r in rows if split is None or r["split"] == split]


# --- the labelled set --------------------------------------------------------------------------

def test_labelled_set_is_large_balanced_and_labelled():
    rows = _rows()
    assert len(rows) >= 800
    halves = {half: sum(r["half"] == half for r in rows) for half in ("coding", "general")}
    assert abs(halves["coding"] - halves["general"]) <= 0.05 * len(rows), halves
    assert {r["label"] for r in rows} == set(router.TIERS)
    assert all(r["reason"] and r["kind"] and r["group"] for r in rows)
    assert len({r["id"] for r in rows}) == len(rows)
    assert len({r["prompt"] for r in rows}) == len(rows)


def test_split_follows_the_fixed_rule():
    for row in _rows():
        expected = "test" if zlib.crc32(row["id"].encode()) % 5 == 0 else "train"
        assert row["split"] == expected, row["id"]
    assert 0.15 <= len(_rows("test")) / len(_rows()) <= 0.25


def test_no_public_benchmark_prompt_in_the_set():
    with open(os.path.join(DATA, "mt_bench_first_turns.jsonl"), encoding="utf-8") as fh:
        public = {json.loads(line)["prompt"].strip().lower() for line in fh}
    ours = {r["prompt"].strip().lower() for r in _rows()}
    assert not public & ours


def test_generator_reproduces_the_committed_file():
    proc = subprocess.run([sys.executable, os.path.join(REPO, "tools", "gen_routing_set.py"), "--check"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --- the model file ----------------------------------------------------------------------------

def test_model_loads_from_package_data():
    model = router.load()
    assert model["format"] == router.MODEL_FORMAT
    for part in ("up", "premium"):
        weights = model[part]["weights"]
        assert 100 < len(weights) <= 5000
        assert any(isinstance(k, int) for k in weights) and any(isinstance(k, str) for k in weights)
    assert model["heldout_scores"] == sorted(model["heldout_scores"])
    assert len(model["heldout_scores"]) == len(_rows("test"))
    assert os.path.isfile(paths.package_data(router.MODEL_FILE))
    with open(os.path.join(REPO, "pyproject.toml"), encoding="utf-8") as fh:
        assert '"data/*.marshal"' in fh.read()


def test_training_reproduces_the_shipped_weights():
    """The weights come from the data in the repo, deterministically (slow: trains twice)."""
    proc = subprocess.run([sys.executable, os.path.join(REPO, "tools", "train_router.py"), "--check"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_scores_are_deterministic_across_processes():
    prompt = "Fix the KeyError in src/api/users.py when the email is missing"
    code = ("import sys; sys.path.insert(0, %r); from shim.routing import router; "
            "print(router.route(%r)['route']['score'])" % (REPO, prompt))
    seen = set()
    for seed in ("0", "1", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        seen.add(out.stdout.strip())
    assert seen == {str(router.route(prompt)["route"]["score"])}


# --- the knob ----------------------------------------------------------------------------------

@pytest.mark.parametrize("share", [0.2, 0.35, 0.5])
def test_strong_share_sets_the_share_sent_up_on_the_held_out_set(share):
    result = evaluate.evaluate(_rows("test"), share)
    sent_up = result["share"]["standard"] + result["share"]["premium"]
    assert abs(sent_up - share) <= 0.02, result["share"]


def test_more_share_sends_more_up_and_zero_sends_nothing():
    prompts = [r["prompt"] for r in _rows("test")[:60]]
    def up(share):
        return sum(router.route(p, strong_share=share)["route"]["tier"] != "cheap" for p in prompts)
    assert up(0.0) == 0
    assert up(0.2) <= up(0.35) <= up(0.6)
    assert up(1.0) == len(prompts)


def test_held_out_agreement_beats_the_keyword_classifier():
    """Regression guard on the held-out split (docs/routing.md has the figures)."""
    rows = _rows("test")
    result = evaluate.evaluate(rows, 0.35)
    assert result["agreement"] >= 0.8, result
    old = {"simple": "cheap", "standard": "standard", "complex": "premium"}
    keyword = sum(old[classify.classify(r["prompt"])["complexity"]] == r["label"] for r in rows)
    assert result["agreement"] > keyword / len(rows) + 0.15


# --- what it decides (these fail for a length- or keyword-only router) ------------------------

SHORT_HARD = [
    "A shop sells pens at 3 for 2 euros. How much do 18 pens cost if every sixth pen is free?",
    "Lena is twice as old as Max. In 5 years their ages add up to 40. How old is Max now?",
    "How many handshakes happen when 12 people each shake hands once?",
    "prove that there are infinitely many primes",
]
LONG_EASY = [
    "Write a long, heartfelt essay about why autumn is the most beautiful season, touching on "
    "the colours of the leaves, the smell of woodsmoke, the return to school, harvest "
    "festivals, cosy evenings and the gentle melancholy of shorter days. Please make it "
    "flowing and personal, around 900 words, with vivid imagery and a warm ending that leaves "
    "the reader feeling grateful.",
    "Write a short essay about why the Pythagorean theorem is so famous and how it is taught "
    "in schools.",
    "Pretend you are a friendly robot and tell me a joke about the weather.",
]


@pytest.mark.parametrize("prompt", SHORT_HARD)
def test_short_exact_multi_step_prompts_go_up(prompt):
    assert router.route(prompt)["route"]["tier"] != "cheap"


@pytest.mark.parametrize("prompt", LONG_EASY)
def test_wordy_open_ended_prompts_stay_cheap(prompt):
    assert router.route(prompt)["route"]["tier"] == "cheap"


def test_not_decided_by_length():
    short_hard = min(map(len, SHORT_HARD))
    long_easy = max(map(len, LONG_EASY))
    assert long_easy > 3 * short_hard  # the cheap prompt is the longer one


def test_verdict_is_explained():
    verdict = router.route(SHORT_HARD[0])
    routed = verdict["route"]
    assert set(routed) == {"score", "premium_score", "tier", "thresholds", "strong_share", "kind",
                           "top_features"}
    assert 0.0 <= routed["score"] <= 1.0 and verdict["score"] == routed["score"]
    assert routed["kind"] == "compute"
    assert 1 <= len(routed["top_features"]) <= router.TOP_FEATURES
    assert "kind: compute" in [name for name, _ in routed["top_features"]]
    assert verdict["complexity"] == router.TIER_TO_COMPLEXITY[routed["tier"]]
    assert json.loads(json.dumps(verdict)) == verdict


def test_task_kinds():
    kinds = {
        "Prove that 7 is prime.": "prove",
        "Write a poem about the sea.": "write",
        "Write a Python function that parses dates.": "code",
        "What is the probability of two sixes?": "compute",
        "Pretend you are a pirate.": "chat",
        "Explain photosynthesis.": "recall",
        "Extract the dates from this text: ...": "extract",
        "rename x to y in src/app.py": "code",
    }
    for prompt, kind in kinds.items():
        assert router.route(prompt)["route"]["kind"] == kind, prompt


def test_huge_and_odd_prompts():
    huge = "Prove the lemma.\n" + "filler words here " * 60000
    assert router.route(huge)["route"]["tier"] in router.TIERS
    assert router.route("")["route"]["tier"] == "cheap"
    weird = b"fix the bug in caf\xe9.py \xff".decode("utf-8", "surrogateescape")
    assert router.route(weird)["route"]["tier"] in router.TIERS
    assert router.route(None) is None


# --- in the decision -------------------------------------------------------------------------------

def _decide(cfg, tool, args, agent="auto"):
    return routing.decide(adapters.parse(tool, args, cfg), cfg, agent, agent_reason="test")


def test_auto_agent_routes_with_the_learned_router(cfg):
    up = _decide(cfg, "claude", ["-p", SHORT_HARD[1]])
    assert up["route"]["tier"] != "cheap" and up["model"] != "claude-haiku-4-5-20251001"
    assert up["score"] == up["route"]["score"]
    assert any("strong_share 0.35" in r for r in up["reasons"])
    down = _decide(cfg, "claude", ["-p", LONG_EASY[0]])
    assert down["model"] == "claude-haiku-4-5-20251001" and down["route"]["tier"] == "cheap"


def test_a_pinned_model_is_never_overridden(cfg):
    decision = _decide(cfg, "claude", ["--model", "opus", "-p", LONG_EASY[0]])
    assert decision["argv"] == ["--model", "opus", "-p", LONG_EASY[0]]
    assert decision["route"]["tier"] == "cheap"  # scored, but the pin wins
    decision = _decide(cfg, "codex", ["exec", "-m", "gpt-5-mini", SHORT_HARD[3]])
    assert decision["argv"] == ["exec", "-m", "gpt-5-mini", SHORT_HARD[3]]


def test_agent_strong_share_overrides_the_policy(config):
    cfg = config({"agents": {"stingy": {"cost_optimization": {"strong_share": 0}}}})
    decision = _decide(cfg, "claude", ["-p", SHORT_HARD[0]], "stingy")
    assert decision["route"]["tier"] == "cheap" and decision["model"] == "claude-haiku-4-5-20251001"


def test_strong_share_null_falls_back_to_the_keyword_score(config):
    cfg = config({"policies": {"cost_optimization": {"strong_share": None}}})
    decision = _decide(cfg, "claude", ["-p", SHORT_HARD[0]])
    assert decision["route"] is None
    assert decision["complexity"] == classify.classify(SHORT_HARD[0])["complexity"]


def test_a_damaged_model_file_falls_back_with_a_reason(cfg, tmp_path, monkeypatch):
    bad = tmp_path / "data"
    bad.mkdir()
    (bad / router.MODEL_FILE).write_bytes(b"\x00not marshal")
    monkeypatch.setattr(router, "_model", None)
    monkeypatch.setattr(router.paths, "package_data", lambda name: str(bad / name))
    decision = _decide(cfg, "claude", ["-p", SHORT_HARD[0]])
    assert decision["route"] is None
    assert decision["model"] is not None  # the keyword score still chose a tier
    assert any("learned router unavailable" in r for r in decision["reasons"])
