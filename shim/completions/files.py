"""Where `llm-shim install` puts the completion scripts, and how `uninstall` takes them away.

Per-user locations each shell loads by itself: bash-completion's user dir, fish's completions
dir, and `~/.zfunc` for zsh, which has no user dir it searches on its own: the llm-shim block
install appends to ~/.zshrc (after the user's `compinit`) adds it to fpath, autoloads
`_llm-shim` and registers it with `compdef` (`shim.install.shells.zsh_completion`). Files are
recognised as ours by the marker line, so a file of the same name that we did not write is never
overwritten or deleted.
"""

import os

from shim.completions.scripts import MARKER, SHELLS, script
from shim.completions.tree import default_tree
from shim.install import rcfiles


def completion_file(shell, home, environ):
    """The per-user file each shell loads (zsh: through the ~/.zshrc block)."""
    if shell == "bash":
        base = environ.get("BASH_COMPLETION_USER_DIR", "").strip() or os.path.join(
            environ.get("XDG_DATA_HOME", "").strip() or os.path.join(home, ".local", "share"),
            "bash-completion")
        return os.path.join(base, "completions", "llm-shim")
    if shell == "zsh":
        return os.path.join(home, ".zfunc", "_llm-shim")
    config = environ.get("XDG_CONFIG_HOME", "").strip() or os.path.join(home, ".config")
    return os.path.join(config, "fish", "completions", "llm-shim.fish")


def is_ours(data):
    """True for bytes of a script we generated (the marker is on line 1 or 2)."""
    return MARKER.encode() in b"\n".join(data.split(b"\n", 2)[:2])


def install_files(shells, home, environ, previous=None):
    """Write the scripts of `shells` (plus those recorded by an earlier install).

    Returns (report, records): report [{"shell", "path", "action"}] with action created,
    updated, unchanged, skipped (a file of the same name that is not ours is left alone) or
    "not written (<reason>)";
    records {path: {"shell", "created_dirs"}} for the state file, so uninstall can undo it.
    """
    previous = previous or {}
    wanted = list(shells) + [r["shell"] for r in previous.values()
                             if r.get("shell") in SHELLS and r["shell"] not in shells]
    tree = default_tree()
    report, records = [], {}
    for shell in SHELLS:
        if shell not in wanted:
            continue
        path = completion_file(shell, home, environ)
        text = script(shell, tree).encode("utf-8")
        old = rcfiles.read_bytes(path)
        record = previous.get(path) or {"shell": shell, "created_dirs": []}
        if old is not None and not is_ours(old):
            report.append({"shell": shell, "path": path, "action": "skipped"})
            continue
        try:
            if old is None:
                record = {"shell": shell, "created_dirs": rcfiles.make_parents(path)}
            if old != text:
                rcfiles.write_bytes(path, text)
        except OSError as exc:  # completion is a convenience: never fail the install for it
            report.append({"shell": shell, "path": path,
                           "action": f"not written ({exc.strerror or exc})"})
            continue
        action = "created" if old is None else "unchanged" if old == text else "updated"
        report.append({"shell": shell, "path": path, "action": action})
        records[path] = record
    return report, records


def remove_files(records, home, environ):
    """Delete our scripts (recorded ones, and any found at the standard places) and the
    directories install created for them, if empty. Returns the paths deleted."""
    removed = []
    candidates = set(records or {}) | {completion_file(s, home, environ) for s in SHELLS}
    for path in sorted(candidates):
        try:
            with open(path, "rb") as fh:
                if not is_ours(fh.read(4096)):
                    continue
            os.unlink(path)
        except OSError:
            continue
        removed.append(path)
        for directory in reversed(((records or {}).get(path) or {}).get("created_dirs") or []):
            try:
                os.rmdir(directory)
            except OSError:
                break  # not empty: something else lives there now
    return removed


def report_lines(items, shorten=lambda path: path):
    """The lines `llm-shim install` prints about the completion files it wrote."""
    lines = []
    for item in items or ():
        action = item["action"]
        if action == "skipped":
            action = "skipped: a file of that name that llm-shim did not write is there"
        lines.append(f"  {item['shell']:<6} {shorten(item['path'])}: completion {action}")
        if item["shell"] == "zsh" and not action.startswith(("skipped", "not written")):
            lines.append("         the ~/.zshrc block loads it (after the `compinit` your "
                         "~/.zshrc runs)")
    return lines
