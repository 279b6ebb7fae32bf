"""Check the learned router against labelled prompts: confusion matrix, share per tier and
agreement. Used by `llm-shim route --eval FILE.jsonl`, tools/train_router.py and
tests/bench/classifier.py. Not on the hot path.
"""

from shim.routing import router

TIERS = router.TIERS
# Files labelled for the keyword score (tests/data/routing/coding_prompts*.jsonl) say
# "expected": simple|standard|complex; the router's tiers map onto those classes one to one.
COMPLEXITY_TO_TIER = {complexity: tier for tier, complexity in router.TIER_TO_COMPLEXITY.items()}


def read_jsonl(path):
    """[{"prompt", "label"}, ...] from a JSONL file; ValueError("LINE: why") on a bad line. A
    line without "label" may give the keyword score's class as "expected" instead."""
    import json

    rows = []
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise ValueError("line %d: not JSON (%s)" % (number, exc)) from None
            if not isinstance(row, dict) or not isinstance(row.get("prompt"), str):
                raise ValueError("line %d: expected an object with a string \"prompt\"" % number)
            if "label" not in row and "expected" in row:
                if row["expected"] not in tuple(COMPLEXITY_TO_TIER):  # a tuple: [] or {} give no TypeError
                    raise ValueError("line %d: \"expected\" must be one of %s, got %r" % (
                        number, ", ".join(COMPLEXITY_TO_TIER), row["expected"]))
                row = dict(row, label=COMPLEXITY_TO_TIER[row["expected"]])
            elif "label" not in row:
                raise ValueError("line %d: no \"label\" (%s) or \"expected\" (%s): --eval needs "
                                 "labelled prompts" % (number, "|".join(TIERS),
                                                       "|".join(COMPLEXITY_TO_TIER)))
            if row["label"] not in TIERS:
                raise ValueError("line %d: \"label\" must be one of %s, got %r" % (
                    number, ", ".join(TIERS), row["label"]))
            rows.append(row)
    if not rows:
        raise ValueError("no prompts in the file")
    return rows


def evaluate(rows, strong_share):
    """{"total", "strong_share", "thresholds", "confusion": {label: {tier: n}}, "share": {tier:
    fraction}, "agreement" (tier == label), "agreement_up" (cheap vs not cheap)}."""
    confusion = {label: dict.fromkeys(TIERS, 0) for label in TIERS}
    for row in rows:
        tier = router.route(row["prompt"], strong_share=strong_share)["route"]["tier"]
        confusion[row["label"]][tier] += 1
    total = len(rows)
    sent = {tier: sum(confusion[label][tier] for label in TIERS) for tier in TIERS}
    right = sum(confusion[tier][tier] for tier in TIERS)
    up_right = confusion["cheap"]["cheap"] + sum(
        confusion[label][tier] for label in TIERS[1:] for tier in TIERS[1:])
    return {
        "total": total,
        "strong_share": strong_share,
        "thresholds": router.thresholds(strong_share),
        "confusion": confusion,
        "share": {tier: round(sent[tier] / total, 4) for tier in TIERS},
        "agreement": round(right / total, 4),
        "agreement_up": round(up_right / total, 4),
    }


def format_report(result):
    """The result of evaluate() as a few lines for people."""
    width = max(len(t) for t in TIERS)
    lines = ["%d prompts, strong_share %s (thresholds: standard >= %.4f, premium >= %.4f)" % (
        result["total"], result["strong_share"], result["thresholds"]["standard"],
        result["thresholds"]["premium"]),
        "",
        "confusion (rows: label, columns: routed to)",
        "  %-*s  %s" % (width, "", "  ".join("%8s" % t for t in TIERS))]
    for label in TIERS:
        lines.append("  %-*s  %s" % (width, label, "  ".join(
            "%8d" % result["confusion"][label][tier] for tier in TIERS)))
    lines.append("")
    lines.append("share per tier: %s" % ", ".join(
        "%s %.1f%%" % (tier, 100 * result["share"][tier]) for tier in TIERS))
    lines.append("agreement: %.1f%% (tier equals label); %.1f%% (cheap vs not cheap)" % (
        100 * result["agreement"], 100 * result["agreement_up"]))
    return "\n".join(lines) + "\n"
