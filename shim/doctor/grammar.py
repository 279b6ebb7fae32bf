"""The doctor's view of each real tool's grammar: its version, whether the acceptance suite ran
against that version (shim/data/versions.env, the file install/versions.env links to), when
its grammar was learned from its `--help`, and which flags recent calls passed through
unrouted because neither the built-in nor the learned table knew them.
"""

import json
import os
import sqlite3
import time

from shim import paths
from shim.doctor.context import result

PINNED_KEYS = {"claude": "CLAUDE_CODE_VERSION", "codex": "CODEX_VERSION", "llm": "LLM_VERSION"}
RECENT_DAYS = 7
# The reason shim.routing.decide records, around shim.adapters.base.unknown's own:
# `arguments not understood (unknown flag --x[ (not in the --help of T V either)]): passed ...`
_UNKNOWN = "arguments not understood (unknown flag "
_TAIL = "): passed through untouched"
_LEARNED = " (not in the --help of "


def pinned_versions():
    """{tool: version} from the packaged versions.env ({} when it cannot be read)."""
    out = {}
    try:
        with open(paths.package_data("versions.env"), encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return out
    values = dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))
    for tool, key in PINNED_KEYS.items():
        if values.get(key):
            out[tool] = values[key].strip()
    return out


def recent_unknown_flags(days=RECENT_DAYS, database=None):
    """{tool: {flag: count}} from the attempts of the last `days` days that passed through
    because of an unknown flag."""
    path = database or paths.database_file()
    if not os.path.isfile(path):
        return {}
    since = time.time() - days * 86400
    try:
        conn = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=2)
        try:
            rows = conn.execute("SELECT tool, reasons FROM attempts WHERE started_at >= ? "
                                "AND reasons LIKE ?", (since, "%unknown flag%")).fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return {}
    out = {}
    for tool, reasons in rows:
        try:
            reasons = json.loads(reasons) if reasons else []
        except ValueError:
            reasons = [reasons]
        for reason in reasons:
            if isinstance(reason, str) and reason.startswith(_UNKNOWN):
                flag = unknown_flag_of(reason)
                counts = out.setdefault(tool, {})
                counts[flag] = counts.get(flag, 0) + 1
    return out


def unknown_flag_of(reason):
    """The flag, as typed, that an `arguments not understood (unknown flag ...)` reason names."""
    flag = reason[len(_UNKNOWN):]
    if flag.endswith(_TAIL):
        flag = flag[:-len(_TAIL)]
    return flag.partition(_LEARNED)[0]


def check(tool, table, pinned, unknown):
    """One result for `tool`: `table` is its learned grammar (or None)."""
    name = f"help:{tool}"
    lines = []
    version = (table or {}).get("version")
    if version:
        suite = pinned.get(tool)
        verdict = ("the version the acceptance suite ran against" if suite == version
                   else "not the version the acceptance suite ran against (%s)" % suite
                   if suite else "no pinned version to compare with")
        lines.append("%s %s: %s" % (tool, version, verdict))
    if table and table.get("error"):
        lines.append(table["error"])
    elif table:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(table.get("learned_at") or 0))
        commands = table.get("commands") or {}
        flags = sum(len(c.get("flags") or ()) for c in commands.values())
        lines.append("grammar learned %s from --help (%d flags, %d subcommands)" % (
            when, flags, len((commands.get("") or {}).get("subcommands") or ())))
    else:
        lines.append("grammar not learned (no real %s, or it does not learn)" % tool)
    found = "\n".join(lines)
    seen = unknown.get(tool) or {}
    if seen:
        listed = ", ".join("%s (%d call%s)" % (f, n, "" if n == 1 else "s")
                           for f, n in sorted(seen.items()))
        shown = "%s %s" % (tool, version or "(version unknown)")
        return result(name, False, f"unknown flags in recent calls of {shown}, passed "
                                   f"through unrouted: {listed}\n" + found,
                      "a newer %s than llm-shim knows, or a typo: upgrade llm-shim, or "
                      "report the flag" % tool, severity="warn")
    if table and table.get("error"):
        return result(name, False, "could not learn its grammar from --help\n" + found,
                      "check that `%s --help` works; calls still run, with the built-in "
                      "tables only" % tool, severity="warn")
    return result(name, True, found)


def check_all(ctx):
    """One result per tool that learns; relearns what is absent or stale first."""
    from shim.grammar import learn

    tables = learn.learn_all(ctx["cfg"], ctx["environ"], only_stale=True,
                             read_only=ctx["environ"].get("LLM_SHIM_LEARN") == "0")
    pinned = pinned_versions()
    unknown = recent_unknown_flags()
    return [check(tool, table, pinned, unknown) for tool, table in tables.items()]
