"""Where the tools keep their own logs, and a cheap listing of them (one stat per file, no read).

* Claude Code: every config dir — each entry of `$CLAUDE_CONFIG_DIR` (a comma-separated list
  is allowed), `~/.claude` and `~/.config/claude` — `projects/<dir>/*.jsonl` and the subagent
  transcripts `projects/<dir>/<session>/subagents/*.jsonl`;
* Codex: `$CODEX_HOME` (default `~/.codex`) `sessions/YYYY/MM/DD/rollout-*.jsonl[.zst]` and
  `archived_sessions/` (flat or dated);
* llm: `$LLM_USER_PATH/logs.db`, else llm's default app dir (record.llm_default_dir).
"""

import os

from shim.telemetry import importstamp
from shim.telemetry.harvest.codex import ROLLOUT_SUFFIXES


def roots(environ):
    """{"claude": [config dirs], "codex": [codex home], "llm": [logs.db path]}, each existing
    directory once (by real path), in the order above (candidates: shim.telemetry.importstamp)."""
    found = importstamp.candidates(environ)
    return {"claude": _existing(found["claude"]), "codex": _existing(found["codex"]),
            "llm": found["llm"]}


def _existing(directories):
    seen, out = set(), []
    for directory in directories:
        if not directory:
            continue
        directory = os.path.expanduser(directory)
        real = os.path.realpath(directory)
        if real in seen or not os.path.isdir(directory):
            continue
        seen.add(real)
        out.append(directory)
    return out


def identity(st):
    """What says a file changed: device, inode, size and mtime (ns)."""
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def scan(found_roots, visited=None):
    """[(tool, path, identity)] of every log file, sorted by path within each tool.
    `visited`: a list that gets (directory, mtime_ns or None) of each directory listed, the
    mtime taken before listing it (the import's stamp, shim.telemetry.importstamp)."""
    files = []
    for directory in found_roots.get("claude", ()):
        files += [("claude", p, i) for p, i in _claude_files(directory, visited)]
    for directory in found_roots.get("codex", ()):
        files += [("codex", p, i) for p, i in _codex_files(directory, visited)]
    for db in found_roots.get("llm", ()):
        ident = _llm_identity(db)
        if ident is not None:
            files.append(("llm", db, ident))
    return files


def _entries(directory, visited=None):
    if visited is not None:
        try:
            visited.append((directory, os.stat(directory).st_mtime_ns))
        except OSError:
            visited.append((directory, None))
    try:
        with os.scandir(directory) as it:
            return list(it)
    except OSError:
        return []


def _stat(entry):
    try:
        return identity(entry.stat())
    except OSError:
        return None


def _claude_files(config_dir, visited=None):
    out = []
    for project in _entries(os.path.join(config_dir, "projects"), visited):
        if not project.is_dir():
            continue
        for entry in _entries(project.path, visited):
            if entry.name.endswith(".jsonl") and entry.is_file():
                ident = _stat(entry)
                if ident:
                    out.append((entry.path, ident))
            elif entry.is_dir():
                for sub in _entries(os.path.join(entry.path, "subagents"), visited):
                    if sub.name.endswith(".jsonl") and sub.is_file():
                        ident = _stat(sub)
                        if ident:
                            out.append((sub.path, ident))
    out.sort()
    return out


def _codex_files(codex_home, visited=None):
    directories = []
    for base in ("sessions", "archived_sessions"):
        root = os.path.join(codex_home, base)
        directories.append(root)
        for year in _entries(root, visited):
            if year.is_dir():
                for month in _entries(year.path, visited):
                    if month.is_dir():
                        directories += [d.path for d in _entries(month.path, visited)
                                        if d.is_dir()]
    found = {}
    for directory in directories:
        for entry in _entries(directory, visited):
            if entry.name.startswith("rollout-") and entry.name.endswith(ROLLOUT_SUFFIXES):
                ident = _stat(entry)
                if ident:
                    found[entry.path] = ident
    # A rollout present plain and compressed (mid-compression) is read plain.
    return sorted((p, i) for p, i in found.items()
                  if not (p.endswith(".zst") and p[:-4] in found))


def _llm_identity(db):
    """logs.db with its -wal: llm writes through the WAL, so the main file may not change."""
    try:
        st = os.stat(db)
    except OSError:
        return None
    size, mtime = st.st_size, st.st_mtime_ns
    try:
        wal = os.stat(db + "-wal")
        size, mtime = size + wal.st_size, max(mtime, wal.st_mtime_ns)
    except OSError:
        pass
    return (st.st_dev, st.st_ino, size, mtime)
