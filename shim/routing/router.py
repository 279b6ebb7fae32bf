"""The learned router: how likely a cheap model's answer is worse than a strong model's.

A logistic regression over binary features a person can read back: hashed words, character
4-grams at word edges (`<prov`, `ular>`), the first word (`^rename`), the explainable
features of shim.routing.classify (code blocks, file references, keyword groups, list items,
questions, a continued conversation), numbers and operators, constraint words ("exactly",
"must"), the length band and the task kind (prove, compute, code, extract, write, chat,
recall). The weights live in shim/data/router-weights.marshal, written by
tools/train_router.py from tests/data/routing/labelled.jsonl (docs/routing.md).

Hot path: imports only marshal, zlib and our own modules; the text is touched by C-level
operations on a sample (first 3 KB, last 1 KB), as in classify.py. Grams are hashed with
CRC-32 (stable across processes, unlike hash()); one gram is one feature whatever its count,
and the gram part of the score is divided by sqrt(number of grams), so a long paste does not
drown the instruction.
"""

import marshal
import zlib

from shim import paths
from shim.routing import classify as keywords

MODEL_FILE = "router-weights.marshal"
MODEL_FORMAT = 1
TIERS = ("cheap", "standard", "premium")
TIER_TO_COMPLEXITY = {"cheap": "simple", "standard": "standard", "premium": "complex"}
TOP_FEATURES = 6

# Punctuation → space and every digit → "0", on the UTF-8 bytes (one C table lookup per byte):
# "17" and "24" are the same token, "3.5" is "0 0".
_NORM = bytes.maketrans(b"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~123456789",
                        b" " * 32 + b"000000000")
# Not "/" or "-": paths and prose are full of them.
OPERATORS = ("+", "*", "=", "^", "%", "\u00d7", "\u00b2", "\u2264", "\u2265")
# Words that ask for an exact result ("at least" and "every" are too common in prose to help).
CONSTRAINT_WORDS = frozenset(
    b"exactly must precisely identical unchanged guarantee guarantees rigorous rigorously "
    b"strictly".split())
# Task kinds, first match wins; read from the first and last KIND_WORDS words, where the
# instruction sits. "compute" also fires on "how many/much/long/far/old" and on a question
# with two or more numbers; "code" also on a code block or a file reference.
KIND_WORDS = 16
KINDS = (
    ("prove", b"prove proves proving disprove proof rigorous induction"),
    ("compute", b"calculate compute solve probability expected percent percentage average "
                b"equation"),
    ("code", b"function implement fix bug test tests refactor regex sql query api class method "
             b"script compile deploy migrate endpoint traceback error exception crash program "
             b"code rename"),
    ("extract", b"extract json csv table parse convert list"),
    ("write", b"write essay poem story email letter draft compose rewrite blog haiku limerick "
              b"slogan summarise summarize translate"),
    ("chat", b"you pretend act role character hi hello think opinion"),
    ("recall", b"what who when where why explain describe tell"),
)
_KINDS = tuple((kind, frozenset(words.split())) for kind, words in KINDS)
_HOW_MUCH = frozenset(b"many much long far old".split())
# An instruction's leading verb says the kind outright ("Write a short essay on Fermat's proof"
# is writing); "write" with code words around it is code.
LEADING_VERBS = {
    "prove": b"prove disprove", "compute": b"calculate compute solve",
    "code": b"fix implement refactor rename migrate debug port",
    "extract": b"extract convert", "write": b"write compose draft rewrite translate summarise summarize",
    "chat": b"pretend act imagine", "recall": b"explain describe tell define",
}
_LEADING = {verb: kind for kind, verbs in LEADING_VERBS.items() for verb in verbs.split()}
_POLITE = frozenset(b"please can could would you pls".split())
LENGTH_BANDS = (60, 200, 600, 2000, 6000)
GRAM_SCALE_POWER = 0.5     # the gram part of the score is divided by (number of grams) ** this

_model = None


def load():
    """The model dict (loaded once per process): {"format", "up": {"bias", "weights"},
    "premium": {"bias", "weights"}, "heldout_scores", "heldout_premium_scores", ...}; weights
    map a gram's key (gram_keys) or a feature name to a weight."""
    global _model
    if _model is None:
        with open(paths.package_data(MODEL_FILE), "rb") as fh:
            model = marshal.loads(fh.read())
        if model.get("format") != MODEL_FORMAT:
            raise ValueError("%s: format %r, expected %d" % (MODEL_FILE, model.get("format"), MODEL_FORMAT))
        _model = model
    return _model


def gram_keys(grams):
    """CRC-32 of each gram, cut to 30 bits: marshal loads small ints several times faster."""
    crc32 = zlib.crc32
    return [crc32(gram) >> 2 for gram in grams]


def features(prompt, resume=False, base=None):
    """(grams, names): the hashed text features as bytes, and the named features. `base` is
    classify.classify(prompt, resume) when the caller has it already."""
    if base is None:
        base = keywords.classify(prompt, resume)
    facts = base["features"]
    chars = len(prompt)
    head, tail = keywords.SAMPLE_HEAD, keywords.SAMPLE_TAIL
    sample = prompt[:head] + "\n" + prompt[-tail:] if chars > head + tail else prompt
    words = sample.lower().encode("utf-8", "surrogateescape").translate(_NORM).split()
    unique = set(words)
    grams = list(unique)
    long_words = [w for w in unique if len(w) > 4]
    grams += [b"<" + w[:4] for w in long_words]
    grams += [w[-4:] + b">" for w in long_words]
    if words:
        grams.append(b"^" + words[0])

    names = []
    for limit in LENGTH_BANDS:
        if chars < limit:
            names.append("length < %d" % limit)
            break
    else:
        names.append("length >= %d" % LENGTH_BANDS[-1])
    if facts["code_blocks"]:
        names.append("code block")
    elif facts["code_markers"] >= 2:
        names.append("inline code")
    if facts["file_refs"]:
        names.append("file references: %s" % ("3+" if len(facts["file_refs"]) >= 3 else "1-2"))
    numbers = sum(map(bytes.isdigit, words))
    if numbers:
        names.append("numbers: %s" % ("4+" if numbers >= 4 else "2-3" if numbers >= 2 else "1"))
    operators = sum(map(sample.count, OPERATORS))
    if operators:
        names.append("operators: %s" % ("3+" if operators >= 3 else "1-2"))
    constraints = len(CONSTRAINT_WORDS.intersection(unique))
    if constraints:
        names.append("constraint words: %s" % ("2+" if constraints >= 2 else "1"))
    if facts["questions"]:
        names.append("questions: %s" % ("3+" if facts["questions"] >= 3 else "1-2"))
    if facts["numbered_steps"] >= 3:
        names.append("list items: 3+")
    if facts["continued"]:
        names.append("continued conversation")
    names += ["keywords: " + group for group in facts["keywords"]]
    names.append("kind: " + task_kind(words, facts, numbers))
    return grams, names


def task_kind(words, facts, numbers=0):
    """prove | compute | code | extract | write | chat | recall | other: from the leading verb,
    else the words around the instruction (first and last KIND_WORDS), a code block or file
    reference, and "how many"-style or numeric questions."""
    ends = set(words[:KIND_WORDS]).union(words[-KIND_WORDS:])
    lead = next((word for word in words[:4] if word not in _POLITE), None)
    if lead in _LEADING:
        kind = _LEADING[lead]
        if kind == "write" and (facts["code_blocks"] or _KINDS[2][1].intersection(ends)):
            return "code"
        return kind
    for kind, vocabulary in _KINDS:
        if vocabulary.intersection(ends):
            return kind
        if kind == "compute" and ((b"how" in ends and _HOW_MUCH.intersection(ends))
                                  or (numbers >= 2 and facts["questions"])):
            return kind
        if kind == "code" and (facts["code_blocks"] or facts["file_refs"]):
            return kind
    return "other"


def raw_score(grams, names, part, keys=None, top=0):
    """(probability, [(feature, contribution), ...]) of one part of the model ({"bias",
    "weights"}): the `top` features present that moved the score most."""
    weights = part["weights"]
    keys = gram_keys(grams) if keys is None else keys
    scale = len(grams) ** -GRAM_SCALE_POWER if grams else 0.0
    hit_grams = weights.keys() & keys
    hit_names = weights.keys() & names
    z = part["bias"] + sum(map(weights.__getitem__, hit_grams)) * scale \
        + sum(map(weights.__getitem__, hit_names))
    z = -60.0 if z < -60.0 else 60.0 if z > 60.0 else z
    probability = 1.0 / (1.0 + 2.718281828459045 ** -z)
    if not top:
        return probability, []
    # The grams that moved most are among the `top` most negative and most positive weights.
    ranked = sorted(hit_grams, key=weights.__getitem__)
    candidates = [(weights[key] * scale, key) for key in ranked[:top] + ranked[-top:]]
    candidates += [(weights[name], name) for name in hit_names]
    moved = sorted(set(candidates), key=lambda item: (-abs(item[0]), str(item[1])))[:top]
    return probability, [
        (grams[keys.index(key)].decode("utf-8", "replace") if isinstance(key, int) else key, value)
        for value, key in moved]


def thresholds(strong_share, model=None):
    """{"standard", "premium"}: a prompt whose score reaches `standard` goes to a non-cheap
    tier, about `strong_share` of the held-out set; among those, one whose premium score
    reaches `premium` goes to premium (set on the held-out prompts labelled above cheap, so that
    the share of premium among them is that of the training labels)."""
    model = model or load()
    share = min(max(float(strong_share), 0.0), 1.0)
    return {"standard": quantile(model["heldout_scores"], share),
            "premium": quantile(model["heldout_premium_scores"], model["premium_ratio"])}


def quantile(scores, share):
    """The lowest score that keeps about `share` of `scores` (sorted ascending) at or above it."""
    if share <= 0.0:
        return 1.01  # above any probability: nothing goes up
    index = len(scores) - int(round(share * len(scores)))
    if index <= 0:
        return 0.0
    return round((scores[index - 1] + scores[index]) / 2.0, 6) if index < len(scores) else 1.01


def route(prompt, resume=False, strong_share=0.35, base=None):
    """The verdict of classify.classify (`base`, computed when not given) with the learned
    router's `complexity`, `score` (a probability) and `route`: {"score", "premium_score"
    (None when the prompt stays cheap), "tier", "thresholds", "strong_share", "kind",
    "top_features": [[feature, contribution to the score's log-odds], ...]}."""
    if prompt is None:
        return None
    if base is None:
        base = keywords.classify(prompt, resume)
    model = load()
    grams, names = features(prompt, resume, base)
    keys = gram_keys(grams)
    probability, moved = raw_score(grams, names, model["up"], keys, TOP_FEATURES)
    limits = thresholds(strong_share, model)
    premium_score = None
    tier = "cheap"
    if probability >= limits["standard"]:
        premium_score, _ = raw_score(grams, names, model["premium"], keys)
        tier = "premium" if premium_score >= limits["premium"] else "standard"
    kind = names[-1][len("kind: "):]
    decided = {
        "score": round(probability, 4),
        "premium_score": None if premium_score is None else round(premium_score, 4),
        "tier": tier,
        "thresholds": limits,
        "strong_share": strong_share,
        "kind": kind,
        "top_features": [[name, round(value, 3)] for name, value in moved],
    }
    return dict(base, complexity=TIER_TO_COMPLEXITY[tier], score=decided["score"], route=decided,
                why=["%+.2f %s" % (value, name) for name, value in moved])
