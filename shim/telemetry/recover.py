"""Rows out of a damaged SQLite file, for `llm-shim logs repair` (store.repair).

The damaged file is only ever read: every attempt works on a copy next to it, and the copies
are removed afterwards. Three ways are tried, and every row any of them reads is kept (the
store ignores a row it already has, so overlaps cost nothing):

1. read the file as it is, table by table in rowid order, stepping over unreadable pages;
2. when the 100-byte header is damaged, write a valid header onto a copy (the values SQLite
   itself writes; the page size from the old header if it is sane, else each size that divides
   the file, 4096 first) and read that;
3. the `sqlite3` command-line shell's `.recover` (when it is installed), which walks every
   page it can and rebuilds the tables into a fresh database.

Not hot: imported by the repair command only.
"""

import os
import shutil
import sqlite3
import struct
import subprocess

MAGIC = b"SQLite format 3\x00"
HEADER = 100
PAGE_SIZES = (4096, 1024, 2048, 8192, 16384, 32768, 65536, 512)
RECOVER_TIMEOUT = 600


def header_damaged(path):
    """True when the first 100 bytes are not a header SQLite would accept."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(HEADER)
    except OSError:
        return False
    return len(head) < HEADER or head[:16] != MAGIC or _page_size(head) is None \
        or head[21:24] != b"\x40\x20\x20"


def _page_size(head):
    if len(head) < 18:
        return None
    raw = struct.unpack(">H", head[16:18])[0]
    size = 65536 if raw == 1 else raw
    return size if 512 <= size <= 65536 and size & (size - 1) == 0 else None


def header_for(page_size, pages):
    """A valid 100-byte header: legacy journal (no WAL to look for), UTF-8, schema format 4."""
    header = bytearray(HEADER)
    header[:16] = MAGIC
    header[16:18] = struct.pack(">H", 1 if page_size == 65536 else page_size)
    header[18], header[19] = 1, 1          # read/write format: rollback journal
    header[20] = 0                         # reserved bytes per page
    header[21:24] = b"\x40\x20\x20"        # payload fractions 64/32/32 (fixed by the format)
    struct.pack_into(">I", header, 24, 1)  # change counter
    struct.pack_into(">I", header, 28, pages)
    struct.pack_into(">I", header, 40, 1)  # schema cookie
    struct.pack_into(">I", header, 44, 4)  # schema format
    struct.pack_into(">I", header, 56, 1)  # UTF-8
    struct.pack_into(">I", header, 92, 1)  # version-valid-for = change counter
    struct.pack_into(">I", header, 96, sqlite3.sqlite_version_info[0] * 1000000
                     + sqlite3.sqlite_version_info[1] * 1000 + sqlite3.sqlite_version_info[2])
    return bytes(header)


def candidate_sizes(path):
    """Page sizes worth trying for `path`: the old header's if sane, then the usual ones that
    divide the file's length."""
    with open(path, "rb") as fh:
        head = fh.read(HEADER)
    length = os.path.getsize(path)
    sizes = []
    old = _page_size(head)
    if old:
        sizes.append(old)
    sizes += [s for s in PAGE_SIZES if s not in sizes and length % s == 0 and length >= s]
    return sizes


def salvage(path, tables, read_table):
    """{table: [row dicts]} from the damaged file at `path`, and the ways that found rows.

    `read_table(path, table, columns) -> [dict]` reads one table of one (possibly damaged)
    file; `tables` is {table: columns}."""
    found = {table: [] for table in tables}
    ways = []

    def take(source, way):
        got = 0
        for table, columns in tables.items():
            rows = read_table(source, table, columns)
            found[table].extend(rows)
            got += len(rows)
        if got:
            ways.append(way)
        return got

    take(path, "read as is")
    readable = path
    scratch = []
    try:
        if header_damaged(path):
            rebuilt = path + ".rebuilt"
            scratch.append(rebuilt)
            for size in candidate_sizes(path):
                _copy_with_header(path, rebuilt, header_for(size, os.path.getsize(path) // size))
                if take(rebuilt, f"header rebuilt (page size {size})"):
                    readable = rebuilt
                    break
        recovered = path + ".recovered"
        scratch.append(recovered)
        if _shell_recover(readable, recovered):
            take(recovered, "sqlite3 .recover")
    finally:
        for name in scratch:
            for suffix in ("", "-journal", "-wal", "-shm"):
                try:
                    os.unlink(name + suffix)
                except FileNotFoundError:
                    pass
    return found, ways


def _copy_with_header(source, target, header):
    shutil.copyfile(source, target)
    with open(target, "r+b") as fh:
        fh.write(header)


def shell():
    """The sqlite3 command-line shell, or None."""
    return shutil.which("sqlite3")


def _shell_recover(source, target):
    """Run `sqlite3 SOURCE .recover | sqlite3 TARGET`. True when TARGET was written."""
    binary = shell()
    if binary is None:
        return False
    try:
        dump = subprocess.run([binary, "-readonly", source, ".recover"], capture_output=True,
                              timeout=RECOVER_TIMEOUT, stdin=subprocess.DEVNULL)
        if not dump.stdout:
            return False
        load = subprocess.run([binary, target], input=dump.stdout, capture_output=True,
                              timeout=RECOVER_TIMEOUT)
    except (OSError, subprocess.SubprocessError):
        return False
    return load.returncode == 0 or os.path.exists(target)
