"""Reading a log file from where the last import stopped.

Only complete lines are consumed: a line the tool is still writing is read next time. The
`TAIL_BYTES` bytes before the offset are kept; when they differ the file was rewritten (not
appended to) and is read again from the start. A `.zst` file cannot be read from an offset:
it is read whole whenever it changed (codex compresses a rollout once, when it is idle).
"""


TAIL_BYTES = 64


def read_span(path, offset, limit=None):
    """(bytes of the complete lines from `offset`, new offset, tail bytes before it).
    `limit`: read at most that many bytes (a bounded slice; the rest is read next time)."""
    if path.endswith(".zst"):
        from shim.telemetry.harvest import zst

        with zst.open_stream(path) as stream:
            data = stream.read()
        end = data.rfind(b"\n") + 1
        return data[:end], end, data[max(end - TAIL_BYTES, 0):end]
    with open(path, "rb") as fh:
        fh.seek(offset)
        data = fh.read() if limit is None else fh.read(limit)
    end = data.rfind(b"\n") + 1
    data = data[:end]
    new_offset = offset + end
    if end >= TAIL_BYTES or not offset:
        tail = data[-TAIL_BYTES:]
    else:
        tail = tail_before(path, new_offset)
    return data, new_offset, tail


def tail_before(path, offset):
    """The TAIL_BYTES bytes before `offset` (fewer at the start of the file)."""
    if path.endswith(".zst"):
        return None
    start = max(offset - TAIL_BYTES, 0)
    try:
        with open(path, "rb") as fh:
            fh.seek(start)
            return fh.read(offset - start)
    except OSError:
        return None


def still_appended(path, known, current):
    """True when the file at `path` is the one read before, grown or unchanged: same device
    and inode, not shorter than what was read, and the same bytes before the offset."""
    if known is None or known["dev"] != current[0] or known["inode"] != current[1]:
        return False
    if path.endswith(".zst"):
        return False
    if current[2] < known["offset"]:
        return False  # truncated
    return known["tail"] is None or tail_before(path, known["offset"]) == known["tail"]
