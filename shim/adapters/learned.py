"""The learned grammar of a real binary, as the hot path reads it: one marshal file per binary.

`shim.grammar.learn` runs the binary's own `--help` (top level and the subcommands that
matter) and writes `<cache dir>/grammar-<tool>-<crc32 of its resolved path>.marshal`, keyed by
the binary's identity (resolved path, size, mtime). `load` stats the binary and returns the
table when the key matches. When it does not (absent, or the binary changed since), the call
goes on with the built-in tables alone, and one detached process relearns: a lock file made
with O_EXCL keeps concurrent shims from starting a second one. Never delays the call.

Table: {"tool", "version", "learned_at", "key", "commands": {"": {"flags": {name: arity},
"subcommands": [...]}, "exec": {...}, ...}} (command path joined by spaces), or, when
learning failed, {"key", "error"} so the shim does not retry on every call.

Hot path: imports only os, marshal, zlib and our light modules.
"""

import marshal
import os
import zlib

from shim import paths, safefs

FORMAT = 1
_MAGIC = b"LSGR"
# A lock older than this is from a learner that died: the next call may start another.
LOCK_STALE_SECONDS = 300


def identity(binary):
    """(resolved path, size, mtime_ns) of `binary`, or None when it cannot be stat'ed."""
    try:
        real = os.path.realpath(binary)
        st = os.stat(real)
    except (OSError, ValueError):
        return None
    return (real, st.st_size, st.st_mtime_ns)


def cache_file(tool, real_path):
    crc = zlib.crc32(real_path.encode("utf-8", "surrogateescape"))
    return os.path.join(paths.cache_dir(), "grammar-%s-%08x.marshal" % (tool, crc))


def read(target):
    """The stored table at `target`, or None (absent, corrupt, another format)."""
    try:
        with open(target, "rb") as fh:
            blob = fh.read()
    except OSError:
        return None
    payload = blob[8:]
    if blob[:4] != _MAGIC or int.from_bytes(blob[4:8], "big") != zlib.crc32(payload):
        return None
    try:
        table = marshal.loads(payload)
    except (EOFError, ValueError, TypeError):
        return None
    if not isinstance(table, dict) or table.get("format") != FORMAT:
        return None
    return table


def write(target, table):
    """Replace `target` atomically; False when the cache dir cannot be written."""
    payload = marshal.dumps(dict(table, format=FORMAT))
    blob = _MAGIC + zlib.crc32(payload).to_bytes(4, "big") + payload
    try:
        paths.ensure_dir(os.path.dirname(target))
        safefs.write_atomic(target, blob)
    except OSError:  # safefs.Refused included: the table is simply not kept
        return False
    return True


def lookup(tool, binary):
    """(table or None, status): status "hit", "error" (learning failed for this binary),
    "stale" (it changed since), "absent" or "unknown" (it cannot be stat'ed)."""
    key = identity(binary)
    if key is None:
        return None, "unknown"
    table = read(cache_file(tool, key[0]))
    if table is None:
        return None, "absent"
    if tuple(table.get("key") or ()) != key:
        return None, "stale"
    if table.get("error"):
        return None, "error"
    return table, "hit"


def load(tool, binary, environ=None, relearn=None):
    """The learned table for the real `binary` of `tool`, or None. On "absent" or "stale"
    one background relearn starts (`relearn(tool, binary)`, default: spawn the learner)."""
    table, status = lookup(tool, binary)
    if status in ("absent", "stale") and claim(tool, binary):
        (relearn or spawn_relearn)(tool, binary)
    return table


def lock_file(tool, binary):
    return cache_file(tool, os.path.realpath(binary)) + ".lock"


def claim(tool, binary, now=None):
    """True for exactly one caller until the learner releases the lock (or it goes stale)."""
    lock = lock_file(tool, binary)
    for _ in range(2):
        try:
            paths.ensure_dir(os.path.dirname(lock))
            fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            try:
                age = (now if now is not None else _now()) - os.stat(lock).st_mtime
            except OSError:
                continue
            if age < LOCK_STALE_SECONDS:
                return False
            try:
                os.unlink(lock)
            except OSError:
                return False
            continue
        except OSError:
            return False
        os.close(fd)
        return True
    return False


def release(tool, binary):
    try:
        os.unlink(lock_file(tool, binary))
    except OSError:
        pass


def _now():
    import time

    return time.time()


def spawn_relearn(tool, binary):
    """Start `python -m shim.grammar.learn TOOL BINARY`, detached; nobody waits for it."""
    from shim import detach

    detach.spawn("shim.grammar.learn", [tool, binary])


# -- what the adapters take from a table ------------------------------------------------------

def flags(table, commands=("",)):
    """{flag: arity} of the learned `commands` (command paths such as "" or "exec")."""
    out = {}
    for name in commands:
        out.update(((table.get("commands") or {}).get(name) or {}).get("flags") or {})
    return out


def subcommands(table, command=""):
    return frozenset(((table.get("commands") or {}).get(command) or {}).get("subcommands") or ())


def merge_spec(spec, learned_flags):
    """`spec` with the flags it does not know added at their learned arity: the built-in
    entry (what a flag means) always wins."""
    if not learned_flags:
        return spec
    arity = dict(learned_flags)
    arity.update(spec.get("arity", {}))
    booleans = spec.get("booleans", frozenset())
    for name in booleans:
        arity.pop(name, None)
    return dict(spec, arity=arity)


def describe(table):
    """`claude 2.1.332` for reasons and doctor, or None."""
    if not table or not table.get("version"):
        return None
    return "%s %s" % (table.get("tool"), table.get("version"))
