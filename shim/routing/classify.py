"""Prompt complexity: simple | standard | complex, from features a person can check.

Each feature adds or removes points; the total picks the class (docs/routing.md has the table
and a benchmark). Speed matters because this runs inside every one-shot shim call: only C-level
operations (`count`, `lower`, `bytes.translate`, `split`, set intersections) touch the text,
keywords are matched as whole words by one set intersection, and keywords, file references and
list items are read from a sample (the first 3 KB and the last 1 KB). tests/bench/classifier.py
measures it (target: under 1 ms per 10 KB prompt). Hot path: no imports.
"""

COMPLEXITIES = ("simple", "standard", "complex")
DEFAULT_THRESHOLDS = {"standard": 1, "complex": 4}

# Keywords are whole words and phrases (consecutive words), matched on the lower-cased prompt
# whose ASCII punctuation became spaces: "step-by-step" is "step by step", "O(n log n)" is
# "o n log n". Word forms are listed explicitly, so matching words is one set intersection.
WORDS = {
    "proof": (
        "prove proves proved proven proving proof proofs theorem theorems lemma lemmas "
        "induction inductive formally invariant invariants optimal optimality"
    ),
    "maths": (
        "integral integrals integrate derivative derivatives differentiate equation equations "
        "matrix matrices eigenvalue eigenvalues eigenvector eigenvectors probability "
        "probabilities probabilistic polynomial polynomials inequality inequalities "
        "combinatorics combinatorial asymptotic asymptotically calculus geometry geometric "
        "statistics statistical bayesian"
    ),
    "reasoning": (
        "reasoning why tradeoff tradeoffs compare compared compares comparing comparison "
        "comparisons analyse analyze analysed analyzed analysing analyzing analysis analyses "
        "analytical evaluate evaluates evaluated evaluating evaluation critique critiques "
        "justify justified justification implication implications assumption assumptions plan "
        "strategy strategies investigate investigating investigation recommend recommended "
        "recommendation recommendations"
    ),
    "debugging": (
        "debug debugging debugger bug bugs traceback tracebacks stacktrace exception exceptions "
        "crash crashes crashed crashing fails failing failure failures flaky regression "
        "regressions regressed error errors broken"
    ),
    "hard_bug": (
        "segfault segfaults sigsegv deadlock deadlocks deadlocked"
    ),
    "performance": (
        "p99 p95 latency latencies throughput profiling profiler bottleneck bottlenecks "
        "benchmark benchmarks benchmarking"
    ),
    "refactoring": (
        "refactor refactors refactored refactoring restructure restructured restructuring "
        "rewrite rewrites rewriting migrate migrated migrating migration migrations modularize "
        "modularise modularity decouple decoupled decoupling cleanup deduplicate deduplication"
    ),
    "architecture": (
        "architecture architectures architect architectural scalable scalability microservice "
        "microservices distributed concurrency concurrent concurrently security rollout "
        "rollback"
    ),
    "generation": (
        "implement implements implementing implementation generate generates generating explain "
        "script scripts workflow workflows"
    ),
    "extraction": (
        "convert csv yaml table parse summarize summarise summary classify classification "
        "categorize categorise category categories translate translation count"
    ),
    "trivial": (
        "define spell spelling rename renaming typo typos briefly hello thanks"
    ),
}
PHRASES = {
    "proof": (
        "formal proof",
    ),
    "maths": (
        "big o", "time complexity", "space complexity", "n log n",
    ),
    "reasoning": (
        "step by step", "trade off", "trade offs", "pros and cons", "edge case", "edge cases",
        "think through", "root cause",
    ),
    "debugging": (
        "stack trace", "not working", "doesn t work",
    ),
    "hard_bug": (
        "segmentation fault", "race condition", "race conditions", "memory leak",
        "memory leaks", "heap corruption", "undefined behavior", "undefined behaviour",
        "data race", "data races",
    ),
    "performance": (
        "flame graph", "hot path", "performance regression", "slow query",
    ),
    "refactoring": (
        "clean up", "split the", "port this",
    ),
    "architecture": (
        "system design", "design a", "design the", "lock free", "memory order",
        "memory ordering", "memory orderings", "design pattern", "design patterns",
        "api design", "schema design", "data model", "end to end", "threat model",
        "zero downtime", "exactly once", "multi tenant",
    ),
    "generation": (
        "write a", "write an", "write unit", "write tests", "create a", "create an", "build a",
        "build an", "develop a", "develop an", "document the", "unit test", "unit tests",
        "add a", "add an", "add tests",
    ),
    "extraction": (
        "extract the", "extract all", "list the", "list all", "format as", "as json", "to json",
        "in json", "tl dr",
    ),
    "trivial": (
        "what is", "what s", "what does", "who is", "who was", "when did", "meaning of",
        "capital of", "spell check", "one word", "one line", "yes or no", "short answer",
        "thank you", "say hi", "how do i", "syntax for", "commit message", "add a comment",
    ),
}
GROUPS = tuple(WORDS)

# Points per group with a hit; a group with 3+ distinct hits earns one more (but "generation",
# "extraction" and "trivial" do not: they say what kind of task it is, not how hard).
WEIGHTS = {"proof": 4, "maths": 2, "reasoning": 1, "debugging": 1, "hard_bug": 2,
           "performance": 2, "refactoring": 2, "architecture": 2, "generation": 1, "extraction": -1,
           "trivial": -1}
HARD_GROUPS = ("proof", "maths", "reasoning", "debugging", "hard_bug", "performance",
               "refactoring", "architecture")
TRIVIAL_MAX_CHARS = 200    # "what is" inside a long prompt says nothing

FILE_EXTENSIONS = (
    ".py", ".js", ".ts", ".tsx", ".jsx", ".go", ".rs", ".java", ".kt", ".c", ".h", ".cc",
    ".cpp", ".hpp", ".cs", ".rb", ".php", ".swift", ".scala", ".sql", ".sh", ".md", ".json",
    ".yaml", ".yml", ".toml", ".ini", ".cfg", ".html", ".css", ".vue", ".lua", ".tf", ".proto",
)
# Words that are rare in prose and common in code.
CODE_WORDS = frozenset((
    "def", "elif", "const", "fn", "func", "self", "lambda", "struct", "impl", "printf",
    "println", "nullptr", "endl", "namespace", "typedef", "var", "int", "args",
))
_CODE_WORDS = frozenset(word.encode() for word in CODE_WORDS)

# ASCII punctuation → space, applied to the UTF-8 bytes (bytes.translate is one C table
# lookup per byte; str.translate falls back to a dict lookup per character for non-ASCII text).
_PUNCT = bytes.maketrans(b"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", b" " * 32)
# Keywords, file references and list items are read from the first SAMPLE_HEAD and the last
# SAMPLE_TAIL characters (instructions sit there; pasted material sits in between), so the
# cost stops growing past ~4 KB. Length, lines and code fences always cover the whole prompt.
SAMPLE_HEAD = 3072
SAMPLE_TAIL = 1024
_LIST_PREFIXES = frozenset(["- ", "* "] + ["%d%s" % (n, end) for n in range(1, 10) for end in ".)"])
_index = None              # built from WORDS and PHRASES on first use (not at import)


def _build_index():
    """Keyword tables as bytes: {word: group} and {first word of a phrase: [(phrase, group)]}.
    Built on first use in a process; kept C-level where it can be (`dict.fromkeys`)."""
    exact = {}
    for group, words in WORDS.items():
        exact.update(dict.fromkeys(words.encode().split(), group))
    phrases = {}
    for group, items in PHRASES.items():
        for phrase in items:
            phrases.setdefault(phrase.partition(" ")[0].encode(), []).append((phrase, group))
    return exact, frozenset(exact), phrases, frozenset(phrases)


def _keyword_hits(words):
    """{group: [keywords found]}: one set intersection for words; for a phrase whose words all
    occur, a substring search in the words re-joined by single spaces."""
    global _index
    if _index is None:
        _index = _build_index()
    exact, exact_keys, phrases, phrase_keys = _index
    unique = set(words)
    found = {}
    for word in exact_keys.intersection(unique):
        found.setdefault(exact[word], []).append(word.decode())
    joined = None
    for first in phrase_keys.intersection(unique):
        for phrase, group in phrases[first]:
            encoded = phrase.encode()
            if unique.issuperset(encoded.split()):
                if joined is None:
                    joined = b" " + b" ".join(words) + b" "
                if b" " + encoded + b" " in joined:
                    found.setdefault(group, []).append(phrase)
    return found


def classify(prompt, resume=False, thresholds=None):
    """Classify `prompt` (str or None). Returns {"complexity", "score", "features", "why"}.

    `resume` marks a continued conversation (the model sees earlier turns we cannot).
    """
    if prompt is None:
        return None
    limits = dict(DEFAULT_THRESHOLDS, **thresholds) if thresholds else DEFAULT_THRESHOLDS
    chars = len(prompt)
    sampled = chars > SAMPLE_HEAD + SAMPLE_TAIL
    sample = prompt[:SAMPLE_HEAD] + "\n" + prompt[-SAMPLE_TAIL:] if sampled else prompt
    words = sample.lower().encode("utf-8", "surrogateescape").translate(_PUNCT).split()
    n_words = len(words) * chars // len(sample) if sampled else len(words)
    lines = prompt.count("\n") + 1

    code_blocks = prompt.count("```") // 2
    code_markers = len(_CODE_WORDS.intersection(words))
    if sample.count(";") + sample.count("{") >= 4:
        code_markers += 1
    file_refs = _file_refs(sample)
    hits = _keyword_hits(words)
    questions = sample.count("?")
    numbered = _numbered_steps(sample)

    score = 0
    why = []

    def add(points, reason):
        nonlocal score
        if points:
            score += points
            why.append("%+d %s" % (points, reason))

    if chars >= 8000:
        add(4, "very long prompt (%d chars)" % chars)
    elif chars >= 3000:
        add(3, "long prompt (%d chars)" % chars)
    elif chars >= 1000:
        add(2, "medium-length prompt (%d chars)" % chars)
    elif chars >= 400:
        add(1, "%d chars" % chars)
    elif n_words <= 12 and not any(group in hits for group in HARD_GROUPS):
        add(-1, "short prompt (%d word%s)" % (n_words, "" if n_words == 1 else "s"))
    if code_blocks:
        add(2 if code_blocks >= 2 else 1, "%d code block(s)" % code_blocks)
    elif code_markers >= 2:
        add(1, "inline code")
    if file_refs:
        add(2 if len(file_refs) >= 3 else 1, "%d file reference(s)" % len(file_refs))
    for group in HARD_GROUPS + ("generation",):
        found = hits.get(group)
        if found:
            extra = 1 if len(found) >= 3 and group != "generation" else 0
            add(WEIGHTS[group] + extra, "%s: %s" % (group, ", ".join(found[:4])))
    hard = any(group in hits for group in HARD_GROUPS)
    if "extraction" in hits and not hard and not code_blocks:
        add(WEIGHTS["extraction"], "extraction: %s" % ", ".join(hits["extraction"][:4]))
    if "trivial" in hits and chars < TRIVIAL_MAX_CHARS:
        add(WEIGHTS["trivial"], "trivial: %s" % ", ".join(hits["trivial"][:4]))
    if numbered >= 3:
        add(1, "%d numbered steps" % numbered)
    if questions >= 3:
        add(1, "%d questions" % questions)
    if resume:
        add(1, "continues a conversation")

    if score >= limits["complex"]:
        complexity = "complex"
    elif score >= limits["standard"]:
        complexity = "standard"
    else:
        complexity = "simple"
    features = {
        "chars": chars,
        "words": n_words,
        "lines": lines,
        "code_blocks": code_blocks,
        "code_markers": code_markers,
        "file_refs": file_refs[:10],
        "numbered_steps": numbered,
        "questions": questions,
        "keywords": hits,
        "continued": bool(resume),
        "sampled": sampled,
        "score": score,
    }
    return {"complexity": complexity, "score": score, "features": features, "why": why}


def _file_refs(prompt):
    """Words that look like paths or file names (`src/app.py`, `@README.md`, `./build.sh`)."""
    refs = []
    for word in [w for w in set(prompt.split()) if "/" in w or "." in w]:
        if "/" in word:
            word = word.strip("`'\"()[]{}<>,;:!?*.").lstrip("@")
            if "://" in word:
                continue
            if word.startswith(("./", "../", "~/", "/")) or "." in word.rsplit("/", 1)[-1] \
                    or word.endswith(FILE_EXTENSIONS):
                refs.append(word)
        else:
            word = word.strip("`'\"()[]{}<>,;:!?*").lstrip("@").rstrip(".")
            if len(word) > 3 and word.endswith(FILE_EXTENSIONS):
                refs.append(word)
    refs.sort()
    return refs


def _numbered_steps(prompt):
    """Lines that start like a list item: `1.` .. `9.`, `1)`, `- `, `* ` (after indentation)."""
    return sum(map(_LIST_PREFIXES.__contains__, [line.lstrip()[:2] for line in prompt.split("\n")]))
