"""Why did an attempt fail? Classify it from the exit code, the output and the JSON hints.

Every real CLI exits 1 on every API error (../shared/REAL_CLIS.md, sections 4-6), so the exit
code only says *that* it failed; the class comes from, in this order:

1. the structured hints a usage tap read from a one-shot JSON stream (Claude's
   `api_error_status`, Codex's `turn.failed` / `error` messages);
2. the text of those hints, the held stdout and the stderr tail, matched against the error
   texts the real CLIs print (Claude prints its errors on stdout in text mode);
3. a generic tool's own `generic.failures` patterns (shim.adapters.failure_patterns).

Order matters where texts overlap: OpenAI's `insufficient_quota` arrives as a 429, Codex's idle
timeout is a "stream disconnected" message, a 400 can be a context overflow. A failed attempt
that matches nothing is `error` (never a fallback trigger by default).

Not on the hot path: imported only when an attempt failed or a fallback is possible.
"""

import re

CLASSES = ("rate_limited", "overloaded", "auth", "quota", "network", "timeout",
           "binary_missing", "context_too_long", "max_budget", "error")
# claude stopped itself at --max-budget-usd (shim.policy.cap): not a fallback trigger.
MAX_BUDGET_SUBTYPE = "error_max_budget_usd"

# timeout(1) and GNU coreutils' convention for "the command timed out".
TIMEOUT_EXIT = 124
# A child killed by SIGINT/SIGTERM/SIGHUP/SIGKILL: the user (or a supervisor) stopped it.
_INTERRUPTED = (128 + 1, 128 + 2, 128 + 9, 128 + 15)
TAIL_BYTES = 8192

# (class, pattern) in priority order, first match wins. Lower-cased text is matched.
_PATTERNS = (
    ("max_budget", r"reached maximum budget"),
    ("context_too_long", r"prompt is too long|context_length_exceeded|maximum context length"
                         r"|exceeds the context window|input is too long|context window exceeded"
                         r"|too many tokens|request too large"),
    ("quota", r"insufficient_quota|exceeded your current quota|credit balance is too low"
              r"|billing|usage limit|hit your limit|hour limit reached|weekly limit reached"
              r"|out of credits"
              r"|payment required|\b402\b"),
    ("rate_limited", r"\b429\b|rate[ _-]?limit|too many requests|request rejected \(429\)"
                     r"|slow down"),
    ("auth", r"failed to authenticate|not logged in|please run /login|\b401\b|\b403\b"
             r"|unauthorized|forbidden|invalid api key|invalid x-api-key|authentication_error"
             r"|permission_error|incorrect api key|missing environment variable"
             r"|api key not found|no api key|oauth token has expired"),
    ("timeout", r"timed out|timeout|deadline exceeded|etimedout"),
    ("network", r"unable to connect|econnreset|econnrefused|connectionrefused|enotfound"
                r"|eai_again|connection error|connection failed|connection reset"
                r"|connection refused|error sending request|stream disconnected"
                r"|stream closed before|network is unreachable|socket hang up"
                r"|could not resolve host|name or service not known"),
    ("overloaded", r"overloaded|\b529\b|\b50[0234]\b|service unavailable|bad gateway"
                   r"|internal server error|server-side issue|high demand|server error"
                   r"|temporarily unavailable|capacity"),
)
_COMPILED = None

_STATUS_CLASSES = {429: "rate_limited", 401: "auth", 403: "auth", 402: "quota",
                   413: "context_too_long", 408: "timeout", 500: "overloaded",
                   502: "overloaded", 503: "overloaded", 504: "timeout", 529: "overloaded"}

_RETRY_AFTER = (
    # OpenAI: "Please try again in 1s." / "in 20ms" / "in 1m30s"
    r"try again in\s+((?:\d+(?:\.\d+)?\s*(?:ms|s|m|h|sec|secs|seconds?|minutes?|hours?)\s*)+)",
    # HTTP header echoed in a message, or "retry after 5 seconds"
    r"retry[- ]after(?:-ms)?[:=\s]+(\d+(?:\.\d+)?)\s*(ms|s|seconds?)?",
)
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
                 "m": 60, "minute": 60, "minutes": 60, "h": 3600, "hour": 3600, "hours": 3600}


def _compiled():
    global _COMPILED
    if _COMPILED is None:
        _COMPILED = [(cls, re.compile(pattern)) for cls, pattern in _PATTERNS]
    return _COMPILED


def _text(value):
    if value is None:
        return ""
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value[-TAIL_BYTES:]).decode("utf-8", "replace")
    return str(value)[-TAIL_BYTES:]


def _hint_texts(usage_hints):
    """The error strings of a tap result (`usage["error"]`) or of a bare error dict."""
    err = (usage_hints or {}).get("error") if "error" in (usage_hints or {}) else usage_hints
    if not isinstance(err, dict):
        return None, []
    texts = [err.get("message")] + list(err.get("messages") or ())
    return err, [str(t) for t in texts if t]


def _is_error_hint(err):
    return bool(err) and bool(err.get("is_error"))


def diagnose(exit_code, stdout_tail=None, stderr_tail=None, usage_hints=None, tool=None,
             cfg=None):
    """{"class": str|None, "retry_after": seconds|None, "evidence": str|None}.

    exit_code 0 is a success unless the JSON says `is_error`; a child stopped by a signal the
    user sent (130, 143...) is not a failure of the tool, so None.
    """
    err, hint_texts = _hint_texts(usage_hints)
    failed = (exit_code not in (0, None)) or _is_error_hint(err)
    if not failed or exit_code in _INTERRUPTED:
        return {"class": None, "retry_after": None, "evidence": None}
    texts = hint_texts + [_text(stdout_tail), _text(stderr_tail)]
    joined = "\n".join(t for t in texts if t)
    lowered = joined.lower()
    retry_after = parse_retry_after(lowered)
    status = _status(err)
    cls, evidence = None, None
    if (err or {}).get("subtype") == MAX_BUDGET_SUBTYPE:
        return {"class": "max_budget", "retry_after": None, "evidence": MAX_BUDGET_SUBTYPE}
    if status is not None:
        cls = _STATUS_CLASSES.get(status)
        if cls is None and 500 <= status <= 599:
            cls = "overloaded"
        evidence = f"api_error_status {status}" if cls else None
        # A 429 that is really a quota, a 400/403 that is really a context overflow or quota.
        refined = _match(lowered)
        if refined[0] in ("quota", "context_too_long") and cls in (None, "rate_limited", "auth"):
            cls, evidence = refined
    if cls is None:
        cls, evidence = _match(lowered)
    if cls is None and exit_code == TIMEOUT_EXIT:
        cls, evidence = "timeout", "exit code 124"
    if cls is None:
        cls, evidence = _tool_patterns(tool, cfg, lowered)
    return {"class": cls or "error", "retry_after": retry_after, "evidence": evidence}


def classify(exit_code, stdout_tail=None, stderr_tail=None, usage_hints=None, tool=None,
             cfg=None):
    """The failure class of an attempt (see CLASSES), or None when it did not fail."""
    return diagnose(exit_code, stdout_tail, stderr_tail, usage_hints, tool, cfg)["class"]


def _status(err):
    if not err:
        return None
    try:
        return int(err.get("api_error_status"))
    except (TypeError, ValueError):
        return None


def _match(lowered):
    if not lowered:
        return None, None
    for cls, regex in _compiled():
        found = regex.search(lowered)
        if found:
            return cls, found.group(0)
    return None, None


def _tool_patterns(tool, cfg, lowered):
    """A generic tool's configured patterns (`generic.failures`), if any matches."""
    if not tool or not lowered or cfg is None:
        return None, None
    try:
        from shim import adapters

        cls, pattern = adapters.match_failure(tool, lowered, cfg)
        if cls in CLASSES:
            return cls, pattern
    except Exception:
        pass
    return None, None


def parse_retry_after(text):
    """Seconds to wait, from "try again in 1m30s" / "retry-after: 5" in `text`, or None."""
    if not text:
        return None
    lowered = text.lower()
    found = re.search(_RETRY_AFTER[0], lowered)
    if found:
        total = 0.0
        for number, unit in re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]+)", found.group(1)):
            total += float(number) * _UNIT_SECONDS.get(unit, 1)
        return total if total > 0 else None
    found = re.search(_RETRY_AFTER[1], lowered)
    if found:
        value = float(found.group(1))
        unit = found.group(2) or ("ms" if "after-ms" in found.group(0) else "s")
        seconds = value * _UNIT_SECONDS.get(unit, 1)
        return seconds if seconds > 0 else None
    return None
