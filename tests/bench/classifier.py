#!/usr/bin/env python3
"""Classifier benchmark (not a test): where prompts go, and what it costs.

  0. The learned router (issue 18) on the held-out split of tests/data/routing/labelled.jsonl:
     share per tier and agreement with the labels for several `strong_share` values, and its
     cost per call (the keyword features it reads plus its own), next to the keyword
     classifier's. MT-Bench is deliberately not run through the learned router: an
     independent evaluation uses it.

  1. MT-Bench first turns (80 prompts, 8 categories; lm-sys/FastChat, Apache-2.0; see
     tests/data/routing/README.md): how many of each category go to each class.
  2. Coding-agent prompts written for llm-shim and labelled by hand: the tuning set (the
     keyword weights were adjusted on it, so its score is optimistic) and a hold-out set
     written before the last adjustments and not tuned on.
  3. Cost: CPU time per call for a 10 KB prompt and some adversarial shapes, as the minimum
     over repeats, next to a calibration workload so figures from a loaded machine can be read.

Target (issue 5): under 1 ms per 10 KB prompt. Usage:
  .venv/bin/python tests/bench/classifier.py [--json] [--show-misses] [--thresholds 1,4]
"""

import argparse
import collections
import json
import os
import sys
import time
import timeit

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)
DATA = os.path.join(REPO, "tests", "data", "routing")

from shim import paths  # noqa: E402
from shim.routing import classify as classifier  # noqa: E402
from shim.routing import evaluate, router  # noqa: E402
from shim.routing.classify import COMPLEXITIES, classify  # noqa: E402

SHARES = (0.2, 0.3, 0.35, 0.4, 0.5)


def rows(name):
    with open(os.path.join(DATA, name), encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def distribution(prompts, thresholds):
    table = collections.OrderedDict()
    for row in prompts:
        verdict = classify(row["prompt"], thresholds=thresholds)
        table.setdefault(row["category"], collections.Counter())[verdict["complexity"]] += 1
    return table


def accuracy(prompts, thresholds, show_misses=False):
    confusion = collections.Counter()
    misses = []
    for row in prompts:
        verdict = classify(row["prompt"], thresholds=thresholds)
        confusion[(row["expected"], verdict["complexity"])] += 1
        if verdict["complexity"] != row["expected"]:
            misses.append((row["expected"], verdict["complexity"], verdict["score"],
                           row["prompt"][:70].replace("\n", " "), verdict["why"]))
    right = sum(n for (want, got), n in confusion.items() if want == got)
    if show_misses:
        for miss in misses:
            print("  miss: expected %s, got %s (score %d): %s\n        %s" % (
                miss[0], miss[1], miss[2], miss[3], "; ".join(miss[4])))
    return right, len(prompts), confusion


def cpu_ms(func, number, repeat=9):
    """(minimum, median) CPU time per call in ms over `repeat` rounds (process time:
    preemption by other processes is not counted, which wall-clock time on a shared machine
    would). The minimum is the cost itself; the median, what a typical call sees."""
    timer = timeit.Timer(func, timer=time.process_time)
    rounds = sorted(t / number * 1000 for t in timer.repeat(number=number, repeat=repeat))
    return rounds[0], rounds[len(rounds) // 2]


def cost_cases():
    coding = "\n\n".join(r["prompt"] for r in rows("coding_prompts.jsonl"))
    mt = "\n\n".join(r["prompt"] for r in rows("mt_bench_first_turns.jsonl"))
    return [
        ("10 KB coding prompts", (coding * 3)[:10240]),
        ("10 KB MT-Bench prose", (mt * 2)[:10240]),
        ("10 KB distinct numbers", " ".join(str(i) for i in range(3000))[:10240]),
        ("10 KB non-ASCII", "Erkläre die Architektur, 日本語のテキスト。 " * 300)[:10240],
        ("100 KB log paste", ("ERROR worker.py:88 job failed, retrying in 5s\n" * 2300)[:102400]),
        ("1 MB single word", "x" * (1 << 20)),
        ("short prompt", "rename the variable x to count"),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--show-misses", action="store_true", help="list misclassified prompts")
    parser.add_argument("--thresholds", help="standard,complex score thresholds (default 1,4)")
    args = parser.parse_args()
    thresholds = None
    if args.thresholds:
        standard, complex_ = (int(x) for x in args.thresholds.split(","))
        thresholds = {"standard": standard, "complex": complex_}

    result = {"thresholds": thresholds or "default"}
    heldout = [r for r in rows("labelled.jsonl") if r["split"] == "test"]
    result["learned_heldout"] = {str(share): evaluate.evaluate(heldout, share) for share in SHARES}
    mt = distribution(rows("mt_bench_first_turns.jsonl"), thresholds)
    result["mt_bench"] = {cat: {c: counts.get(c, 0) for c in COMPLEXITIES} for cat, counts in mt.items()}
    for name, key in (("coding_prompts.jsonl", "tuning"), ("coding_prompts_holdout.jsonl", "holdout")):
        if not args.json:
            print("%s set (%s):" % (key, name))
        right, total, confusion = accuracy(rows(name), thresholds, args.show_misses and not args.json)
        result[key] = {"right": right, "total": total,
                       "confusion": {"%s->%s" % k: v for k, v in sorted(confusion.items())}}

    calibration = cpu_ms(lambda: sum(range(100000)), 20)[0]
    result["calibration_ms_sum_range_1e5"] = round(calibration, 3)
    result["index_build_ms"] = round(cpu_ms(classifier._build_index, 50)[0], 4)
    result["cost_ms"], result["cost_ms_median"] = {}, {}
    result["learned_ms"], result["learned_ms_median"] = {}, {}
    router.route("warm up")  # load the weights outside the timing
    for label, text in cost_cases():
        classify(text)  # build the keyword index outside the timing
        number = 20 if len(text) > 200000 else 100
        low, median = cpu_ms(lambda: classify(text), number)
        result["cost_ms"][label] = round(low, 4)
        result["cost_ms_median"][label] = round(median, 4)
        low, median = cpu_ms(lambda: router.route(text), number)
        result["learned_ms"][label] = round(low, 4)
        result["learned_ms_median"][label] = round(median, 4)
    with open(paths.package_data(router.MODEL_FILE), "rb") as fh:
        blob = fh.read()
    import marshal
    result["learned_load_ms"] = round(cpu_ms(lambda: marshal.loads(blob), 50)[0], 4)
    result["learned_file_bytes"] = len(blob)

    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    print("Learned router, held-out split (%d prompts):" % len(heldout))
    print("  strong_share  cheap  standard  premium  agreement  cheap-vs-not")
    for share, part in result["learned_heldout"].items():
        print("  %-12s %5.1f%% %8.1f%% %7.1f%% %9.1f%% %12.1f%%" % (
            share, *(100 * part["share"][t] for t in evaluate.TIERS), 100 * part["agreement"],
            100 * part["agreement_up"]))
    print("\nMT-Bench first turns, keyword classifier, class by category (simple / standard / complex):")
    for cat, counts in result["mt_bench"].items():
        print("  %-11s %2d / %2d / %2d" % (cat, counts["simple"], counts["standard"], counts["complex"]))
    for key in ("tuning", "holdout"):
        part = result[key]
        print("%s set: %d/%d right; %s" % (key, part["right"], part["total"],
                                            ", ".join("%s %d" % kv for kv in part["confusion"].items())))
    print("\nCPU ms per call, min / median of 9 rounds; calibration sum(range(1e5)) = %.2f ms"
          % calibration)
    print("  %-24s %-15s %s" % ("", "keyword", "learned router (includes the keyword features)"))
    for label, ms in result["cost_ms"].items():
        print("  %-24s %.3f / %.3f   %.3f / %.3f" % (label, ms, result["cost_ms_median"][label],
                                                   result["learned_ms"][label],
                                                   result["learned_ms_median"][label]))
    print("  %-24s %.3f (%d bytes)" % ("load the weights (once)", result["learned_load_ms"],
                                       result["learned_file_bytes"]))
    print("  %-24s %.3f" % ("keyword index (once)", result["index_build_ms"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
