"""Secrets never reach the store: redaction of argv, environment and free text.

llm-shim stores no argv and no environment at all (in any privacy mode); these helpers exist for
the places that might show them (a `full`-mode record, debug output, error messages) and are
applied by ingestion to every free-text column (reasons, block_reason, prompt/response text)
as a last line of defence against a key pasted into a prompt or echoed in an error.
"""

import re

REDACTED = "[REDACTED]"
_SECRET_NAME = re.compile(r"(api[-_]?key|apikey|token|secret|passw(or)?d|auth|credential|"
                          r"private[-_]?key|^key$)", re.IGNORECASE)
# Flags whose next argument (or `=value`) is a secret, e.g. --api-key, --key (llm), --token.
_SECRET_FLAG = re.compile(
    r"^--?[A-Za-z0-9_-]*?(api[-_]?key|key|token|secret|password|passwd|auth)$", re.IGNORECASE)
_CONFIG_FLAGS = ("-c", "--config", "-o", "--option")
# (pattern, replacement): whole tokens are replaced; for name=value pairs the name is kept.
_PATTERNS = [
    (re.compile(r"sk-ant-[A-Za-z0-9_\-]{8,}"), REDACTED),
    (re.compile(r"\bsk-[A-Za-z0-9_\-]{16,}"), REDACTED),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"), REDACTED),
    (re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}"), REDACTED),  # fine-grained GitHub tokens
    (re.compile(r"\bxox[abpr]-[A-Za-z0-9\-]{10,}"), REDACTED),
    (re.compile(r"\bAKIA[0-9A-Z]{16}\b"), REDACTED),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._\-~+/]{12,}=*"), r"\g<1>" + REDACTED),
    (re.compile(r"(?i)\b([A-Za-z0-9_]*(?:api[-_]?key|token|secret|password)[A-Za-z0-9_]*"
                r"['\"]?\s*[=:]\s*)(['\"]?)[^\s'\",}]{6,}"), r"\g<1>\g<2>" + REDACTED),
]


def is_secret_name(name):
    return bool(_SECRET_NAME.search(str(name)))


def redact_env(env):
    """A copy of `env` with the values of secret-looking names replaced."""
    return {k: (REDACTED if is_secret_name(k) and v else v) for k, v in dict(env).items()}


def redact_argv(argv):
    """A copy of `argv` with the values of --api-key-like flags and `-c *key*=` pairs replaced."""
    out = []
    redact_next = False
    config_next = False
    for arg in argv:
        arg = str(arg)
        if redact_next:
            out.append(REDACTED)
            redact_next = False
            continue
        if config_next:
            out.append(_redact_pair(arg))
            config_next = False
            continue
        if arg.startswith("-c") and len(arg) > 2 and not arg.startswith("--"):
            # An attached config pair: `-cfoo.token=abc` (clap also reads `-c=foo.token=abc`).
            head = "-c=" if arg.startswith("-c=") else "-c"
            out.append(head + _redact_pair(arg[len(head):]))
            continue
        if arg.startswith("-") and "=" in arg:
            flag, _, value = arg.partition("=")
            if _SECRET_FLAG.match(flag):
                out.append(f"{flag}={REDACTED}")
            elif flag in _CONFIG_FLAGS:
                out.append(f"{flag}={_redact_pair(value)}")
            else:
                out.append(arg)
            continue
        if arg in _CONFIG_FLAGS:
            config_next = True
        elif _SECRET_FLAG.match(arg):
            redact_next = True
        out.append(arg)
    return out


def _redact_pair(pair):
    key, sep, _value = pair.partition("=")
    if sep and is_secret_name(key.rsplit(".", 1)[-1]):
        return f"{key}={REDACTED}"
    return pair


def scrub_text(text):
    """`text` with anything that looks like a credential replaced; non-strings pass through."""
    if not isinstance(text, str) or not text:
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


TEXT_COLUMNS = ("block_reason", "prompt_text", "response_text")


def scrub_record(rec):
    """Scrub every free-text field of a record in place (reasons is a list of strings)."""
    if isinstance(rec.get("reasons"), list):
        rec["reasons"] = [scrub_text(r) for r in rec["reasons"]]
    for column in TEXT_COLUMNS:
        if column in rec:
            rec[column] = scrub_text(rec[column])
    return rec
