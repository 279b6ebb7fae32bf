"""Marked blocks in shell start-up files, added and removed so the file gets its bytes back.

The block goes at the END of the file: distributions set PATH early on (Debian's ~/.profile
adds ~/bin and ~/.local/bin; /etc/profile resets PATH before), and anything prepended after our
block would land ahead of the shims. A block already present is replaced where it stands (the
user may have moved it on purpose).

Everything works on bytes, so files in any encoding survive. What `add_block` had to add
besides the block (a blank line, a missing final newline, the file itself, its directories)
comes back as a record; `remove_block` with that record restores the original bytes exactly.
Writes go through symlinks (dotfile managers) and replace the target atomically.
"""

import os

from shim import safefs

BEGIN = b"# >>> llm-shim >>>"
END = b"# <<< llm-shim <<<"


def render_block(body):
    """The marked block around `body` (text ending in a newline)."""
    return BEGIN + b"\n" + os.fsencode(body) + END + b"\n"


def find_block(data):
    """(start, end) byte offsets of the first marked block in `data`, or None.

    `end` is past the END line's newline. An unterminated block (END deleted by hand) runs to
    the end of the file.
    """
    start = 0 if data.startswith(BEGIN) else data.find(b"\n" + BEGIN)
    if start < 0:
        return None
    if data[start:start + 1] == b"\n":
        start += 1
    end_mark = data.find(b"\n" + END, start)
    if end_mark < 0:
        return start, len(data)
    line_end = data.find(b"\n", end_mark + 1 + len(END))
    return start, (len(data) if line_end < 0 else line_end + 1)


def read_bytes(path):
    """The file's bytes, or None when it does not exist."""
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        return None


def write_bytes(path, data, mode=0o644):
    """Replace the file (through a symlink, onto its target) atomically, keeping its mode.
    Every file llm-shim writes for people (start-up files, completions, the install state,
    `config init`'s config and schema) goes through here."""
    target = os.path.realpath(path)
    try:
        mode = os.stat(target).st_mode & 0o7777
    except FileNotFoundError:
        pass
    safefs.replace_file(target, data, mode)


def make_parents(path):
    """Create the missing parent directories of `path`; return them, outermost first."""
    created = []
    parent = os.path.dirname(os.path.realpath(path)) if os.path.lexists(path) \
        else os.path.dirname(path)
    while not os.path.isdir(parent):
        created.append(parent)
        parent = os.path.dirname(parent)
    for directory in reversed(created):
        os.mkdir(directory, 0o755)
    return list(reversed(created))


def add_block(path, body):
    """Put the block with `body` into `path`. Returns (action, record).

    action: "created", "appended", "replaced" or "unchanged". record is what `remove_block`
    needs to undo exactly this change: {"created": bool, "separator": str, "created_dirs": [...]}
    (None for "replaced"/"unchanged": the earlier record still holds).
    """
    block = render_block(body)
    data = read_bytes(path)
    if data is None:
        dirs = make_parents(path)
        write_bytes(path, block)
        return "created", {"created": True, "separator": "", "created_dirs": dirs}
    found = find_block(data)
    if found:
        start, end = found
        if data[start:end] == block:
            return "unchanged", None
        write_bytes(path, data[:start] + block + data[end:])
        return "replaced", None
    if not data:
        separator = b""
    elif data.endswith(b"\n"):
        separator = b"\n"  # a blank line between the user's last line and ours
    else:
        separator = b"\n\n"  # end their last line, then the blank line
    write_bytes(path, data + separator + block)
    return "appended", {"created": False, "separator": separator.decode(), "created_dirs": []}


def remove_block(path, record=None, delete_if_empty=False):
    """Take the block out of `path`, undoing what `record` says `add_block` added.

    Returns "removed", "deleted" (the file was ours and is now empty) or None (no block).
    Without a record (state lost) only the block itself goes.
    """
    data = read_bytes(path)
    if data is None:
        return None
    found = find_block(data)
    if not found:
        return None
    start, end = found
    before, after = data[:start], data[end:]
    separator = os.fsencode((record or {}).get("separator") or "")
    if separator and before.endswith(separator):
        before = before[:-len(separator)]
        if after and before and not before.endswith(b"\n"):
            before += b"\n"  # the user wrote lines after our block: keep them on their own line
    result = before + after
    created = bool((record or {}).get("created"))
    if not result and (created or delete_if_empty):
        os.unlink(path)
        for directory in reversed((record or {}).get("created_dirs") or []):
            try:
                os.rmdir(directory)
            except OSError:
                break  # not empty: someone else uses it now
        return "deleted"
    write_bytes(path, result)
    return "removed"
