"""Give every attempt of a fallback chain the same stdin.

`git diff | claude -p "review this"`: Claude appends piped stdin to the prompt, Codex reads it
until EOF. The first attempt consumes the pipe, so a fallback would get an empty stdin and
answer a different question. Before the first attempt of a chain:

* a TTY is left alone (a one-shot tool does not read it);
* a seekable stdin (`< file`, /dev/null) is rewound to where it was before each attempt;
* a pipe or socket is copied into an unlinked temp file that becomes our fd 0, then rewound
  likewise. Only when data (or EOF) arrives within `WAIT_SECONDS`: a pipe that stays silent
  is left as it is, as Claude does (it waits 3 s, then proceeds without stdin).

Only the shim's own fd 0 changes; the children inherit it as they would have.
"""

import os
import stat

WAIT_SECONDS = 3.0
_CHUNK = 1 << 20


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
    """A Replay for fd 0, or None when there is nothing to replay (TTY, silent pipe, closed)."""
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
    import select

    poller = select.poll()
    poller.register(0, select.POLLIN | select.POLLHUP)
    if not poller.poll(int(WAIT_SECONDS * 1000)):
        return None
    return _spool_pipe(tmp_dir)


def _spool_pipe(tmp_dir):
    import tempfile

    fd, path = tempfile.mkstemp(prefix="llm-shim-stdin-", dir=tmp_dir)
    try:
        os.unlink(path)
        while True:
            chunk = os.read(0, _CHUNK)
            if not chunk:
                break
            view = memoryview(chunk)
            while view:
                view = view[os.write(fd, view):]
        os.lseek(fd, 0, os.SEEK_SET)
        os.dup2(fd, 0)
    finally:
        os.close(fd)
    return Replay(0)
