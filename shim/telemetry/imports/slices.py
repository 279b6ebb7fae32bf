"""A bounded slice of the import (budget admission, a `watch` frame): read what fits in the
time and byte budget, keep all of it, and resume from there next time.

A plain transcript or rollout is read in CHUNK_BYTES pieces of whole lines and parsed piece
by piece; the slice stops at a line boundary when the deadline passes or the file's byte
budget is spent, and the offset reached is stored like any import's, so the next slice goes
on from it. At least one piece is read per slice, so a backlog always shrinks. `llm`'s
logs.db and `.zst` rollouts keep their own bounds (a row limit; left for a full import).
"""

import json
import time

from shim.telemetry.imports import logfile
from shim.telemetry.imports.problems import unreadable_reason

CHUNK_BYTES = 64 * 1024  # a piece parses in ~10 ms: a slice ends close to its deadline
# A full import reads a file this large in pieces too (imports.read_job), so memory stays at
# a piece plus the longest line, not the file (300 MB read whole took 1.25 GB).
LARGE_FILE_BYTES = 64 * 1024 * 1024
# A line longer than this is stepped over unread: usage lines are small (an assistant message
# is bounded by the model's output limit, a token count is a few hundred bytes); the giants
# are tool results and pasted files, which carry no usage.
MAX_LINE_BYTES = 32 * 1024 * 1024


def parsed(jobs, deadline):
    """(path, result) per job, like imports._parsed, until `deadline` (time.monotonic())
    has passed: the jobs not started are left for the next slice."""
    from shim.telemetry import imports

    for n, job in enumerate(jobs):
        if n and time.monotonic() > deadline:
            return
        tool, path = job[0], job[1]
        if path.endswith(".zst") and _no_zstd():  # not "left for later": no import can read it
            yield path, unreadable_reason(path, ImportError("no zstd binding"))
            continue
        if tool == "llm" or path.endswith(".zst"):
            yield path, imports.read_job(job)
            continue
        try:
            yield path, read_bounded(*job, deadline)
        except Exception as exc:  # noqa: BLE001 - as imports.read_job: one file, not all
            yield path, unreadable_reason(path, exc)


def read_bounded(tool, path, ident, known, max_bytes, deadline):
    """(entries, import_files row, more) like imports._read, stopping at the deadline or
    after `max_bytes` on a line boundary; the row is None when not one line could be read."""
    from shim.telemetry import imports

    if logfile.still_appended(path, known, ident):
        offset, state = known["offset"], json.loads(known["state"] or "{}")
    else:
        offset, state = 0, {}
    parse = _parser(tool, path)
    end = offset + (max_bytes or ident[2])
    entries, tail, start, more = [], None, offset, False
    while offset < ident[2] and offset < end:
        data, new_offset, new_tail = logfile.read_span(path, offset, min(CHUNK_BYTES,
                                                                         end - offset))
        if new_offset == offset:  # a line longer than the piece
            line_end = _line_end(path, offset)
            if line_end is None:
                break  # no newline yet: a line being written, read next time
            if line_end - offset > MAX_LINE_BYTES:
                offset = line_end  # stepped over (see MAX_LINE_BYTES)
                tail = logfile.tail_before(path, offset)
                continue
            if line_end > end:
                more = True
                break  # longer than the slice's budget: a later slice or `llm-shim import`
            data, new_offset, new_tail = logfile.read_span(path, offset, line_end - offset)
        found, state = parse(data, state)
        entries.extend(found)
        offset, tail = new_offset, new_tail
        if time.monotonic() > deadline:
            more = offset < ident[2]
            break
    else:
        more = ident[2] > offset >= end  # the byte budget is spent, the file goes on
    if offset == start and start < ident[2]:
        return [], None, True
    if tail is None:  # nothing new (a touched file): the row as it was
        tail = logfile.tail_before(path, offset)
    stored = ident if offset >= ident[2] else (*ident[:2], offset, ident[3])
    return entries, imports.file_row(path, tool, stored, offset, tail, state), more


def _no_zstd():
    from shim.telemetry.harvest import zst

    return zst.binding() is None


def _line_end(path, offset):
    """The offset just past the newline that ends the line at `offset`, found reading
    CHUNK_BYTES at a time (nothing kept); None when the file ends first."""
    with open(path, "rb") as fh:
        fh.seek(offset)
        position = offset
        while True:
            piece = fh.read(CHUNK_BYTES)
            if not piece:
                return None
            found = piece.find(b"\n")
            if found >= 0:
                return position + found + 1
            position += len(piece)


def _parser(tool, path):
    if tool == "claude":
        from shim.telemetry.imports import claude

        return claude.parse
    from shim.telemetry.imports import codex

    return lambda data, state: codex.parse(data, state, path)
