"""The hot path's modules served from one archive of their code objects, not one file each.

Importing a module through Python's path finder costs ~0.4 M instructions (~0.1 ms) however
small the module is: the directory's finder, a spec, the source's stat, opening and reading its
`.pyc`, checking its header. A gated shim call imports ~36 of ours. The launcher (every shim,
`shim.install.shimscript`) calls `install()` before it imports `shim.entry`: it reads the
header and index of one file, `<shim package>/__pycache__/hotcode.<cache tag>.marshal`, and puts
a finder first on `sys.meta_path` that serves the `shim.*` modules the archive holds, each
one's code read with one `pread` when it is imported (a call copies only what it imports);
everything else, and every module it cannot vouch for, goes to the normal import system.

Never stale. Each entry is keyed, as a timestamp `.pyc` is but finer, on its source file's
`st_mtime_ns` and size, and on the `st_mtime_ns` of the directory holding it (a file added,
removed or renamed there, say a package or an extension module of the same name, changes it):
two `stat`s per module served, both at its import (the path finder too stats the directory at
every import, then the source, and opens and reads the `.pyc`). An entry that does not match is not served (the module is
imported the usual way and the archive rebuilt after the call). The file name carries the
interpreter's cache tag (`cpython-311`: Pythons sharing an install keep one archive each) and
the header its bytecode magic number and marshal version. A missing, short or unreadable
archive, an entry of another shape or outside the file (checked when it is used), or code
that does not unmarshal, means the normal import, never an error.

Served modules are what the path finder would make: a `SourceFileLoader` (a subclass, whose
`get_code` returns the archived code) and a spec from `spec_from_file_location`, so `__file__`,
`__spec__`, `__path__`, `__cached__`, tracebacks, `get_source` and `importlib.resources` are
the same.

Built lazily: `refresh()` (called by `shim.entry.end_process` once a shim call is done) writes
a new archive when the call imported one of our modules the archive did not serve (none yet,
an edit, an upgrade): every `shim.*` module loaded now, its code from its `.pyc` when that
`.pyc` is valid for the source as it is (timestamp or hash, as Python checks it), else compiled
from the source, plus the archived entries this call did not load that are still current. So the archive holds the modules shim calls import, and
a checkout being edited rebuilds it after the first call that follows an edit. There is no
checksum, as a `.pyc` has none: the file is only ever replaced whole (rename), and a blob that
does not unmarshal to a code object is loaded from its source. Written next to
the `.pyc` files, atomically, and not under `-B` (sys.dont_write_bytecode); a directory we
cannot write (a read-only or another user's install) means no archive, and is found by one
`access()` before any source is read, so such an install does not pay for a rebuild per call.

Hot module: os, sys, marshal, and the import system's own (already loaded) modules only.
"""

import _frozen_importlib as _bootstrap
import _frozen_importlib_external as _external
import marshal
import os
import sys

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
PREFIX = "shim."
# The header: b"LSHC", the bytecode magic number (4), the marshal version (1), the
# optimisation level (1), the index's length (4, little-endian). Then the index (marshal: name
# -> (path relative to the package's parent, mtime_ns, size, directory mtime_ns, offset,
# length), offsets from the end of the index), then the code blobs.
MAGIC = b"LSHC" + _external.MAGIC_NUMBER + bytes([marshal.version])
HEADER = len(MAGIC) + 1 + 4


def archive_path(package_dir=PACKAGE_DIR):
    """`<package_dir>/__pycache__/hotcode.<cache tag>[.opt-N].marshal`."""
    opt = f".opt-{sys.flags.optimize}" if sys.flags.optimize else ""
    return os.path.join(package_dir, "__pycache__",
                        f"hotcode.{sys.implementation.cache_tag}{opt}.marshal")


CODE_TYPE = type(archive_path.__code__)


class ArchiveLoader(_external.SourceFileLoader):
    """A source file loader whose code comes from the archive (once), else from the file."""

    def __init__(self, fullname, path, finder, start, length):
        self.name = fullname  # as FileLoader.__init__, without the call
        self.path = path
        self.archived = finder, start, length

    def get_code(self, fullname):
        archived, self.archived = self.archived, None
        if archived is not None and fullname == self.name:
            finder, start, length = archived
            code = finder.code(start, length)
            if code is not None:
                return code
            finder.misses.append(fullname)  # a damaged entry: rebuilt after the call
        return super().get_code(fullname)


class Finder:
    """Serves the archived `shim.*` modules whose source and directory are as archived."""

    def __init__(self, index, fd, base, room, root):
        self.index = index      # see MAGIC
        self.fd = fd            # the archive, open (or None)
        self.base = base        # where the blobs start
        self.room = room        # how many bytes of blobs there are
        self.root = root        # the directory holding the `shim` package
        self.prefix = os.path.join(root, "")
        self.misses = []        # our modules it did not serve
        # `__cached__` as cache_from_source makes it, in the common case (no -O, no
        # pycache_prefix), without its ~15 string operations per module.
        self.pyc = None
        if not sys.flags.optimize and sys.pycache_prefix is None \
                and sys.implementation.cache_tag is not None:
            self.pyc = "." + sys.implementation.cache_tag + ".pyc"

    def find_spec(self, name, path=None, target=None):
        if not name.startswith(PREFIX):
            return None
        entry = self.index.get(name)
        if entry is None or not path:
            self.misses.append(name)
            return None
        try:  # each entry is checked when it is used, not the whole index at start-up
            rel, mtime, size, dir_mtime, offset, length = entry
            if not 0 <= offset <= offset + length <= self.room:
                raise ValueError(name)
            origin = self.prefix + rel
        except (TypeError, ValueError):
            self.misses.append(name)
            return None
        directory, _, filename = origin.rpartition(os.sep)
        package = filename == "__init__.py"
        if (directory.rpartition(os.sep)[0] if package else directory) not in path:
            self.misses.append(name)
            return None
        st = None
        try:  # the directory at each import, as the path finder stats it
            if os.stat(directory).st_mtime_ns == dir_mtime:
                st = os.stat(origin)
        except OSError:
            pass
        if st is None or st.st_mtime_ns != mtime or st.st_size != size:
            self.misses.append(name)
            return None
        # What spec_from_file_location(name, origin, loader=..., submodule_search_locations=
        # [directory] or None) makes, as the path finder calls it.
        spec = _bootstrap.ModuleSpec(name, ArchiveLoader(name, origin, self, self.base + offset,
                                                         length), origin=origin)
        spec.has_location = True
        if package:
            spec.submodule_search_locations = [directory]
        if self.pyc is not None and filename.endswith(".py"):
            spec.cached = (directory + os.sep + "__pycache__" + os.sep + filename[:-3]
                           + self.pyc)
        return spec

    def blob(self, start, length):
        """The bytes at `start` in the archive (each module's own read: a call need not copy
        the code of the modules it does not import), or None."""
        try:
            blob = os.pread(self.fd, length, start)
        except (OSError, TypeError, OverflowError, ValueError, MemoryError):
            return None
        return blob if len(blob) == length else None

    def code(self, start, length):
        """The code object at `start`, or None when it cannot be read or is no code."""
        blob = self.blob(start, length)
        try:
            code = marshal.loads(blob) if blob is not None else None
        except (ValueError, EOFError, TypeError, MemoryError):
            return None
        return code if type(code) is CODE_TYPE else None


def install(package_dir=PACKAGE_DIR):
    """Put a finder over the archive first on sys.meta_path (an empty one when there is no
    usable archive: `refresh` writes one after the call); return it. Never raises."""
    for finder in sys.meta_path:
        if isinstance(finder, Finder):
            return finder
    index, fd, base, room = read(archive_path(package_dir))
    finder = Finder(index, fd, base, room, os.path.dirname(package_dir))
    sys.meta_path.insert(0, finder)
    return finder


def read(path):
    """(index, open file descriptor, where the blobs start, their length) of the archive at
    `path`; an empty index and None when it is missing or unusable. The descriptor stays open
    (close-on-exec) for the modules' reads. Each entry is checked by `Finder.find_spec` when it
    is used (the offsets against the blobs' length): a call pays only for what it imports."""
    nothing = {}, None, 0, 0
    if sys.implementation.cache_tag is None:
        return nothing
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return nothing
    try:
        size = os.fstat(fd).st_size
        head = os.read(fd, HEADER)
        if len(head) != HEADER or head[:len(MAGIC)] != MAGIC \
                or head[len(MAGIC)] != sys.flags.optimize:
            raise ValueError("not an archive of this Python's code")
        base = HEADER + int.from_bytes(head[len(MAGIC) + 1:], "little")
        index = marshal.loads(os.read(fd, base - HEADER)) if base <= size else None
        if type(index) is not dict:
            raise ValueError("a damaged index")
    except (OSError, ValueError, EOFError, TypeError, OverflowError, MemoryError):
        os.close(fd)
        return nothing
    return index, fd, base, size - base


def refresh():
    """After a shim call: rewrite the archive when the call imported one of our modules that
    the archive did not serve. Never raises; returns the path written, or None."""
    finder = next((f for f in sys.meta_path if isinstance(f, Finder)), None)
    if finder is None or not finder.misses or sys.dont_write_bytecode \
            or sys.implementation.cache_tag is None:
        return None
    if not any(_ours(sys.modules.get(name), finder.root) for name in finder.misses):
        return None  # a module that does not exist, say
    if not writable(os.path.join(finder.root, "shim")):
        return None  # a read-only install: every call would read and compile in vain
    try:
        return build(finder)
    except Exception:  # a read-only install, a full disk, a source that does not compile
        return None


def writable(package_dir):
    """Whether an archive can be written for `package_dir` (its `__pycache__`, or the package
    directory where that is still to be made): one access() before reading any source."""
    cache = os.path.join(package_dir, "__pycache__")
    return os.access(cache if os.path.isdir(cache) else package_dir, os.W_OK)


def _ours(module, root):
    path = getattr(module, "__file__", None)
    return (type(path) is str and path.endswith(".py") and path.startswith(root + os.sep)
            and module.__name__ != __name__)  # this module is loaded before the finder


def build(finder):
    """Write an archive of our modules loaded now (their code as Python would load it now) and
    of the finder's other entries that are still current; return its path."""
    root = finder.root
    entries = {}  # name -> (rel, mtime, size, dir mtime, code bytes)
    for name, module in list(sys.modules.items()):
        if not name.startswith(PREFIX) or not _ours(module, root):
            continue
        origin = module.__file__
        key = _stat_key(origin)
        if key is None:
            continue
        code = code_bytes(origin, getattr(module.__spec__, "cached", None))
        if _stat_key(origin) == key:  # not edited while we read it
            entries[name] = (os.path.relpath(origin, root),) + key + (code,)
    for name, entry in finder.index.items():
        if name in entries or name in sys.modules or type(name) is not str \
                or type(entry) is not tuple or len(entry) != 6:
            continue
        rel, mtime, size, dir_mtime, offset, length = entry
        try:
            current = _stat_key(os.path.join(root, rel)) == (mtime, size, dir_mtime)
        except TypeError:
            current = False
        if current and type(offset) is int and type(length) is int \
                and 0 <= offset <= offset + length <= finder.room:
            blob = finder.blob(finder.base + offset, length)
            if finder.code(finder.base + offset, length) is not None:
                entries[name] = (rel, mtime, size, dir_mtime, blob)
    return write(archive_path(os.path.join(root, "shim")), entries)


def _stat_key(origin):
    try:
        st = os.stat(origin)
        return st.st_mtime_ns, st.st_size, os.stat(os.path.dirname(origin)).st_mtime_ns
    except OSError:
        return None


def code_bytes(origin, cached):
    """The marshalled code of the source file `origin`: its `.pyc` body when that is valid for
    the source as it is now (as Python checks a timestamp or hash `.pyc`), else compiled."""
    with open(origin, "rb") as fh:
        source = fh.read()
    st = os.stat(origin)
    try:
        with open(cached, "rb") as fh:
            pyc = fh.read()
    except (OSError, TypeError):
        pyc = b""
    if len(pyc) > 16 and pyc[:4] == _external.MAGIC_NUMBER:
        flags = int.from_bytes(pyc[4:8], "little")
        if flags & 1:
            import _imp

            valid = pyc[8:16] == _imp.source_hash(_external._RAW_MAGIC_NUMBER, source)
        else:
            valid = (flags == 0
                     and int.from_bytes(pyc[8:12], "little") == int(st.st_mtime) & 0xFFFFFFFF
                     and int.from_bytes(pyc[12:16], "little") == st.st_size & 0xFFFFFFFF)
        if valid:
            return pyc[16:]
    return marshal.dumps(compile(source, origin, "exec", dont_inherit=True))


def write(path, entries):
    """Write `entries` (name -> (rel, mtime, size, dir mtime, code bytes)) as an archive at
    `path`, atomically (a temp file renamed over it)."""
    index, blobs, offset = {}, [], 0
    for name in sorted(entries):
        rel, mtime, size, dir_mtime, code = entries[name]
        index[name] = (rel, mtime, size, dir_mtime, offset, len(code))
        blobs.append(bytes(code))
        offset += len(code)
    body = marshal.dumps(index)
    data = (MAGIC + bytes([sys.flags.optimize]) + len(body).to_bytes(4, "little") + body
            + b"".join(blobs))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    from shim import safefs  # after the call, off the path a call's imports take

    return safefs.replace_file(path, data, 0o644)  # the one write-then-rename, as a .pyc is

