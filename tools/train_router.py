#!/usr/bin/env python3
"""Train the learned router and write shim/data/router-weights.marshal (issue 18).

Pure Python, deterministic (fixed seed, fixed order), not run at install. Reads
tests/data/routing/labelled.jsonl (written by tools/gen_routing_set.py), trains a logistic
regression on the `train` split for "needs more than the cheap tier" (label standard or
premium), with the features of shim.routing.router, prunes small weights, and stores the
sorted scores of the held-out split (the `strong_share` knob picks its thresholds from them)
and the premium share of non-cheap training labels (the second threshold).

It prints the held-out figures docs/routing.md quotes, and a stricter one: agreement when whole
templates are held out (5-fold cross-validation by `group`), since held-out prompts share
templates with training prompts.

Usage: .venv/bin/python tools/train_router.py [--check]   (--check: train, compare, write nothing)
"""

import argparse
import json
import marshal
import os
import random
import sys
import zlib

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from shim import paths  # noqa: E402
from shim.routing import evaluate, router  # noqa: E402

DATA = os.path.join(REPO, "tests", "data", "routing", "labelled.jsonl")
SEED = 18
EPOCHS = 40
LEARNING_RATE = 0.5
L2 = 1e-4            # on named features
L2_GRAM = 1e-4       # on hashed grams
KEEP = 1500          # largest weights kept (by magnitude); the rest are dropped
MIN_WEIGHT = 1e-3


def vectors(rows):
    """Per row: {feature key: value}; grams hashed (CRC-32) and scaled by 1/sqrt(count), as
    router.raw_score does."""
    out = []
    for row in rows:
        grams, names = router.features(row["prompt"])
        scale = len(grams) ** -router.GRAM_SCALE_POWER if grams else 0.0
        vec = dict.fromkeys(router.gram_keys(grams), scale)
        vec.update(dict.fromkeys(names, 1.0))
        out.append(vec)
    return out


def train(vecs, targets):
    rng = random.Random(SEED)
    weights, bias = {}, 0.0
    order = list(range(len(vecs)))
    for epoch in range(EPOCHS):
        rng.shuffle(order)
        rate = LEARNING_RATE / (1.0 + 0.2 * epoch)
        for i in order:
            vec = vecs[i]
            z = bias + sum(weights.get(k, 0.0) * v for k, v in vec.items())
            z = max(-60.0, min(60.0, z))
            gradient = 1.0 / (1.0 + 2.718281828459045 ** -z) - targets[i]
            for k, v in vec.items():
                w = weights.get(k, 0.0)
                weights[k] = w - rate * (gradient * v + (L2_GRAM if isinstance(k, int) else L2) * w)
            bias -= rate * gradient
    return bias, weights


def prune(weights):
    kept = sorted(((k, w) for k, w in weights.items() if abs(w) >= MIN_WEIGHT),
                  key=lambda kw: (-abs(kw[1]), str(kw[0])))[:KEEP]
    return {k: round(w, 5) for k, w in kept}


def fit(rows, target):
    """{"bias", "weights"} for P(target(row)), trained on `rows`."""
    bias, weights = train(vectors(rows), [1.0 if target(r) else 0.0 for r in rows])
    return {"bias": round(bias, 5), "weights": prune(weights)}


def needs_more(row):
    return row["label"] != "cheap"


def needs_premium(row):
    return row["label"] == "premium"


def fit_both(rows):
    """The two parts: "up" on every row, "premium" on the rows labelled above cheap."""
    up = [r for r in rows if needs_more(r)]
    return fit(rows, needs_more), fit(up, needs_premium), \
        sum(map(needs_premium, up)) / len(up)


def scores(part, rows):
    return [router.raw_score(*router.features(r["prompt"]), part)[0] for r in rows]


def build(rows):
    train_rows = [r for r in rows if r["split"] == "train"]
    test_rows = [r for r in rows if r["split"] == "test"]
    up, premium, ratio = fit_both(train_rows)
    model = {"format": router.MODEL_FORMAT, "up": up, "premium": premium,
             "premium_ratio": round(ratio, 4),
             "heldout_scores": sorted(round(s, 6) for s in scores(up, test_rows)),
             "heldout_premium_scores": sorted(round(s, 6) for s in scores(
                 premium, [r for r in test_rows if needs_more(r)])),
             "trained_on": "tests/data/routing/labelled.jsonl: %d train, %d held out" % (
                 len(train_rows), len(test_rows))}
    return model, test_rows


def grouped_cv(rows, share, folds=5):
    """Agreement when whole templates are unseen: train on 4/5 of the groups, route the rest
    with thresholds from that fold's own scores."""
    right = right_up = total = 0
    for fold in range(folds):
        held = [r for r in rows if zlib.crc32(r["group"].encode()) % folds == fold]
        rest = [r for r in rows if zlib.crc32(r["group"].encode()) % folds != fold]
        up, premium_part, ratio = fit_both(rest)
        up_scores = scores(up, held)
        premium_scores = scores(premium_part, held)
        standard = router.quantile(sorted(up_scores), share)
        premium = router.quantile(sorted(
            s for r, s in zip(held, premium_scores) if needs_more(r)), ratio)
        for row, score, second in zip(held, up_scores, premium_scores):
            tier = "cheap" if score < standard else "premium" if second >= premium else "standard"
            right += tier == row["label"]
            right_up += (tier == "cheap") == (row["label"] == "cheap")
            total += 1
    return right / total, right_up / total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="train and compare with the shipped file; write nothing")
    parser.add_argument("--cv", action="store_true", help="also run the grouped cross-validation")
    args = parser.parse_args()
    with open(DATA, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    model, test_rows = build(rows)
    blob = marshal.dumps(model, 4)
    target = paths.package_data(router.MODEL_FILE)
    if args.check:
        with open(target, "rb") as fh:
            same = fh.read() == blob
        print("up to date" if same else "differs: re-run tools/train_router.py")
        return 0 if same else 1
    with open(target, "wb") as fh:
        fh.write(blob)
    router._model = None
    print("wrote %s: %d weights, %d bytes" % (os.path.relpath(target, REPO), len(model["up"]["weights"]) + len(model["premium"]["weights"]),
                                              len(blob)))
    print("\nheld-out set (%d prompts):" % len(test_rows))
    print("| strong_share | cheap | standard | premium | agreement | cheap vs not |")
    print("|---|---|---|---|---|---|")
    for share in (0.2, 0.3, 0.35, 0.4, 0.5, 0.6):
        result = evaluate.evaluate(test_rows, share)
        print("| %.2f | %.0f%% | %.0f%% | %.0f%% | %.1f%% | %.1f%% |" % (
            share, *(100 * result["share"][t] for t in evaluate.TIERS),
            100 * result["agreement"], 100 * result["agreement_up"]))
    print()
    print(evaluate.format_report(evaluate.evaluate(test_rows, 0.35)))
    if args.cv:
        agreement, up = grouped_cv(rows, 0.35)
        print("templates held out whole (5-fold by group, strong_share 0.35): "
              "agreement %.1f%%, cheap vs not %.1f%%" % (100 * agreement, 100 * up))
    return 0


if __name__ == "__main__":
    sys.exit(main())
