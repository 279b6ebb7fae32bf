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


def lines_with(data, tags):
    """The lines of `data` (complete lines, as bytes.splitlines cuts them) that contain one of
    `tags`, in order: found by searching the buffer for each tag (in C) rather than splitting
    out and testing every line. A reader that skips lines without its tags gets exactly what
    it would from every line."""
    if b"\r" in data:  # bytes.splitlines also cuts at a CR: do as it does
        return [line for line in data.splitlines() if any(tag in line for tag in tags)]
    starts = set()
    find, rfind = data.find, data.rfind
    for tag in tags:
        at = find(tag)
        while at >= 0:
            start = rfind(b"\n", 0, at) + 1
            starts.add(start)
            end = find(b"\n", at)
            if end < 0:
                break
            at = find(tag, end + 1)
    out = []
    for start in sorted(starts):
        end = find(b"\n", start)
        out.append(data[start:] if end < 0 else data[start:end])
    return out
