"""Our files are ours: how llm-shim creates and opens what it keeps under its own directories.

A symlink where a file or directory of ours should be could point at a file the user cares
about (we would append to it, or chmod it) or at a place another account can read, so it is
refused, never followed: files are opened with `O_NOFOLLOW`, directories are checked with
`lstat` (and must belong to us). What we create is private: directories 0700 (every missing
component, so `$LLM_SHIM_HOME` itself too), files 0600.

The roots themselves (`config_dir`, `data_dir`, `cache_dir`, `$LLM_SHIM_HOME`) may be
symlinks to a directory of ours: people keep dotfiles that way.

Hot module: os, errno and stat only.
"""

import errno
import os
import stat

DIR_MODE = 0o700
FILE_MODE = 0o600
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
CLOEXEC = getattr(os, "O_CLOEXEC", 0)
HINT = "llm-shim never follows a link or uses another account's file in its own directories: " \
       "move it away and retry"


class Refused(OSError):
    """A path of ours that is a symlink, not a directory, or not ours: never used."""

    def __init__(self, path, why, hint=HINT):
        super().__init__(errno.ELOOP, why, path)
        self.path = path
        self.why = why
        self.hint = hint


def warn(exc, consequence):
    """The one line for a refused path: `llm-shim: warning: <path>: is a symlink; ...`."""
    from shim import errors

    errors.warn(exc.path, f"{exc.why}, so {consequence}", exc.hint)


def _refuse_link(path):
    return Refused(path, "is a symlink")


def private_dir(path, roots=None, mode=DIR_MODE):
    """Make sure `path` is a directory of ours (created `mode`, every missing parent 0700);
    return it. One `lstat` when it exists: this runs on every spool append.

    Raises `Refused` when it is a symlink (unless it is one of `roots`, which may link to a
    directory we own), not a directory, or owned by another user; OSError otherwise.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        _make(path, mode)
        st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        if not _is_root(path, roots):
            raise _refuse_link(path)
        st = os.stat(path)
    if not stat.S_ISDIR(st.st_mode):
        raise Refused(path, "is not a directory")
    if st.st_uid != os.geteuid():
        raise Refused(path, "belongs to another user")
    if st.st_mode & 0o077 and mode == DIR_MODE and not _is_root(path, roots):
        # One of ours left readable by others (an older llm-shim, a umask): tightened through
        # an fd opened without following links, never chmod through the path.
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | NOFOLLOW | CLOEXEC)
        try:
            os.fchmod(fd, DIR_MODE)
        finally:
            os.close(fd)
    return path


# The default `roots`: a function giving llm-shim's own root directories, set by shim.paths
# (which imports this module, so this one cannot import it).
default_roots = tuple


def _is_root(path, roots):
    if roots is None:
        roots = default_roots()
    return os.path.abspath(path) in [os.path.abspath(r) for r in roots]


def _make(path, mode):
    """mkdir -p: 0700 for every missing parent (os.makedirs gives them 0777 minus the umask),
    `mode` for `path` itself."""
    if not path or os.path.lexists(path):
        return
    parent = os.path.dirname(path)
    if parent and parent != path:
        _make(parent, DIR_MODE)
    try:
        os.mkdir(path, mode)
    except FileExistsError:
        pass


def open_file(path, flags, mode=FILE_MODE):
    """`os.open` that never follows a symlink at `path`; a link raises `Refused`.

    With `O_CREAT` a new file is created `mode` (0600); an existing regular file of ours that
    others may read or write (0644 from an older llm-shim) is tightened to `mode` on the fd."""
    fd = _open(path, flags, mode)
    try:
        st = os.fstat(fd)
        if stat.S_ISREG(st.st_mode) and st.st_mode & 0o077 & ~mode and st.st_uid == os.geteuid():
            os.fchmod(fd, stat.S_IMODE(st.st_mode) & mode)
    except OSError:
        pass  # still ours to use; the mode is tightened next time
    return fd


def _open(path, flags, mode=FILE_MODE):
    try:
        return os.open(path, flags | NOFOLLOW | CLOEXEC, mode)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK) and _is_link(path):
            raise _refuse_link(path) from None
        raise


def read_ours(path, limit=1 << 20):
    """The bytes of a file of ours that decides what applies (the trust store), or None when
    there is none. Refused: a symlink, not a regular file, another user's, or writable by
    others (anyone who can write it could trust a project file for you)."""
    try:
        # As found: a loose mode is refused, not tightened; O_NONBLOCK so a FIFO cannot hang us.
        fd = _open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise Refused(path, "is not a regular file")
        if st.st_uid != os.geteuid():
            raise Refused(path, "belongs to another user")
        if st.st_mode & 0o022:
            raise Refused(path, "is writable by other users",
                          f"check nobody changed it, then `chmod 600 {path}`")
        return os.read(fd, limit)
    finally:
        os.close(fd)


def check_not_link(*candidates):
    """Raise `Refused` for the first of `candidates` that is a symlink (a missing one is fine)."""
    for path in candidates:
        if _is_link(path):
            raise _refuse_link(path)


def _is_link(path):
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except OSError:
        return False


def write_atomic(path, data, mode=FILE_MODE, durable=False):
    """Replace `path` with `data` atomically (private temp file + rename), created `mode`.

    A symlink at `path` is refused rather than replaced or followed. For a file of ours in a
    directory of ours; `replace_file` is the same write for a file that belongs to the user."""
    private_dir(os.path.dirname(path) or ".")
    check_not_link(path)
    return replace_file(path, data, mode, durable)


def create_once(path, data, mode=FILE_MODE, durable=False):
    """Create `path` holding `data` unless it exists: a private temp file, then linked in, so a
    reader never sees a partial file and of two concurrent writers the first wins. True when
    this call created it, False when it was there already."""
    tmp = _write_temp(path, data, mode, durable)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        _unlink_quietly(tmp)
    return True


def replace_file(path, data, mode, durable=False):
    """The one write-then-rename: `data` goes to a new temp file next to `path` (mode exactly
    `mode`, whatever the umask), then replaces `path`, so readers see the old bytes or the new,
    never half. `durable` fsyncs before the rename (a store whose loss would matter). A failure
    leaves no temp file behind. Checks nothing about the directory: callers do."""
    tmp = _write_temp(path, data, mode, durable)
    try:
        os.replace(tmp, path)
    except BaseException:
        _unlink_quietly(tmp)
        raise
    return path


def _write_temp(path, data, mode, durable):
    """A new private temp file next to `path` holding `data` (mode exactly `mode`); its name."""
    tmp = "%s.%d.%s.tmp" % (path, os.getpid(), os.urandom(4).hex())
    fd = open_file(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        try:
            os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        _unlink_quietly(tmp)
        raise
    return tmp


def _unlink_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass
