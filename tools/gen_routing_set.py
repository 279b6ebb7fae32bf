#!/usr/bin/env python3
"""Write tests/data/routing/labelled.jsonl: the labelled prompt set the learned router is
trained and measured on (issue 18).

Every prompt comes from a template or a one-off written for llm-shim (no public benchmark, no
text derived from one, no paraphrase of a famous benchmark item: tests/routing/
test_benchmark_leak.py checks the output against their key phrases). A template has slots filled from hand-written lists with a seeded
random generator, so the output is the same on every run. Each row:

  {"id", "prompt", "label": cheap|standard|premium, "reason", "kind", "half": coding|general,
   "group", "split": train|test}

The label says what the task demands, not how it sounds: an answer that must be exactly right
after several dependent steps (arithmetic, proofs, puzzles, precise code, extraction under
constraints, debugging, multi-file changes) needs a standard or premium model; open-ended,
wordy work (essays, role-play, opinions, recall, renames, explanations) does fine on a cheap one.
Templates deliberately cross the obvious signals: short prompts that need exact work, long
prompts that do not, "prove"/"theorem" in an essay request, "rename" in a risky migration.

The split is fixed: crc32(id) % 5 == 0 is held out (`split`: test). Held-out prompts share
templates with training prompts, so tools/train_router.py also reports a stricter figure with
whole templates held out (cross-validation by `group`).

Usage: python3 tools/gen_routing_set.py [--out PATH] [--check]
"""

import argparse
import json
import os
import random
import sys
import zlib

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "tests", "data", "routing", "labelled.jsonl")
SEED = 18

# --- slot values -----------------------------------------------------------------------------------

S = {
    "file": ["src/api/users.py", "lib/parser.ts", "internal/cache/lru.go", "app/models/order.rb",
             "src/main.rs", "cmd/server/main.go", "pkg/auth/token.go", "web/components/Cart.tsx",
             "services/billing/invoice.py", "utils/dates.js", "core/scheduler.py",
             "src/lib/http_client.rs", "backend/views.py", "frontend/src/hooks/useAuth.ts",
             "scripts/deploy.sh", "app/controllers/sessions_controller.rb", "src/config.py",
             "server/routes/orders.js", "analytics/etl/load.py", "src/Storage.java"],
    "pyfile": ["src/api/users.py", "services/billing/invoice.py", "core/scheduler.py",
               "backend/views.py", "analytics/etl/load.py", "src/config.py", "app/cli.py",
               "tools/report.py", "worker/tasks.py", "lib/retry.py"],
    "func": ["parse_config", "load_users", "retry_request", "normalize_email", "compute_total",
             "render_invoice", "get_user_by_id", "merge_intervals", "slugify", "parseDuration",
             "validateToken", "apply_discount", "flush_buffer", "resolve_path", "toCamelCase",
             "schedule_job", "read_manifest", "format_currency"],
    "var": ["tmp", "data", "x", "cnt", "res", "flag", "usrList", "val", "d", "obj", "arr", "n2"],
    "newname": ["user_count", "pending_jobs", "is_enabled", "parsed_rows", "retry_delay",
                "customer_ids", "max_attempts", "total_cents", "active_sessions", "config_path"],
    "lang": ["Python", "TypeScript", "Go", "Rust", "Java", "Ruby", "JavaScript", "C#", "Kotlin"],
    "cmd": ["git rebase -i HEAD~3", "set -euo pipefail", "docker compose up -d --build",
            "chmod 755 deploy.sh", "find . -name '*.pyc' -delete", "kubectl rollout restart deploy/api",
            "git stash pop", "npm ci", "tar -xzf backup.tgz -C /tmp", "ssh -L 5432:localhost:5432 db1",
            "git cherry-pick abc123", "pip install -e .", "ulimit -n 4096", "xargs -P 4 -n 1",
            "git bisect start", "lsof -i :8080"],
    "concept": [("a list", "a tuple", "Python"), ("interface", "type alias", "TypeScript"),
                ("a goroutine", "an OS thread", "Go"), ("Box", "Rc", "Rust"),
                ("== ", "equals()", "Java"), ("let", "const", "JavaScript"),
                ("a process", "a thread", "operating systems"), ("git merge", "git rebase", "git"),
                ("PUT", "PATCH", "HTTP"), ("an inner join", "a left join", "SQL"),
                ("a symlink", "a hard link", "Linux"), ("async", "threading", "Python"),
                ("props", "state", "React"), ("a struct", "a class", "C#")],
    "topic_tech": ["dependency injection", "CORS", "the CAP theorem", "JWT tokens", "memoization",
                   "event sourcing", "garbage collection", "virtual DOM", "OAuth scopes",
                   "database indexes", "feature flags", "semantic versioning", "containers",
                   "the actor model", "idempotency keys", "blue-green deploys"],
    "framework": ["Flask", "Express", "Django", "FastAPI", "Spring Boot", "Rails", "Next.js", "Gin"],
    "pyerr": [("KeyError: 'email'", "user['email']"),
              ("TypeError: 'NoneType' object is not subscriptable", "row['id']"),
              ("AttributeError: 'str' object has no attribute 'get'", "payload.get('items')"),
              ("IndexError: list index out of range", "parts[2]"),
              ("ValueError: invalid literal for int() with base 10: ''", "int(fields[3])"),
              ("ZeroDivisionError: division by zero", "total / count"),
              ("TypeError: unsupported operand type(s) for +: 'int' and 'str'", "acc + item['qty']"),
              ("UnicodeDecodeError: 'utf-8' codec can't decode byte 0xe9 in position 14", "fh.read()"),
              ("RecursionError: maximum recursion depth exceeded", "walk(node.parent)"),
              ("json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)", "json.loads(body)")],
    "jserr": ["TypeError: Cannot read properties of undefined (reading 'map')",
              "ReferenceError: fetchUser is not defined",
              "TypeError: items.filter is not a function",
              "Unhandled promise rejection: Error: ECONNREFUSED 127.0.0.1:5432",
              "RangeError: Maximum call stack size exceeded"],
    "migration": [("Python 2.7", "Python 3.12"), ("Flask", "FastAPI"), ("callbacks", "async/await"),
                  ("SQLAlchemy 1.4", "SQLAlchemy 2.0"), ("Webpack", "Vite"), ("Moment.js", "date-fns"),
                  ("Java 8", "Java 21"), ("React class components", "hooks"), ("unittest", "pytest"),
                  ("Express 4", "Express 5"), ("Vue 2", "Vue 3"), ("setup.py", "pyproject.toml"),
                  ("the request library", "httpx"), ("Jest", "Vitest")],
    "system": ["a URL shortener", "a rate limiter shared by 40 API servers",
               "a job queue with at-least-once delivery", "a multi-tenant invoicing service",
               "a feature-flag service", "an audit log that cannot be edited after the fact",
               "a chat service with read receipts", "a document store with offline sync",
               "a webhook delivery system with retries", "a leaderboard for 10 million players"],
    "topic": ["remote work", "the four-day week", "social media and teenagers", "city cycling lanes",
              "the history of the printing press", "why people love dogs", "the future of libraries",
              "learning a second language", "minimalism", "space tourism", "homework",
              "public transport", "video games as art", "the value of boredom", "coffee culture",
              "urban gardening", "the Olympic Games", "handwriting in schools"],
    "role": ["a medieval blacksmith", "a grumpy cat", "a pirate captain", "a 1920s detective",
             "Shakespeare", "a tour guide in Rome", "a barista on their first day",
             "a lighthouse keeper", "a starship computer", "a football coach at half-time",
             "a Victorian butler", "a nervous job applicant", "a time traveller from 2300"],
    "person": ["Ada Lovelace", "Marie Curie", "Nikola Tesla", "Frida Kahlo", "Mansa Musa",
               "Hypatia", "Alan Turing", "Genghis Khan", "Rosalind Franklin", "Simón Bolívar",
               "Hokusai", "Florence Nightingale", "Ibn Battuta", "Wangari Maathai"],
    "event": ["the fall of the Berlin Wall", "the French Revolution", "the Apollo 11 landing",
              "the signing of Magna Carta", "the invention of the telephone", "the Meiji Restoration",
              "the Black Death", "the Green Revolution", "the partition of India",
              "the first Olympic Games of the modern era"],
    "phenomenon": ["rainbows", "tides", "how bees make honey", "vaccines", "the greenhouse effect",
                   "how airplanes stay up", "the seasons", "black holes", "lightning",
                   "how batteries store energy", "plate tectonics", "the immune system",
                   "how the internet routes a packet", "why the sky is blue"],
    "thinker": ["Stoicism", "Confucius", "Simone de Beauvoir", "Kant's ethics", "utilitarianism",
                "Hannah Arendt", "existentialism", "Plato's cave", "Adam Smith", "Buddhism's four noble truths"],
    "langpair": ["French", "Spanish", "German", "Italian", "Portuguese", "Japanese", "Dutch"],
    "name": ["Maya", "Tom", "Priya", "Luis", "Aiko", "Sven", "Fatima", "Noah", "Grace", "Omar"],
    "item": ["apples", "notebooks", "tickets", "bags of rice", "cupcakes", "light bulbs", "stickers"],
}

# Long, harmless filler the long-but-easy prompts paste in.
NOTE_SENTENCES = [
    "We met with the design team on Tuesday to go over the onboarding flow.",
    "Most people liked the new colours, though two asked for a darker header.",
    "The budget for the spring campaign is still being discussed with finance.",
    "Sam will send the revised brochure to the printer by the end of the month.",
    "Customer feedback from the survey was mostly positive about delivery speed.",
    "A few customers mentioned the packaging was hard to open.",
    "We agreed to try a shorter weekly meeting, thirty minutes instead of an hour.",
    "The office plants need watering on Fridays; someone should own that.",
    "Next quarter we want to focus on the newsletter and the community forum.",
    "Lena is out from the 12th to the 20th, so Ravi covers support questions.",
    "The café downstairs now offers a discount for our badge holders.",
    "Our blog traffic doubled after the article about home composting.",
    "Several readers asked for more recipes that use seasonal vegetables.",
    "We should thank the volunteers who helped at the street fair.",
    "The holiday party will be at the community hall again this year.",
    "The photography workshop sold out within two days.",
    "People asked whether we could record the talks for those who missed them.",
    "The new intern has been great at answering questions on social media.",
    "Our old logo still appears on the website footer and the invoices.",
    "The hiking club wants to plan a trip to the lakes in early autumn.",
]
STORY_SENTENCES = [
    "The village sat at the edge of a forest that nobody entered after dark.",
    "Mira, the baker's daughter, had always wondered what the lights between the trees were.",
    "Her grandmother told stories about a fox who could speak every language.",
    "One winter the river froze so thick that the children skated to the far bank.",
    "A stranger arrived with a cart full of clocks, none of which showed the same time.",
    "He asked for bread and paid with a silver button.",
    "That night Mira heard ticking under her window.",
    "The mayor called a meeting, but nobody agreed on anything except that the stranger was odd.",
    "In the morning the clocks were gone and so was the fox from the weather vane.",
    "Mira packed a scarf, an apple and her grandmother's compass.",
]
CODE_FILE_PY = '''import os
import logging

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30


class Settings:
    """Settings read from the environment."""

    def __init__(self, env=None):
        env = env if env is not None else os.environ
        self.host = env.get("APP_HOST", "127.0.0.1")
        self.port = int(env.get("APP_PORT", "8000"))
        self.debug = env.get("APP_DEBUG", "0") == "1"
        self.timeout = int(env.get("APP_TIMEOUT", DEFAULT_TIMEOUT))

    def url(self):
        return "http://%s:%d" % (self.host, self.port)


def load(env=None):
    settings = Settings(env)
    log.debug("settings loaded: %s", settings.url())
    return settings
'''
CODE_FILE_JS = '''export function groupBy(items, key) {
  const out = {};
  for (const item of items) {
    const k = typeof key === "function" ? key(item) : item[key];
    (out[k] ||= []).push(item);
  }
  return out;
}

export function sum(values) {
  return values.reduce((a, b) => a + b, 0);
}

export function formatPrice(cents, currency = "EUR") {
  return new Intl.NumberFormat("en-GB", { style: "currency", currency }).format(cents / 100);
}
'''
BUGGY = [
    ("Python", '''def chunk(items, size):
    out = []
    for i in range(0, len(items) - size, size):
        out.append(items[i:i + size])
    return out''', "the last chunk goes missing"),
    ("Python", '''def median(xs):
    xs.sort()
    mid = len(xs) // 2
    return xs[mid]''', "even-length lists give the wrong answer and the caller's list gets reordered"),
    ("JavaScript", '''function lastN(arr, n) {
  return arr.slice(arr.length - n - 1);
}''', "it returns one element too many"),
    ("Go", '''func Contains(xs []int, x int) bool {
    lo, hi := 0, len(xs)
    for lo < hi {
        mid := (lo + hi) / 2
        if xs[mid] < x { lo = mid } else { hi = mid }
    }
    return lo < len(xs) && xs[lo] == x
}''', "it hangs on some inputs"),
    ("Python", '''def add_tag(tag, tags=[]):
    tags.append(tag)
    return tags''', "tags from earlier calls show up in later ones"),
    ("Python", '''def is_leap(year):
    return year % 4 == 0 and year % 100 != 0''', "2000 is reported as not a leap year"),
    ("JavaScript", '''async function loadAll(ids) {
  const out = [];
  ids.forEach(async (id) => { out.push(await fetchItem(id)); });
  return out;
}''', "it always returns an empty array"),
    ("Rust", '''fn average(v: &Vec<i32>) -> i32 {
    let total: i32 = v.iter().sum();
    total / v.len() as i32
}''', "it panics on an empty vector and overflows on big inputs"),
]


def sentences(rng, pool, n):
    return " ".join(rng.choice(pool) for _ in range(n))


def traceback_text(rng, err, expr):
    f1, f2 = rng.sample(S["pyfile"], 2)
    fn1, fn2 = rng.sample(S["func"], 2)
    return ("Traceback (most recent call last):\n"
            '  File "%s", line %d, in %s\n    result = %s(%s)\n'
            '  File "%s", line %d, in %s\n    value = %s\n%s"""' % (
                f1, rng.randint(20, 400), fn1, fn2, S["var"][rng.randrange(12)], f2,
                rng.randint(10, 300), fn2, expr, err)).rstrip('"')


# --- templates -------------------------------------------------------------------------------------
# (group, half, kind, label, reason, count, make(rng) -> prompt)

T = []


def template(group, half, kind, label, reason, count=8):
    def register(make):
        T.append((group, half, kind, label, reason, count, make))
        return make
    return register


def pick(rng, key):
    return rng.choice(S[key])


# Coding-agent prompts: cheap ----------------------------------------------------------------------

@template("c-rename", "coding", "code", "cheap", "mechanical rename in one place", 10)
def _(r):
    return r.choice([
        "rename {v} to {n} in {f}",
        "In {f}, rename the variable `{v}` to `{n}`.",
        "please rename {v} -> {n} in {f}, nothing else",
        "can you rename the local `{v}` in {fn} to something clearer like {n}",
        "{f}: `{v}` is a bad name, call it `{n}`",
    ]).format(v=pick(r, "var"), n=pick(r, "newname"), f=pick(r, "file"), fn=pick(r, "func"))


@template("c-explain-cmd", "coding", "recall", "cheap", "explaining a well-known command", 9)
def _(r):
    return r.choice(["What does `{c}` do?", "explain {c}", "what's the point of `{c}` in our CI script?",
                     "Quick one: what does {c} actually do, and is it safe to run?"]).format(c=pick(r, "cmd"))


@template("c-explain-concept", "coding", "recall", "cheap", "textbook explanation", 10)
def _(r):
    a, b, where = pick(r, "concept")
    return r.choice([
        "Explain the difference between {a} and {b} in {w}.",
        "When should I use {a} instead of {b} ({w})?",
        "{w}: {a} vs {b}, what's the difference in plain words?",
        "I keep mixing up {a} and {b} in {w}. Can you explain with a small example?",
    ]).format(a=a.strip(), b=b, w=where)


@template("c-explain-topic", "coding", "recall", "cheap", "explaining a concept, open-ended", 9)
def _(r):
    return r.choice([
        "Explain {t} to a junior developer.",
        "Can you give me an overview of {t}? I have an interview tomorrow.",
        "what is {t} and why do people care",
        "Write a short explanation of {t} for our team wiki, with one example.",
    ]).format(t=pick(r, "topic_tech"))


@template("c-docstring", "coding", "write", "cheap", "documentation of code that exists", 8)
def _(r):
    return r.choice([
        "Add docstrings to the public functions in {f}.",
        "add a comment above {fn} explaining what it does",
        "Document the parameters of {fn} in {f} (Google style docstring).",
        "Update the README section about {fn} so it matches the current signature.",
    ]).format(f=pick(r, "file"), fn=pick(r, "func"))


@template("c-commit-msg", "coding", "write", "cheap", "writing prose about a change", 8)
def _(r):
    return r.choice([
        "Write a commit message for these changes: renamed {fn} to {n}, updated callers, bumped version.",
        "write a PR description for the change that moves {fn} into {f}",
        "Summarise the staged diff as a one-line commit message.",
        "Draft release notes for v{a}.{b}.0: faster startup, a new --{n} flag, and a fix for {fn}.",
    ]).format(fn=pick(r, "func"), n=pick(r, "newname"), f=pick(r, "file"),
              a=r.randint(1, 4), b=r.randint(0, 19))


@template("c-typo", "coding", "code", "cheap", "trivial edit", 8)
def _(r):
    return r.choice([
        "Fix the typo in README.md ('recieve').",
        "bump the version in pyproject.toml to {a}.{b}.{c}",
        "change the default port in {f} from 8000 to 8080",
        "Update the copyright year in LICENSE to 2026.",
        "remove the unused import of os in {f}",
        "sort the imports in {f}",
    ]).format(f=pick(r, "file"), a=r.randint(0, 3), b=r.randint(0, 20), c=r.randint(0, 9))


@template("c-boilerplate", "coding", "code", "cheap", "routine boilerplate", 9)
def _(r):
    return r.choice([
        "Create a .gitignore for a {l} project.",
        "Write a Dockerfile for a simple {fw} app that listens on port 8000.",
        "add a GitHub Actions workflow that runs the tests on push",
        "Generate a basic Makefile with build, test and clean targets for a {l} project.",
        "Give me an .editorconfig with 4-space indents and LF line endings.",
        "scaffold a hello-world {fw} app",
    ]).format(l=pick(r, "lang"), fw=pick(r, "framework"))


@template("c-long-summarise", "coding", "recall", "cheap", "long paste, but only a summary is asked", 8)
def _(r):
    code = r.choice([CODE_FILE_PY, CODE_FILE_JS]) * r.randint(1, 3)
    return r.choice([
        "Here is a module from our repo:\n\n```\n{c}```\n\nGive me a short overview of what it does for the onboarding doc.",
        "{c}\n\nwhat does this file do? just a high-level summary please",
        "Can you add a header comment to this file describing its purpose? Don't change any code.\n```\n{c}```",
    ]).format(c=code)


@template("c-explain-error-msg", "coding", "recall", "cheap", "what a common message means", 8)
def _(r):
    return r.choice([
        "What does '{e}' usually mean?",
        "I see `{e}` sometimes in the logs, what does it mean in general?",
        "eli5: {e}",
    ]).format(e=r.choice([e for e, _ in S["pyerr"]] + S["jserr"] + [
        "fatal: refusing to merge unrelated histories", "permission denied (publickey)",
        "ENOSPC: no space left on device", "npm WARN deprecated"]))


@template("c-config-convert", "coding", "extract", "cheap", "mechanical format conversion", 8)
def _(r):
    keys = r.sample(["host", "port", "debug", "workers", "timeout", "log_level", "region", "retries"], 4)
    vals = ["localhost", str(r.randint(1000, 9000)), "true", str(r.randint(1, 16)), "30", "info", "eu-west-1", "3"]
    obj = ", ".join('"%s": "%s"' % (k, r.choice(vals)) for k in keys)
    return r.choice(["Convert this JSON to YAML: {{{o}}}", "turn {{{o}}} into a .env file",
                     "Rewrite this config as TOML:\n{{{o}}}"]).format(o=obj)


@template("c-rename-cross", "coding", "code", "premium",
          "a 'rename' that crosses schema, API and migrations: many dependent edits", 7)
def _(r):
    old, new = r.choice([("user_id", "account_id"), ("price", "unit_price_cents"),
                         ("created", "created_at"), ("status", "state"), ("org", "workspace")])
    return r.choice([
        "Rename the `{o}` column to `{n}` across the database schema, the ORM models, the REST API "
        "and the migrations, without downtime: old clients keep sending `{o}` for a month.",
        "rename {o} to {n} everywhere (db, api, frontend, analytics jobs) with a backwards-compatible migration",
        "We need to rename the `{o}` field to `{n}` in the public API. Keep v1 responses unchanged, add it to v2, "
        "update the serializers and the OpenAPI spec, and write the data migration.",
    ]).format(o=old, n=new)


# Coding-agent prompts: standard -------------------------------------------------------------------

SPECS = [
    ("merge_intervals", "merges overlapping intervals given as (start, end) pairs, treating touching intervals as overlapping, and returns them sorted"),
    ("parse_duration", "parses strings like '1h30m', '45s' or '2d4h' into seconds and raises ValueError on anything else"),
    ("iban_ok", "checks an IBAN's mod-97 checksum, ignoring spaces and case"),
    ("roman", "converts an integer between 1 and 3999 to a Roman numeral"),
    ("chunked", "splits a list into chunks of n, keeping the remainder as the last chunk"),
    ("business_days", "counts the business days between two dates, excluding both endpoints and a given list of holidays"),
    ("dedupe_keep_order", "removes duplicates from a list while keeping the first occurrence order, for unhashable items too"),
    ("semver_cmp", "compares two semantic version strings including pre-release tags like 1.0.0-rc.1"),
    ("luhn", "validates a credit card number with the Luhn algorithm"),
    ("wrap_text", "wraps text at a width of n characters without breaking words, and breaks words longer than n"),
    ("longest_run", "returns the start index and length of the longest run of equal adjacent items, the earliest run on ties"),
    ("rle", "run-length encodes a string ('aaabcc' -> 'a3b1c2') and a matching decoder"),
]


@template("c-func-spec", "coding", "code", "standard", "precise code against a spec with edge cases", 12)
def _(r):
    name, spec = r.choice(SPECS)
    return r.choice([
        "Write a {l} function `{n}` that {s}.",
        "implement {n}() in {f}: it {s}",
        "Need a {l} helper that {s}. Call it {n}.",
        "Add a function {n} to {f} which {s}. Include type hints.",
    ]).format(l=pick(r, "lang"), n=name, s=spec, f=pick(r, "file"))


@template("c-write-tests", "coding", "code", "standard", "tests must pin exact behaviour and edge cases", 10)
def _(r):
    return r.choice([
        "Write unit tests for {fn} in {f}, covering the edge cases.",
        "add pytest tests for {fn}: empty input, unicode, very large values",
        "Our coverage for {f} is 40%. Write tests for the branches that are not covered.",
        "write table-driven tests for {fn} in {f}",
    ]).format(fn=pick(r, "func"), f=pick(r, "file"))


@template("c-traceback", "coding", "debug", "standard", "debugging from a traceback", 12)
def _(r):
    err, expr = pick(r, "pyerr")
    tb = traceback_text(r, err, expr)
    return r.choice([
        "{t}\n\nfix this",
        "Getting this when I run the import job:\n```\n{t}\n```\nWhat's wrong and how do I fix it?",
        "{t}\nthis started after yesterday's deploy. find the cause and patch it",
        "pytest fails with\n\n{t}\n\nPlease fix the code, not the test.",
    ]).format(t=tb)


@template("c-js-error", "coding", "debug", "standard", "debugging a runtime error in context", 8)
def _(r):
    return r.choice([
        "Our checkout page crashes with `{e}` when the cart is empty. The code is in {f}. Fix it.",
        "{e}\n  at {fn} ({f}:{n}:{m})\n  at processTicksAndRejections\n\nwhy does this happen only in production?",
        "After upgrading the router we get {e} on the settings page ({f}). Track it down.",
    ]).format(e=pick(r, "jserr"), f=pick(r, "file"), fn=pick(r, "func"), n=r.randint(5, 300), m=r.randint(2, 40))


@template("c-failing-test", "coding", "debug", "standard", "making a failing test pass correctly", 9)
def _(r):
    a = r.randint(2, 9)
    return r.choice([
        "tests/test_{fn}.py::test_edge fails: AssertionError: assert {a} == {b}. Fix the implementation in {f}.",
        "test_{fn} started failing on CI only (expected {a}, got {b}). Find out why.",
        "make the failing test in tests/test_{fn}.py pass without changing the test",
    ]).format(fn=pick(r, "func"), f=pick(r, "file"), a=a, b=a - 1)


@template("c-buggy-snippet", "coding", "debug", "standard", "finding a subtle bug in given code", 12)
def _(r):
    lang, code, symptom = r.choice(BUGGY)
    return r.choice([
        "```{l}\n{c}\n```\n{s}. Why?",
        "This {l} function has a bug: {s}.\n\n{c}\n\nfix it",
        "Can you explain why this doesn't work? {s}.\n```\n{c}\n```",
        "review this:\n{c}",
    ]).format(l=lang.lower(), c=code, s=symptom[0].upper() + symptom[1:])


@template("c-sql", "coding", "code", "standard", "exact query with several conditions", 9)
def _(r):
    return r.choice([
        "Write a SQL query that returns, for each customer, their {k} most recent orders with a total above that customer's average order total.",
        "postgres: find users who logged in on at least {k} distinct days in the last 30 days but never placed an order",
        "SQL to compute a 7-day rolling average of daily revenue, with days that have no orders counted as 0",
        "Write the query for monthly active users per country for {y}, months with zero users shown as 0.",
    ]).format(k=r.randint(2, 5), y=r.randint(2019, 2025))


@template("c-regex", "coding", "code", "standard", "regex under exact constraints", 8)
def _(r):
    return r.choice([
        "Write a regex that matches ISO dates (YYYY-MM-DD) but rejects month 13 and day 32.",
        "regex for UK postcodes, must not match lowercase",
        "I need a regular expression for semver versions with optional pre-release and build metadata.",
        "Regex to match a quoted string with escaped quotes inside, e.g. \"a \\\"b\\\" c\".",
    ])


@template("c-single-refactor", "coding", "code", "standard", "behaviour-preserving change inside one file", 9)
def _(r):
    return r.choice([
        "Extract the validation logic in {fn} ({f}) into its own function; behaviour must stay identical.",
        "refactor {fn} in {f} to remove the nested ifs, keep the tests green",
        "Replace the hand-written retry loop in {f} with exponential backoff (max {k} attempts, jitter).",
        "Make {fn} in {f} stream the file instead of reading it all into memory.",
    ]).format(fn=pick(r, "func"), f=pick(r, "file"), k=r.randint(3, 8))


@template("c-cli-flag", "coding", "code", "standard", "a feature touching parsing and behaviour", 8)
def _(r):
    return r.choice([
        "Add a --dry-run flag to {f} that prints the actions instead of running them.",
        "add --since DATE to the export command; invalid dates should exit 2 with a clear message",
        "Support reading the input from stdin when the file argument is '-' in {f}.",
    ]).format(f=r.choice(["scripts/deploy.sh", "app/cli.py", "tools/report.py", "cmd/server/main.go"]))


@template("c-short-hard", "coding", "code", "standard", "short request, but exact behaviour is required", 10)
def _(r):
    return r.choice([
        "make {fn} handle leap years",
        "{fn} breaks on DST changes, fix",
        "handle the empty-list case in {fn}",
        "off by one in the pagination, page 2 repeats the last item of page 1",
        "timezone bug in utils/dates.js",
        "fix rounding in format_currency (0.1 + 0.2 shows 0.30000000000000004)",
        "the CSV export drops rows that contain a comma in a quoted field",
        "unicode names break slugify",
    ]).format(fn=pick(r, "func"))


@template("c-explain-then-fix", "coding", "debug", "standard", "'explain' that needs a diagnosis and a fix", 7)
def _(r):
    return r.choice([
        "Explain why {fn} returns None for negative inputs and fix it.",
        "explain why this cache never evicts anything in {f}, then fix it",
        "Explain why the second call to {fn} is slower than the first, and make it consistent.",
    ]).format(fn=pick(r, "func"), f=pick(r, "file"))


# Coding-agent prompts: premium --------------------------------------------------------------------

@template("c-multifile-refactor", "coding", "code", "premium", "multi-file refactor with a kept contract", 9)
def _(r):
    f1, f2, f3 = r.sample(S["file"], 3)
    return r.choice([
        "Move the auth logic from {a}, {b} and {c} into a new module, update every caller and keep the public API unchanged.",
        "split {a} into three modules (models, storage, http) without import cycles; {b} and {c} import from it",
        "Deduplicate the pagination code in {a}, {b} and {c} into one helper and migrate all endpoints to it.",
    ]).format(a=f1, b=f2, c=f3)


@template("c-migrate", "coding", "code", "premium", "migration across a codebase", 10)
def _(r):
    old, new = pick(r, "migration")
    return r.choice([
        "Migrate the project from {o} to {n}.",
        "We're moving from {o} to {n}. Do the migration for the whole repo and keep behaviour identical.",
        "port everything under src/ from {o} to {n}; the test suite must pass at the end",
        "Plan and carry out the {o} -> {n} upgrade, fixing whatever breaks.",
    ]).format(o=old, n=new)


@template("c-concurrency", "coding", "debug", "premium", "intermittent concurrency fault", 9)
def _(r):
    return r.choice([
        "There's an intermittent deadlock in {f} under load. Find the cause and fix it.",
        "fix the flaky test in tests/test_{fn}.py (fails 1 in 30 runs)",
        "Two workers sometimes process the same job twice. The claim logic is in {f}.",
        "we lose messages during consumer rebalances, find out where",
        "Counter in {f} is off by a few hundred after a load test with 64 goroutines.",
    ]).format(f=pick(r, "file"), fn=pick(r, "func"))


@template("c-perf-regression", "coding", "debug", "premium", "performance regression hunt", 7)
def _(r):
    return r.choice([
        "p99 of GET /orders went from {a} ms to {b} ms after last week's release; find the regression.",
        "memory grows by ~{c} MB an hour in the worker process until it is OOM-killed. Find the leak.",
        "The nightly ETL in analytics/etl/load.py now takes {d} hours instead of 40 minutes. Why?",
    ]).format(a=r.randint(40, 120), b=r.randint(600, 2000), c=r.randint(20, 300), d=r.randint(3, 9))


@template("c-design", "coding", "design", "premium", "design with hard constraints and trade-offs", 10)
def _(r):
    return r.choice([
        "Design the data model and API for {s}.",
        "Design {s}. It must survive a region failure and keep p99 under 50 ms.",
        "how would you build {s}? give the schema, the failure modes and how to test it",
        "Write a design doc for {s}, including the consistency guarantees.",
    ]).format(s=pick(r, "system"))


@template("c-security", "coding", "code", "premium", "security review needs exact reasoning", 7)
def _(r):
    return r.choice([
        "Review {f} for security problems: it builds shell commands from request parameters.",
        "Is our JWT validation in pkg/auth/token.go vulnerable to algorithm confusion? Check and fix.",
        "audit the file upload handler for path traversal and fix anything you find",
        "Check whether the session cookie handling in {f} allows session fixation.",
    ]).format(f=pick(r, "file"))


@template("c-algorithm", "coding", "code", "premium", "algorithm with a complexity bound and correctness argument", 8)
def _(r):
    return r.choice([
        "Implement an interval tree in {l} with O(log n) insert and overlap queries, and explain why the invariant holds.",
        "Write a lock-free single-producer single-consumer ring buffer in {l}.",
        "implement Dijkstra with a decrease-key heap in {l}; the graph has 10^6 edges",
        "Write an LRU cache with O(1) get/put that is safe for concurrent use in {l}.",
        "Implement the diff algorithm (Myers) for two lists of lines in {l}.",
    ]).format(l=pick(r, "lang"))


@template("c-long-hard", "coding", "debug", "premium", "long paste and a hard diagnosis", 7)
def _(r):
    log = "\n".join("2026-11-%02d 10:%02d:%02d WARN worker-%d lease renewal took %d ms (job %d)" % (
        r.randint(1, 28), r.randint(0, 59), r.randint(0, 59), r.randint(1, 8), r.randint(200, 9000),
        r.randint(1000, 9999)) for _ in range(r.randint(30, 80)))
    return r.choice([
        "Jobs get processed twice about once a day. Here are the logs around the last incident:\n\n{l}\n\nThe lease code is in worker/tasks.py. Find the race and fix it.",
        "{l}\n\nAfter these warnings the scheduler stops picking up work until restart. Figure out why.",
    ]).format(l=log)


@template("c-long-easy-notes", "coding", "write", "cheap", "long paste, routine writing task", 7)
def _(r):
    items = "\n".join("- %s %s in %s" % (r.choice(["fixed", "added", "renamed", "removed", "updated"]),
                                           pick(r, "func"), pick(r, "file")) for _ in range(r.randint(15, 40)))
    return r.choice([
        "Here are the changes merged this sprint:\n{i}\n\nTurn this into friendly release notes for users.",
        "{i}\n\nwrite a changelog entry from this list, grouped by fixed/added/removed",
    ]).format(i=items)


# General prompts: cheap ---------------------------------------------------------------------------

@template("g-essay", "general", "write", "cheap", "open-ended essay", 12)
def _(r):
    return r.choice([
        "Write a {n}-word essay on {t}.",
        "I need a persuasive essay about {t} for my English class.",
        "write an essay arguing for and against {t}",
        "Compose a thoughtful, well-structured essay of about {n} words discussing {t}, with an introduction, three body paragraphs and a conclusion.",
        "Could you write a blog post about {t}? Friendly tone, around {n} words.",
    ]).format(n=r.choice([300, 500, 800, 1000]), t=pick(r, "topic"))


@template("g-roleplay", "general", "chat", "cheap", "role-play", 12)
def _(r):
    return r.choice([
        "Pretend you are {ro} and tell me about your day.",
        "You are {ro}. Greet a customer who just walked in.",
        "Act as {ro} and give me advice on my first date.",
        "Let's role-play: you're {ro}, I'm a traveller asking for directions to the castle.",
        "Stay in character as {ro} and describe your favourite meal.",
    ]).format(ro=pick(r, "role"))


@template("g-opinion", "general", "chat", "cheap", "opinion, no single right answer", 10)
def _(r):
    return r.choice([
        "What do you think about {t}?",
        "Give me the pros and cons of {t}.",
        "Is {t} overrated? Be honest.",
        "What are some arguments people make about {t}?",
    ]).format(t=pick(r, "topic"))


@template("g-recall-person", "general", "recall", "cheap", "general knowledge recall", 10)
def _(r):
    return r.choice([
        "Who was {p}?", "Tell me about {p}'s life and work.", "Why is {p} famous?",
        "Give me five interesting facts about {p}.",
    ]).format(p=pick(r, "person"))


@template("g-recall-event", "general", "recall", "cheap", "history recall and explanation", 10)
def _(r):
    return r.choice([
        "What were the main causes of {e}?", "When did {e} happen and why does it matter?",
        "Summarise {e} in a paragraph.", "Explain {e} to a ten-year-old.",
    ]).format(e=pick(r, "event"))


@template("g-science-explain", "general", "recall", "cheap", "textbook science explanation", 10)
def _(r):
    return r.choice([
        "Explain {p} in simple terms.", "How does {p} work?",
        "Can you explain {p} like I'm five?", "Describe {p} for a school presentation.",
    ]).format(p=pick(r, "phenomenon"))


@template("g-humanities", "general", "recall", "cheap", "open-ended humanities summary", 9)
def _(r):
    return r.choice([
        "Summarise the main ideas of {t}.", "How could {t} help with everyday stress?",
        "Compare {t} with {u} in a few paragraphs.", "What would {t} say about social media?",
    ]).format(t=pick(r, "thinker"), u=pick(r, "thinker"))


@template("g-creative", "general", "write", "cheap", "creative writing", 12)
def _(r):
    return r.choice([
        "Write a poem about {t}.", "Write a short story about {ro} who discovers a secret door.",
        "Give me ten name ideas for a bakery that also sells books.",
        "Write a haiku about {t}.", "Write a limerick about {ro}.",
        "Come up with a slogan for a campaign about {t}.",
        "Write a birthday message for my colleague {n}, funny but kind.",
    ]).format(t=pick(r, "topic"), ro=pick(r, "role"), n=pick(r, "name"))


@template("g-email", "general", "write", "cheap", "everyday writing", 9)
def _(r):
    return r.choice([
        "Write an email to my landlord asking to fix the heating.",
        "Draft a polite email declining a meeting invitation from {n}.",
        "Write a cover letter for a barista job. I have two years of experience.",
        "help me write a thank-you note to {n} for the flowers",
        "Rewrite this to sound more professional: hey, the report's late, sorry, will send tmrw",
    ]).format(n=pick(r, "name"))


@template("g-translate", "general", "write", "cheap", "short translation", 8)
def _(r):
    return r.choice([
        "Translate 'Where is the train station?' into {l}.",
        "How do you say 'thank you for your patience' in {l}?",
        "Translate to {l}: The meeting has been moved to Thursday afternoon.",
    ]).format(l=pick(r, "langpair"))


@template("g-advice", "general", "chat", "cheap", "advice and planning, open-ended", 10)
def _(r):
    return r.choice([
        "Plan a three-day trip to {c} for someone who loves food.",
        "Give me a simple weekly workout routine for beginners.",
        "What's a good recipe for a rainy Sunday?",
        "How can I get better at public speaking?",
        "Suggest some books for someone who liked {b}.",
        "What should I pack for a week of hiking in {c}?",
    ]).format(c=r.choice(["Lisbon", "Kyoto", "Oaxaca", "Edinburgh", "Istanbul", "Hanoi", "Norway"]),
              b=r.choice(["The Hobbit", "Pride and Prejudice", "Dune", "Sapiens", "Beloved"]))


@template("g-long-notes", "general", "write", "cheap", "long paste, routine rewriting", 10)
def _(r):
    notes = sentences(r, NOTE_SENTENCES, r.randint(12, 40))
    return r.choice([
        "Here are my notes from the week:\n\n{n}\n\nTurn them into a friendly newsletter for the team.",
        "{n}\n\nCan you rewrite this as a short, upbeat email to everyone?",
        "Please summarise these meeting notes in five bullet points:\n{n}",
        "Make this sound warmer and more professional, keep it about the same length:\n\n{n}",
    ]).format(n=notes)


@template("g-long-story", "general", "write", "cheap", "long creative continuation", 8)
def _(r):
    story = sentences(r, STORY_SENTENCES, r.randint(10, 30))
    return r.choice([
        "{s}\n\nContinue the story for another few paragraphs, same tone.",
        "Here is the opening of my children's book:\n\n{s}\n\nWrite the next chapter.",
        "{s}\n\nWhat do you think of this opening? Any suggestions to make it more gripping?",
    ]).format(s=story)


@template("g-math-essay", "general", "write", "cheap",
          "mathematical words, but an essay or history is asked", 9)
def _(r):
    return r.choice([
        "Write a short essay on the history of Fermat's Last Theorem and why its proof mattered.",
        "Explain to a general audience why mathematicians care about proofs.",
        "Who was Emmy Noether and what is her theorem about, roughly?",
        "Write a blog post about the beauty of prime numbers for people who hated maths at school.",
        "Tell me the story of how the Poincaré conjecture was solved.",
        "Why do some people find probability so counter-intuitive? Give a few famous examples.",
        "Describe the life of Srinivasa Ramanujan in three paragraphs.",
        "what is calculus used for in everyday life",
    ])


# General prompts: standard ------------------------------------------------------------------------

@template("g-word-rate", "general", "compute", "standard", "multi-step arithmetic word problem", 12)
def _(r):
    a, b = r.randint(2, 9), r.randint(2, 12)
    return r.choice([
        "If {a} pumps fill a tank in {b} hours, how long do {c} pumps take?",
        "A train leaves at 9:{m:02d} going {s} km/h; another leaves the same station at 10:00 going {t} km/h. When does the second catch up?",
        "{n} reads {p} pages a day and the book has {q} pages. She skips Sundays and starts on a Monday. On which day does she finish?",
        "Two painters take {a} and {b} hours alone. How long together?",
    ]).format(a=a, b=b, c=a + r.randint(1, 5), m=r.randint(0, 59), s=r.randint(50, 90),
              t=r.randint(95, 140), n=pick(r, "name"), p=r.randint(12, 40), q=r.randint(200, 600))


@template("g-word-money", "general", "compute", "standard", "percentages and money over several steps", 12)
def _(r):
    return r.choice([
        "A jacket costs {p} euros. It's discounted {d}% and then VAT of 20% is added to the discounted price. What do I pay?",
        "{n} buys {k} {i} at {c} cents each and pays with a {b} euro note. How much change?",
        "I invest {p} at {d}% a year compounded monthly. How much after 3 years?",
        "Rent went up {d}% last year and {e}% this year. What's the total increase in percent?",
        "{n} splits a {p} euro bill with 3 friends; she pays for her own {c} euro dessert separately. What does each person owe?",
    ]).format(p=r.randint(40, 900), d=r.randint(5, 35), e=r.randint(2, 15), n=pick(r, "name"),
              k=r.randint(3, 14), i=pick(r, "item"), c=r.randint(35, 95), b=r.choice([10, 20, 50]))


@template("g-word-age", "general", "compute", "standard", "algebra hidden in a story", 10)
def _(r):
    a = r.randint(3, 9)
    return r.choice([
        "{n} is {a} times as old as her son. In {b} years she'll be twice his age. How old is she now?",
        "A farmer has chickens and cows: {h} heads and {l} legs. How many cows?",
        "I have {c} coins, all 5s and 20s, worth {v} in total. How many of each?",
        "The sum of three consecutive even numbers is {s}. What are they?",
    ]).format(n=pick(r, "name"), a=a, b=r.randint(6, 20), h=r.randint(20, 60), l=r.randint(2, 6) * 2 + 120,
              c=r.randint(15, 40), v=r.randint(20, 60) * 5, s=r.randint(10, 60) * 6)


@template("g-probability", "general", "compute", "standard", "small probability calculation", 10)
def _(r):
    return r.choice([
        "What's the probability of rolling at least one six in {k} dice throws?",
        "I draw 2 cards from a deck without replacement. Chance both are hearts?",
        "A bag has {a} red and {b} blue marbles. I take 3. Probability exactly two are red?",
        "If {a}% of emails are spam and the filter catches 95% of spam with 2% false positives, what fraction of flagged emails are spam?",
    ]).format(k=r.randint(2, 6), a=r.randint(3, 12), b=r.randint(3, 12))


@template("g-stem-calc", "general", "compute", "standard", "STEM calculation with units", 10)
def _(r):
    return r.choice([
        "A ball is thrown at {v} m/s at {d} degrees. How far does it land (no air resistance)?",
        "How many grams of NaCl do I need for {m} mL of a 0.{c} M solution?",
        "A {w} W heater runs {h} hours a day for 30 days at 0.{p} euros per kWh. Monthly cost?",
        "What's the resistance of two {a} ohm and one {b} ohm resistor, all in parallel?",
        "A car goes from 0 to {v} km/h in {h} seconds. Average acceleration in m/s²?",
    ]).format(v=r.randint(8, 30), d=r.choice([30, 45, 60]), m=r.randint(100, 900), c=r.randint(1, 9),
              w=r.randint(500, 2500), h=r.randint(2, 9), p=r.randint(15, 45), a=r.randint(2, 50) * 10,
              b=r.randint(2, 50) * 10)


@template("g-extract", "general", "extract", "standard", "extraction under exact constraints", 12)
def _(r):
    people = r.sample(S["name"], 4)
    text = " ".join("%s paid %d.%02d EUR on 2026-%02d-%02d for %s." % (
        p, r.randint(5, 300), r.randint(0, 99), r.randint(1, 12), r.randint(1, 28), pick(r, "item"))
        for p in people)
    text += " " + sentences(r, NOTE_SENTENCES, r.randint(1, 4))
    return r.choice([
        "{t}\n\nExtract every payment as JSON objects with keys name, amount (number), date, sorted by date. Nothing else.",
        "From the text below, list each person and the total they paid, largest first, as a markdown table.\n\n{t}",
        "{t}\nReturn only a CSV with columns date,name,amount for payments above 50 EUR.",
    ]).format(t=text)


@template("g-exact-words", "general", "write", "standard", "writing under exact countable constraints", 9)
def _(r):
    return r.choice([
        "Write a sentence of exactly {k} words where every word starts with the letter {c}.",
        "Write a poem whose lines have exactly 5, 7 and 5 syllables and where the first letters spell {w}.",
        "Give me a {k}-word summary of Romeo and Juliet that does not use the letter e.",
        "List {k} countries whose names contain no letter 'a', alphabetically.",
    ]).format(k=r.randint(6, 14), c=r.choice("STBMPL"), w=r.choice(["RAIN", "HOPE", "CAT", "LIGHT"]))


@template("g-logic", "general", "reason", "standard", "small logic puzzle with one right answer", 10)
def _(r):
    n = r.sample(S["name"], 3)
    return r.choice([
        "{a} is taller than {b}. {c} is shorter than {b}. Who is the shortest?",
        "{a} always lies and {b} always tells the truth. One of them says 'we are both liars'. Who said it?",
        "If it's Tuesday the day after tomorrow, what day was it three days before yesterday?",
        "{a} cuts a 12-metre ribbon into 3-metre pieces, one cut a minute. How many minutes until she is done?",
        "A clock shows 3:15. What is the angle between the hands?",
        "Which is heavier: a kilo of feathers or a pound of bricks? Explain.",
    ]).format(a=n[0], b=n[1], c=n[2])


@template("g-code-small", "general", "code", "standard", "a small but exact program", 10)
def _(r):
    return r.choice([
        "Write a Python function that returns how many days are left until the next 29 February from a given date.",
        "Write a program that prints the numbers 1 to 100, but multiples of 7 print 'boom'.",
        "Write JavaScript that checks whether a string is a palindrome, ignoring spaces and punctuation.",
        "Write a function that counts vowels in a sentence, treating 'y' as a vowel only at the end of a word.",
        "How do I reverse the words in a sentence in {l} but keep the punctuation in place?",
        "Write a function to find the second largest number in a list with duplicates.",
    ]).format(l=pick(r, "lang"))


@template("g-roleplay-task", "general", "compute", "standard", "role-play wrapper around an exact calculation", 8)
def _(r):
    return r.choice([
        "You are {ro}. A customer buys {k} items at {p} coins each and pays with {q} coins; tell them their change in character.",
        "Pretend you're {ro}: three sacks of flour and a {a}-coin cart cost {b} coins together. In character, work out the price of one sack and show each step.",
        "As {ro}, work out how many days a voyage of {d} miles takes at {s} knots, sailing 16 hours a day.",
    ]).format(ro=pick(r, "role"), k=r.randint(3, 9), p=r.randint(4, 19), q=r.randint(200, 300),
              a=r.randint(2, 20), b=r.randint(30, 90), d=r.randint(300, 2000), s=r.randint(5, 12))


@template("g-schedule", "general", "reason", "standard", "constraint scheduling with one right answer", 8)
def _(r):
    n = r.sample(S["name"], 4)
    return ("{a}, {b}, {c} and {d} each give one talk, Monday to Thursday. {a} can't do Monday. "
            "{b} speaks the day after {c}. {d} speaks before {a}. Who speaks on which day?").format(
        a=n[0], b=n[1], c=n[2], d=n[3]) if r.random() < 0.5 else (
        "Seat {a}, {b}, {c}, {d} at a round table so that {a} is not next to {b} and {c} sits directly "
        "opposite {a}. How many arrangements are there, counting rotations as the same?").format(
        a=n[0], b=n[1], c=n[2], d=n[3])


# General prompts: premium -------------------------------------------------------------------------

@template("g-proof", "general", "prove", "premium", "a proof: every step must hold", 12)
def _(r):
    return r.choice([
        "Prove that {p} divides n^{p} - n for every positive integer n.",
        "Show that there are infinitely many primes of the form 4k+3.",
        "Prove that every tree with n vertices has n-1 edges.",
        "prove the sum of the first n odd numbers is n²",
        "Show that in any group of {k} people, two have the same number of friends in the group.",
        "Prove that a graph is bipartite if and only if it has no odd cycle.",
        "Show that n³ - n is divisible by 6 for every integer n.",
        "Prove that there is no largest prime.",
        "Prove by induction that 2^n > n² for all n ≥ 5.",
    ]).format(p=r.choice([3, 5, 7, 11]), k=r.randint(5, 30))


@template("g-hard-puzzle", "general", "reason", "premium", "hard puzzle, many dependent steps", 10)
def _(r):
    return r.choice([
        "You have 12 coins, one counterfeit (heavier or lighter). With three weighings on a balance, find it and say whether it's heavier or lighter.",
        "Three boxes are labelled apples, oranges and mixed, and all labels are wrong. You may draw one fruit from one box. How do you relabel them all?",
        "A farmer must cross a river with a wolf, a goat, a cabbage and a second goat; the boat holds him and one item. Give the shortest plan.",
        "100 prisoners and a light bulb: design a strategy that guarantees someone eventually knows all have visited.",
        "Five pirates split {g} gold coins by proposing splits in order of seniority; a proposal passes with at least half the votes. What does the most senior pirate propose?",
        "Find all 4-digit numbers that are 4 times their own reverse.",
    ]).format(g=r.choice([100, 120, 50]))


@template("g-hard-math", "general", "compute", "premium", "counting or expectation with traps", 10)
def _(r):
    return r.choice([
        "How many ways can you tile a 2×{n} board with 1×2 dominoes?",
        "What is the expected number of rolls of a fair die to see all six faces?",
        "How many integers between 1 and {m} are divisible by neither 3, 5 nor 7?",
        "Solve the recurrence a(n) = 3a(n-1) - 2a(n-2) with a(0)=1, a(1)={k}.",
        "I flip a coin until I see two heads in a row. Expected number of flips?",
        "How many 5-card poker hands contain exactly two pairs?",
        "Find the number of lattice paths from (0,0) to ({n},{n}) that never go above the diagonal.",
    ]).format(n=r.randint(6, 12), m=r.choice([1000, 2000, 5000]), k=r.randint(2, 9))


@template("g-algo-design", "general", "code", "premium", "algorithm design with proof of bound", 8)
def _(r):
    return r.choice([
        "Give an O(n log n) algorithm for the longest increasing subsequence and prove it correct.",
        "Design an algorithm that finds the shortest window of a string containing every character of a second string in O(n), with the edge cases.",
        "How can you detect a cycle in a linked list with O(1) memory? Prove the pointers meet.",
        "Support 'how many keys lie between lo and hi' in O(h) time on a BST augmented with subtree sizes; show the invariant.",
    ])


@template("c-howto", "coding", "recall", "cheap", "how-to recall with a standard answer", 8)
def _(r):
    return r.choice([
        "how do I {t} in git",
        "What's the command to {t}?",
        "remind me how to {t}",
    ]).format(t=r.choice([
        "delete a remote branch", "squash the last three commits", "see who changed a line",
        "list files changed in a commit", "undo a pushed commit", "change the last commit message",
        "ignore a file that is already tracked", "copy a file from another branch",
        "show the diff of staged changes", "create an annotated tag"]))


@template("g-recall-facts", "general", "recall", "cheap", "factual recall", 8)
def _(r):
    return r.choice([
        "What is the capital of {c}?", "What language do people speak in {c}?",
        "What's {c} famous for?", "Tell me a bit about the geography of {c}.",
        "What currency does {c} use?",
    ]).format(c=r.choice(["Peru", "Mongolia", "Ghana", "Finland", "Vietnam", "Chile", "Morocco",
                          "New Zealand", "Uruguay", "Slovenia", "Kenya", "Nepal"]))


@template("c-plain-hard-bug", "coding", "debug", "premium",
          "a hard fault described in plain words, no tell-tale vocabulary", 9)
def _(r):
    return r.choice([
        "Sometimes the totals in the nightly report are doubled, but only when two imports run at the same time. Find out why.",
        "Users occasionally see another user's cart for a second after logging in. The session code is in {f}.",
        "Every few days the worker stops picking up jobs until we restart it; nothing in the logs. Figure it out.",
        "Our cache returns stale prices for about a minute after an update, but only on two of the six servers.",
        "The retry logic in {f} sometimes sends the same email three times. Make it send exactly once.",
        "After the upgrade, a small fraction of uploads end up truncated at exactly 64 KB. Track it down.",
        "Timestamps drift by one hour for some users twice a year. Find every place that causes it in {f} and its callers.",
    ]).format(f=pick(r, "file"))


@template("c-api-change", "coding", "design", "premium",
          "an interface change that must stay compatible across callers", 8)
def _(r):
    return r.choice([
        "Switch /v1/orders from offset to cursor pagination without breaking existing clients.",
        "Make {fn} in {f} async; it has about forty callers across the codebase.",
        "Add multi-currency support to the invoice totals; old invoices must render exactly as before.",
        "Replace our homegrown config loader with environment variables plus a file, keeping every current setting working.",
        "Split the monolith's billing code into a separate service behind the same HTTP API.",
    ]).format(fn=pick(r, "func"), f=pick(r, "file"))


@template("c-explain-code-long", "coding", "recall", "cheap",
          "explaining code that exists, long paste", 8)
def _(r):
    code = r.choice([CODE_FILE_PY, CODE_FILE_JS]) * r.randint(1, 2)
    lang, snippet, _ = r.choice(BUGGY)
    return r.choice([
        "Walk me through this code line by line, I'm new to the project:\n\n{c}",
        "{c}\n\nWhat design patterns does this use? Just describe them.",
        "Explain to a non-programmer what this does:\n{s}",
        "Add comments to this code explaining each step; do not change the code itself.\n\n{c}",
    ]).format(c=code, s=snippet)


@template("g-long-article", "general", "recall", "cheap",
          "long pasted text, open-ended reading question", 8)
def _(r):
    text = sentences(r, NOTE_SENTENCES + STORY_SENTENCES, r.randint(15, 35))
    return r.choice([
        "{t}\n\nWhat's the main idea of this text?",
        "Here's something I wrote:\n\n{t}\n\nHow does it come across? Any general impressions?",
        "{t}\n\nSuggest three possible titles for this.",
        "Read this and tell me what the mood is:\n\n{t}",
    ]).format(t=text)


@template("g-multi-step-units", "general", "compute", "standard",
          "a chain of unit conversions and arithmetic", 9)
def _(r):
    return r.choice([
        "My car uses {a} litres per 100 km. Fuel costs {p} per litre. What does a {d} km round trip cost?",
        "A recipe for {k} people needs {g} g of flour. How many cups for {m} people if a cup holds 125 g?",
        "I walk at {s} km/h. How many minutes to cover {d} km, with a 10-minute break every hour of walking?",
        "A {w}x{h} m room gets tiles of 30x30 cm, and 10% extra for cuts. How many tiles do I buy?",
        "If I save {p} a week and get {a}% interest once a year, how much do I have after two years?",
    ]).format(a=r.randint(4, 9), p=r.choice(["1.80", "1.65", "2.10", "25", "40"]), d=r.randint(30, 400),
              k=r.randint(2, 6), g=r.randint(200, 600), m=r.randint(7, 15), s=r.choice([4, 5, 6]),
              w=r.randint(3, 7), h=r.randint(2, 6))


@template("g-hard-reasoning", "general", "reason", "premium",
          "many interlocking constraints, one right answer", 8)
def _(r):
    n = r.sample(S["name"], 5)
    return r.choice([
        "{a}, {b}, {c}, {d} and {e} live in five houses in a row. {a} is not at either end, {b} lives right of {c}, "
        "{d} is next to {e}, and {c} is in the middle. Who lives where? Give every possible answer.",
        "A tournament has {k} teams and every pair plays once; a win is 3 points, a draw 1. What is the highest number of points the last-placed team can have?",
        "Find the smallest positive integer that leaves remainders 1, 2, 3 and 4 when divided by 2, 3, 4 and 5.",
        "On an island, {a} says '{b} is a knave', {b} says '{c} and I are the same type', {c} says nothing. Knights always tell the truth, knaves always lie. What is each?",
    ]).format(a=n[0], b=n[1], c=n[2], d=n[3], e=n[4], k=r.randint(4, 8))


# One-offs written by hand (each its own group) ----------------------------------------------------

ONE_OFFS = [
    # (half, kind, label, reason, prompt)
    ("coding", "code", "cheap", "trivial rename", "rename foo to bar"),
    ("coding", "recall", "cheap", "greeting", "hi, are you working?"),
    ("coding", "code", "cheap", "simple edit", "add a newline at the end of every file in docs/"),
    ("coding", "recall", "cheap", "how-to recall", "how do I undo the last git commit but keep the changes"),
    ("coding", "recall", "cheap", "explanation", "what's the difference between a Docker image and a container"),
    ("coding", "write", "cheap", "prose", "write a friendly message to the team saying the staging server is back"),
    ("coding", "code", "cheap", "mechanical", "Convert the tabs in Makefile.inc to spaces except in recipe lines."),
    ("coding", "recall", "cheap", "explanation", "Explain the folder structure of a typical Django project."),
    ("coding", "code", "standard", "exact bug fix, short", "the total is off by a cent sometimes"),
    ("coding", "debug", "standard", "debugging", "npm test hangs after the last test finishes"),
    ("coding", "debug", "standard", "debugging", "Segfault in the C extension when the input is empty. Find it."),
    ("coding", "code", "standard", "precise", "Make the date parser accept both 2026-01-05 and 05/01/2026 (day first) and reject 31/02/2026."),
    ("coding", "code", "premium", "distributed correctness", "make the payment webhook handler idempotent across retries and concurrent deliveries"),
    ("coding", "code", "premium", "hard", "Implement exactly-once processing for the Kafka consumer in worker/tasks.py."),
    ("coding", "debug", "premium", "heisenbug", "it only fails on ARM"),
    ("coding", "design", "premium", "schema evolution", "design a zero-downtime migration that splits the users table into accounts and profiles"),
    ("general", "chat", "cheap", "chit-chat", "hello! how's your day going?"),
    ("general", "recall", "cheap", "recall", "What is the capital of Australia?"),
    ("general", "recall", "cheap", "recall", "How many continents are there?"),
    ("general", "write", "cheap", "creative", "Write a bedtime story about a sleepy dragon."),
    ("general", "chat", "cheap", "opinion", "cats or dogs?"),
    ("general", "recall", "cheap", "definition", "define serendipity"),
    ("general", "write", "cheap", "rewrite", "Make this funnier: our printer is broken again."),
    ("general", "recall", "cheap", "recall", "Who painted the Mona Lisa and when?"),
    ("general", "compute", "standard", "arithmetic, short", "What is 17% of 240, plus 15?"),
    ("general", "compute", "standard", "arithmetic, short", "How many seconds are in a leap year?"),
    ("general", "compute", "standard", "short word problem", "Two identical candles each burn down in 6 hours; the second is lit 2 hours after the first. At what time are they the same length?"),
    ("general", "reason", "standard", "trick question", "A kettle and a mug cost 23 together. The kettle costs 17 more than the mug. What does the mug cost?"),
    ("general", "compute", "standard", "calendar arithmetic", "What day of the week was 1 March 1990?"),
    ("general", "compute", "standard", "unit conversion chain", "How many litres of paint for two coats on a 4 by 5 metre wall if a litre covers 12 m²?"),
    ("general", "compute", "premium", "hard short maths", "Find all integer solutions of x² - 2y² = 1 with 0 < x < 200."),
    ("general", "prove", "premium", "proof", "Is 0.999... equal to 1? Give a rigorous proof."),
    ("general", "reason", "premium", "hard puzzle", "Two doors, two guards, one always lies. One question. Which question finds the safe door, and why does it work?"),
    ("general", "compute", "premium", "hard short maths", "What's the last digit of 7^2026?"),
]


# Per-template counts are scaled by label and half so the set has the mix we want: about half
# cheap overall (more on the general side), the rest standard with fewer premium.
SCALE = {("coding", "cheap"): 2.0, ("coding", "standard"): 1.2, ("coding", "premium"): 1.0,
         ("general", "cheap"): 1.9, ("general", "standard"): 1.0, ("general", "premium"): 1.0}


def generate():
    rng = random.Random(SEED)
    rows = []
    seen = set()
    for group, half, kind, label, reason, count, make in T:
        count = int(round(count * SCALE[half, label]))
        made, tries = 0, 0
        while made < count and tries < count * 20:
            tries += 1
            prompt = make(rng)
            if prompt in seen:
                continue
            seen.add(prompt)
            made += 1
            rows.append({"id": "%s-%02d" % (group, made), "prompt": prompt, "label": label,
                         "reason": reason, "kind": kind, "half": half, "group": group})
    for number, (half, kind, label, reason, prompt) in enumerate(ONE_OFFS, 1):
        group = "one-%s-%02d" % (half[0], number)
        rows.append({"id": group, "prompt": prompt, "label": label, "reason": reason,
                     "kind": kind, "half": half, "group": group})
    for row in rows:
        row["split"] = split_of(row["id"])
    return rows


def split_of(prompt_id):
    """The fixed rule: crc32 of the prompt id mod 5 == 0 is held out (about one in five of
    every template; tools/train_router.py also reports templates held out whole)."""
    return "test" if zlib.crc32(prompt_id.encode()) % 5 == 0 else "train"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=OUT)
    parser.add_argument("--check", action="store_true", help="fail if the file on disk differs")
    args = parser.parse_args()
    rows = generate()
    text = "".join(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n" for row in rows)
    if args.check:
        with open(args.out, encoding="utf-8") as fh:
            same = fh.read() == text
        print("up to date" if same else "differs: re-run tools/gen_routing_set.py")
        return 0 if same else 1
    with open(args.out, "w", encoding="utf-8") as fh:
        fh.write(text)
    stats = {}
    for row in rows:
        key = (row["half"], row["split"], row["label"])
        stats[key] = stats.get(key, 0) + 1
    print("%d prompts written to %s" % (len(rows), os.path.relpath(args.out, REPO)))
    for key in sorted(stats):
        print("  %-8s %-5s %-8s %d" % (key + (stats[key],)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
