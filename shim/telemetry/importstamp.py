"""Have the tools' own logs changed since the last import? A few stats answer it, no parse.

Budget admission imports usage outside the shim (an IDE's Claude, a daemon) before judging a
call (shim.telemetry.imports.refresh, bounded). Importing that package costs more than the
rest of a gated call (json, sqlite3's dbapi2, socket, hashlib), so the automatic import leaves
a *stamp* (`<data dir>/import-stamp.marshal`) when it finished with the store caught up: every
log file in the store as the scan saw it. Admission compares the stamp with the files as they
are now and imports only when something differs:

* the candidate roots (which directories the tools write to, from the environment, as
  `candidates` lists them), and whether each exists;
* the mtime of every directory the scan listed (a file created, removed or renamed in it),
  taken before it was listed;
* device, inode, size and mtime of every log file (appended, rewritten), and of llm's
  logs.db and its -wal, taken before the scan;
* the database file's device and inode, and how many files its import_files holds (a new
  store has imported nothing).

Any difference, a missing or unreadable stamp: not unchanged, so the full import runs and
writes a new stamp. The stamp is written only when the store holds every scanned file at the
identity scanned (nothing left for a later slice, nothing unreadable), so "unchanged" means
exactly "the import would find nothing to read".

Hot module: os, marshal, time and the shim's light modules only (docs/internals.md).
"""

import marshal
import os
import time

from shim import paths, safefs

STAMP_NAME = "import-stamp.marshal"
STAMP_VERSION = 1
# `off` turns the automatic import before report/logs/budget/admission off.
AUTO_ENV = "LLM_SHIM_IMPORT"
_OFF = ("off", "0", "no", "false")
# A directory changed this recently when the stamp was taken may change again within the same
# mtime tick (coarse file system clocks, 2 s on FAT) without its mtime moving: no stamp then.
RACY_NS = 3 * 10**9


def auto_off(environ):
    """True when LLM_SHIM_IMPORT turns the automatic import off."""
    return (environ.get(AUTO_ENV) or "").lower() in _OFF


def candidates(environ):
    """{"claude": [config dirs], "codex": [codex home], "llm": [logs.db path]}: where the tools
    write, before checking which exist (shim.telemetry.imports.sources.roots keeps those)."""
    home = environ.get("HOME") or os.path.expanduser("~")
    claude = [p.strip() for p in (environ.get("CLAUDE_CONFIG_DIR") or "").split(",")]
    claude += [os.path.join(home, ".claude"), os.path.join(home, ".config", "claude")]
    codex = [environ.get("CODEX_HOME") or os.path.join(home, ".codex")]
    if environ.get("LLM_USER_PATH"):
        llm_dir = environ["LLM_USER_PATH"]
    else:
        from shim.telemetry.record import llm_default_dir

        llm_dir = llm_default_dir(environ, home)
    return {"claude": [os.path.expanduser(p) for p in claude if p],
            "codex": [os.path.expanduser(p) for p in codex if p],
            "llm": [os.path.join(llm_dir, "logs.db")]}


def stamp_file():
    return os.path.join(paths.data_dir(), STAMP_NAME)


def _identity(path):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _mtime(path):
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def snapshot(environ):
    """What is taken before a scan: the candidate roots, which of them exist, llm's files."""
    roots = candidates(environ)
    exists = [(p, os.path.isdir(p)) for tool in ("claude", "codex") for p in roots[tool]]
    raw = [(p, _identity(p)) for db in roots["llm"] for p in (db, db + "-wal")]
    return {"roots": roots, "exists": exists, "raw": raw, "at_ns": time.time_ns()}


def _database_identity(db_file):
    ident = _identity(db_file)
    return None if ident is None else ident[:2]


def write(before, visited, found, db_file=None, stored=None):
    """Record the stamp: `before` (snapshot, taken before the scan), `visited` [(directory,
    mtime_ns or None)] as the scan listed them, `found` the scan's [(tool, path, identity)],
    `stored` how many rows import_files has (a store made anew at the same inode has fewer).
    Call only when the store holds every file of `found` at that identity. Never raises.
    Not written (the old one dropped) when a directory changed just before the scan."""
    if any(m is not None and m >= before["at_ns"] - RACY_NS for _path, m in visited):
        forget()
        return False
    db = _database_identity(db_file or paths.database_file())
    if db is None:
        return False
    stamp = {"version": STAMP_VERSION, "db": db, "stored": stored,
             "roots": before["roots"], "exists": before["exists"], "raw": before["raw"],
             "dirs": list(visited),
             "files": [(p, tuple(i)) for tool, p, i in found if tool != "llm"]}
    try:
        safefs.write_atomic(stamp_file(), marshal.dumps(stamp))
    except (OSError, safefs.Refused, ValueError):
        return False
    return True


def forget():
    """Drop the stamp (the import left something for later): the next admission imports."""
    try:
        os.unlink(stamp_file())
    except OSError:
        pass


def _read():
    try:
        fd = os.open(stamp_file(), os.O_RDONLY | safefs.CLOEXEC | safefs.NOFOLLOW)
    except OSError:
        return None
    try:
        data = os.read(fd, 1 << 24)
    except OSError:
        return None
    finally:
        os.close(fd)
    try:
        stamp = marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        return None
    if not isinstance(stamp, dict) or stamp.get("version") != STAMP_VERSION:
        return None
    return stamp


def unchanged(environ, conn=None, db_file=None):
    """True when every stat matches the stamp: importing now would read nothing. False on any
    doubt (no stamp, another store, other roots, a directory or file that changed). `conn`
    (the store's connection) adds one count of import_files, which a new store fails."""
    stamp = _read()
    if stamp is None:
        return False
    try:
        if stamp["db"] != _database_identity(db_file or paths.database_file()):
            return False
        if stamp["roots"] != candidates(environ):
            return False
        for path, existed in stamp["exists"]:
            if os.path.isdir(path) != existed:
                return False
        for path, ident in stamp["raw"]:
            if _identity(path) != ident:
                return False
        for path, mtime in stamp["dirs"]:
            if _mtime(path) != mtime:
                return False
        for path, ident in stamp["files"]:
            if _identity(path) != ident:
                return False
        if conn is not None and stamp["stored"] != conn.execute(
                "SELECT count(*) FROM import_files").fetchone()[0]:
            return False
    except (KeyError, TypeError, ValueError):
        return False
    return True
