"""One check of an import entry's fields where the parsers hand it to the writer.

A transcript is input we do not control: a `sessionId` that is an object, a `cwd` that is a
list, a `model` that is a number, a token count of 1e308 or -5. Any of them used to stop the
whole import (a TypeError in a set, an OverflowError in SQLite) and with it report, logs and
budget. An entry that fails here is skipped and counted (`summary["malformed"]`); the others
of the same file are imported.

`entry_ok` is the rule. `imports._Parsed` applies it to a file's entries at a fraction of the
cost, in its own pass over them: the text fields repeat (one session, model, project and
branch for hundreds of entries), so an entry whose text fields equal those of one accepted
before, in the usual shape (a float time, integer counts), is checked field by field inline
against the limits here; anything else goes through `entry_ok` itself, so exactly what
`entry_ok` refuses is refused (a test holds the two to each other).
"""

from shim.telemetry.record import TOKEN_KEYS
from shim.tools import BUILTIN_TOOLS as TOOLS  # the tools an import reads

# Far beyond any context window, and millions of such entries still sum inside SQLite's
# 64-bit INTEGER (a SUM() past 2**63 - 1 is an error, not a large number).
MAX_TOKENS = 10 ** 12
# 9999-12-31T23:59:59Z: past it, date formatting (report, logs) raises OverflowError.
MAX_TS = 253402300799
MAX_TEXT = 4096   # a path, a branch, a model id or a key longer than this is not one
TOKEN_FIELDS = TOKEN_KEYS
# An entry as the parsers hand it over (imports/claude.py, codex.py; llm's dicts turned into it).
ENTRY = ("key", "ts", "session_id", "model", "cwd", "git_branch", "prompt_chars") + TOKEN_FIELDS


def ok(entry):
    """`entry_ok` for an entry as a dict (tool, then the ENTRY fields by name)."""
    return type(entry) is dict and entry_ok(entry.get("tool"),
                                            tuple(entry.get(name) for name in ENTRY))


def entry_ok(tool, entry):
    """True when every field the writer stores has the type and range it expects, for an
    entry as the parsers give it (a tuple in ENTRY order): tool one of TOOLS, key a non-empty
    text, ts a number of seconds in [0, MAX_TS], the text fields text or None, prompt_chars
    and the token counts integers in [0, MAX_TOKENS] or None. Written flat (a few µs an
    entry, against tens for parsing its line): it runs on every entry."""
    if tool not in TOOLS or type(entry) is not tuple or len(entry) != 12:
        return False
    ts = entry[1]
    if (type(ts) is not float and type(ts) is not int) or not 0 <= ts <= MAX_TS:
        return False
    for value in entry[6:]:
        if value is not None and (type(value) is not int or not 0 <= value <= MAX_TOKENS):
            return False
    key = entry[0]
    if type(key) is not str or not key or len(key) > MAX_TEXT or not (key.isascii()
                                                                      or _utf8(key)):
        return False
    for value in entry[2:6]:
        if value is not None and (type(value) is not str or len(value) > MAX_TEXT
                                  or not (value.isascii() or _utf8(value))):
            return False
    return True


def _utf8(value):
    """A str SQLite can store: UTF-8, so no lone surrogate (from a `\\ud800` escape)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
