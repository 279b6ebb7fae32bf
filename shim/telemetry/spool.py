"""The append-only spool: how an attempt record leaves the hot path without touching SQLite.

A shim appends one `repr(record)` line with a single `os.write` on an `O_APPEND` descriptor. An
ingester claims the spool by renaming it away, so the two never need the database at the same
time. The protocol that makes this exactly-once:

* a writer takes a *shared* flock on its descriptor, then checks that the path `spool.log` still
  names the inode it opened (an ingester may have renamed it in between); if not it reopens.
  It writes and closes while holding the lock. The lock is taken without blocking: if it is
  refused, an ingester holds the file, so it was already renamed, and the writer reopens;
* an ingester renames `spool.log` to a unique `claimed-<pid>-<rand>.log`, then takes an
  *exclusive* flock on it, which waits for writers still inside their write. After that no
  writer can ever write to that inode again: any later writer sees the name mismatch first;
* a claimed file is deleted only after its rows are committed. Files left by a crashed or failed
  ingester stay as `claimed-*.log` and are picked up by the next `claim()` (an exclusive lock
  taken without blocking tells a leftover from a file another ingester is working on).

Hot module: only os, errno, fcntl and the shim's own hot modules (`safefs` opens the files).
"""

import errno
import fcntl
import os

from shim import errors, paths, safefs

SPOOL_NAME = "spool.log"
CLAIM_PREFIX = "claimed-"
CLAIM_SUFFIX = ".log"
REJECTED_NAME = "rejected.log"
# A record older than this has waited too long: the policy gate (shim.policy.stale_spool) and
# the status line have the spool ingested, in the background (see is_stale).
STALE_AFTER = 30.0
# Past this size the caller should trigger an ingestion (not on the hot path itself).
INGEST_BOUND = 4 * 1024 * 1024

_OPEN_ATTEMPTS = 8
# Size of the spool seen by the last successful append of this process; None = never appended.
last_size = None


def spool_file(spool_dir=None):
    return os.path.join(spool_dir or paths.spool_dir(), SPOOL_NAME)


def encode(record):
    """One line: repr() escapes newlines and surrogates, so the line is valid UTF-8."""
    return (repr(record) + "\n").encode("utf-8", "backslashreplace")


def append(record, spool_dir=None, warn=True):
    """Append `record` as one line. True on success; never raises (one warning line instead,
    unless `warn` is False: a call's start line, whose end record says the same thing)."""
    global last_size
    directory = spool_dir or paths.spool_dir()
    path = os.path.join(directory, SPOOL_NAME)
    try:
        data = encode(record)
        fd = _open_current(path, directory)
        try:
            written = os.write(fd, data)
            if written != len(data):
                # Disk full mid-line: end the fragment so the next record starts on its own line.
                try:
                    os.write(fd, b"\n")
                except OSError:
                    pass
                raise OSError(errno.ENOSPC, "short write")
            last_size = os.fstat(fd).st_size
        finally:
            os.close(fd)  # also releases the shared lock
        return True
    except safefs.Refused as exc:
        if warn:
            safefs.warn(exc, "this call was not recorded (it ran as usual)")
        return False
    except (OSError, ValueError) as exc:
        if warn:
            why = getattr(exc, "strerror", None) or str(exc)
            errors.warn("telemetry", f"cannot write {path}: {why}", "this call was not recorded")
        return False


def _open_current(path, directory):
    """An fd on the inode currently named `path`, held under a shared lock. A symlinked spool
    or spool directory raises `safefs.Refused`: never followed (docs/security.md)."""
    paths.ensure_dir(directory)
    for _ in range(_OPEN_ATTEMPTS):
        try:
            fd = safefs.open_file(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        except FileNotFoundError:
            paths.ensure_dir(directory)
            continue
        try:
            # Non-blocking: only an ingester ever holds LOCK_EX, and only on a file it has
            # already renamed away; waiting for it would delay the user's shell for nothing.
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            if _names_inode(path, os.fstat(fd)):
                return fd
        except BlockingIOError:
            pass
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # renamed away by an ingester: reopen the new spool.log
    raise OSError(errno.EAGAIN, "the spool was claimed repeatedly while writing")


def _names_inode(path, st):
    try:
        current = os.stat(path)
    except FileNotFoundError:
        return False
    return current.st_ino == st.st_ino and current.st_dev == st.st_dev


def needs_ingest(bound=INGEST_BOUND, spool_dir=None):
    """True when the spool is past `bound` bytes (cheap: uses the last append's fstat)."""
    if last_size is not None:
        return last_size >= bound
    try:
        return os.stat(spool_file(spool_dir)).st_size >= bound
    except OSError:
        return False


def is_stale(older_than, now, spool_dir=None):
    """True when a record has waited in the spool longer than `older_than` seconds: its first
    record started before `now - older_than`, or a claimed file left by an ingester that
    failed is that old. Cheap (one listdir, 4 KiB read): the policy gate asks before deciding
    whether to ingest. The spool's format is read here only, never by its callers."""
    directory = spool_dir or paths.spool_dir()
    try:
        names = os.listdir(directory)
    except OSError:
        return False
    cutoff = now - older_than
    for name in names:
        path = os.path.join(directory, name)
        try:
            if name == SPOOL_NAME:
                with open(path, "rb") as fh:
                    head = fh.read(4096)
                if head and _first_started_at(head) < cutoff:
                    return True
            elif name.startswith(CLAIM_PREFIX) and name.endswith(CLAIM_SUFFIX):
                if os.stat(path).st_mtime < cutoff:
                    return True  # left by an ingester that failed
        except OSError:
            pass
    return False


def _first_started_at(head):
    """`started_at` of the first record in `head` (a repr() line), or 0 when unreadable."""
    key = b"'started_at': "
    at = head.find(key)
    if at < 0:
        return 0.0
    end = at + len(key)
    stop = end
    while stop < len(head) and head[stop:stop + 1] in b"0123456789.e+-":
        stop += 1
    try:
        return float(head[end:stop])
    except ValueError:
        return 0.0


class Claimed:
    """A spool file taken for ingestion, held under an exclusive lock until `done` or `keep`."""

    __slots__ = ("path", "fd")

    def __init__(self, path, fd):
        self.path = path
        self.fd = fd

    def __repr__(self):
        return f"Claimed({self.path!r})"

    def read(self):
        os.lseek(self.fd, 0, os.SEEK_SET)
        chunks = []
        while True:
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)

    def done(self):
        """The rows are committed: delete the file, then release it."""
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        self.keep()

    def keep(self):
        """Leave the file for the next ingestion (release the lock only)."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def claim(spool_dir=None):
    """Take the current spool and every abandoned claimed file. Returns a list of `Claimed`.

    The caller must call `done()` (rows committed) or `keep()` on each one.
    """
    directory = spool_dir or paths.spool_dir()
    claimed = []
    try:
        safefs.check_not_link(directory, os.path.join(directory, SPOOL_NAME))
    except safefs.Refused as exc:
        safefs.warn(exc, "the spool was not imported")
        return claimed
    fresh = _claim_current(directory)
    if fresh is not None:
        claimed.append(fresh)
    try:
        names = sorted(os.listdir(directory))
    except FileNotFoundError:
        return claimed
    for name in names:
        if not (name.startswith(CLAIM_PREFIX) and name.endswith(CLAIM_SUFFIX)):
            continue
        path = os.path.join(directory, name)
        if fresh is not None and path == fresh.path:
            continue
        try:
            taken = _lock_claimed(path, blocking=False)
        except safefs.Refused as exc:
            safefs.warn(exc, "it was not imported")
            continue
        if taken is not None:
            claimed.append(taken)
    return claimed


def _claim_current(directory):
    current = os.path.join(directory, SPOOL_NAME)
    try:
        if os.stat(current).st_size == 0:
            return None
    except FileNotFoundError:
        return None
    target = os.path.join(
        directory, f"{CLAIM_PREFIX}{os.getpid()}-{os.urandom(6).hex()}{CLAIM_SUFFIX}")
    try:
        os.rename(current, target)
    except FileNotFoundError:
        return None  # another ingester renamed it first
    # Blocking: writers that validated the name before the rename finish their line first.
    return _lock_claimed(target, blocking=True)


def _lock_claimed(path, blocking):
    try:
        fd = safefs.open_file(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        flags = fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB
        try:
            fcntl.flock(fd, flags)
        except BlockingIOError:
            os.close(fd)
            return None  # another ingester (or a last writer) holds it
        if not _names_inode(path, os.fstat(fd)):
            os.close(fd)
            return None  # already ingested and deleted by someone else
    except BaseException:
        os.close(fd)
        raise
    return Claimed(path, fd)


def reject(lines, spool_dir=None):
    """Keep lines that could not be parsed, for a human to look at; never raises."""
    if not lines:
        return True
    path = os.path.join(spool_dir or paths.spool_dir(), REJECTED_NAME)
    try:
        fd = safefs.open_file(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            os.write(fd, b"".join(line.rstrip(b"\n") + b"\n" for line in lines))
        finally:
            os.close(fd)
        return True
    except OSError as exc:
        errors.warn("telemetry", f"cannot write {path}: {exc.strerror or exc}")
        return False
