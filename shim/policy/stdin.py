"""Give every attempt of a fallback chain the same stdin.

`git diff | claude -p "review this"`: Claude appends piped stdin to the prompt, Codex reads it
until EOF. The first attempt consumes the pipe, so a fallback would get an empty stdin and
answer a different question. Before the first attempt of a chain:

* a TTY is left alone (a one-shot tool does not read it);
* a seekable stdin (`< file`, /dev/null) is rewound to where it was before each attempt;
* a pipe or socket is teed, lazily: a reader thread copies what arrives into an unlinked temp
  file, and each attempt reads it from a fresh pipe of ours, fed from that file from byte 0
  and then as more arrives. Nothing waits up front, so a pipe that stays silent (an agent's
  `Popen(stdin=PIPE)` that never writes) behaves for the child exactly as it would without
  us: Claude gives up after its own 3 s, Codex waits for EOF.

Only the shim's own fd 0 changes; the children inherit it as they would have.
"""

import os
import stat

_CHUNK = 1 << 16


class Replay:
    """`rewind()` before each attempt after the first."""

    def __init__(self, offset):
        self.offset = offset

    def rewind(self):
        try:
            os.lseek(0, self.offset, os.SEEK_SET)
            return True
        except OSError:
            return False


def prepare(tmp_dir=None):
    """A Replay for fd 0, or None when there is nothing to replay (TTY, character device,
    closed)."""
    try:
        if os.isatty(0):
            return None
        mode = os.fstat(0).st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode) or stat.S_ISBLK(mode):
        try:
            return Replay(os.lseek(0, 0, os.SEEK_CUR))
        except OSError:
            return None
    if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
        return None  # /dev/null and other character devices read the same every time
    tee = Tee(tmp_dir)
    tee.rewind()
    return tee


def hold(data, tmp_dir=None):
    """Make fd 0 a file holding `data` (bytes), from its start: `llm-shim exec` hands a prompt
    to the tool on stdin this way, and a fallback attempt reads it again (`Replay(0)`)."""
    fd = _unlinked_temp(tmp_dir)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.lseek(fd, 0, os.SEEK_SET)
        os.dup2(fd, 0)
    finally:
        os.close(fd)


def _unlinked_temp(tmp_dir):
    """A read-write fd on a new temp file that no path names (nothing is left behind)."""
    import tempfile

    fd, path = tempfile.mkstemp(prefix="llm-shim-stdin-", dir=tmp_dir)
    os.unlink(path)
    return fd


class Tee:
    """The original stdin copied into a file as it arrives; `rewind()` gives fd 0 a new pipe
    that replays the file from the start and then follows the original to its EOF."""

    def __init__(self, tmp_dir=None):
        import threading

        self._threading = threading
        self._file = _unlinked_temp(tmp_dir)
        self._src = os.dup(0)
        self._size = 0
        self._eof = False
        self._generation = 0
        self._more = threading.Condition()
        threading.Thread(target=self._read, name="llm-shim-stdin", daemon=True).start()

    def _read(self):
        """Original stdin → the file, until EOF."""
        try:
            while True:
                chunk = os.read(self._src, _CHUNK)
                if not chunk:
                    break
                view = memoryview(chunk)
                while view:
                    view = view[os.pwrite(self._file, view, self._size + len(chunk) - len(view)):]
                with self._more:
                    self._size += len(chunk)
                    self._more.notify_all()
        except OSError:
            pass
        finally:
            with self._more:
                self._eof = True
                self._more.notify_all()

    def rewind(self):
        """fd 0 becomes the read end of a new pipe fed from byte 0; the previous feeder stops."""
        read_end, write_end = os.pipe()
        with self._more:
            self._generation += 1
            generation = self._generation
            self._more.notify_all()
        os.dup2(read_end, 0)
        os.close(read_end)
        self._threading.Thread(target=self._feed, args=(write_end, generation),
                               name="llm-shim-stdin-feed", daemon=True).start()
        return True

    def _feed(self, sink, generation):
        """The file from byte 0 → `sink`, waiting for more until the original's EOF."""
        offset = 0
        try:
            while True:
                with self._more:
                    while (offset >= self._size and not self._eof
                           and generation == self._generation):
                        self._more.wait()
                    if generation != self._generation:
                        return  # a later attempt has its own pipe
                    if offset >= self._size:
                        return  # EOF: closing the sink ends the child's stdin
                    available = self._size - offset
                data = os.pread(self._file, min(available, _CHUNK), offset)
                if not data:
                    return
                view = memoryview(data)
                while view:
                    view = view[os.write(sink, view):]
                offset += len(data)
        except OSError:
            return  # the child closed its stdin (EPIPE): it has read what it wanted
        finally:
            os.close(sink)
