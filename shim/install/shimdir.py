"""The shims directory: which tools get a shim, and writing and removing exactly our shims.

Every shim is a copy of one script (`shim.install.shimscript`), not a hard link: a copy survives
editors, backup tools and `cp -r` of the directory, and is recognised by its marker. A file
that is not ours is never replaced or removed.
"""

import os
import re

from shim import errors, paths, safefs
from shim.resolve import has_shim_marker
from shim.tools import BUILTIN_TOOLS

CLI_NAME = "llm-shim"
_TOOL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")


def is_shim_file(path):
    """True when `path` is a regular file (not a link to one) that is a shim we generated."""
    if os.path.islink(path) or not os.path.isfile(path):
        return False
    return has_shim_marker(path)


def tool_names(cfg):
    """The tools that get a shim: the built-ins plus every tool under `tools:` in `cfg`."""
    names = set(BUILTIN_TOOLS)
    for name in (cfg or {}).get("tools") or {}:
        if not isinstance(name, str) or not _TOOL_NAME.fullmatch(name) or name == CLI_NAME:
            errors.warn("install", f"tools.{name!r} is not a usable command name", "skipped")
            continue
        names.add(name)
    return sorted(names)


def configured_tools():
    """`tool_names` of the compiled config as seen from here (every layer, project included).

    An invalid config stops the install with its ConfigError: better said now than by shims.
    """
    from shim.config import compiled

    return tool_names(compiled.load())


def write_shims(shims_dir, names, script):
    """Make `shims_dir` hold exactly our shims `names` (plus nothing else of ours).

    Files already identical are left alone (byte-identical reinstalls, mtimes kept). A file
    with a wanted name that is not ours is never replaced: `--dir ~/.local/bin` must not
    overwrite the real claude. Returns {"created", "updated", "unchanged", "removed"} lists.
    """
    data = script.encode()
    result = {"created": [], "updated": [], "unchanged": [], "removed": []}
    check_shims_dir(shims_dir, names)
    paths.ensure_private_parent(shims_dir)
    os.makedirs(shims_dir, mode=0o755, exist_ok=True)
    for name in names:
        path = os.path.join(shims_dir, name)
        if not os.path.lexists(path):
            _write_executable(path, data)
            result["created"].append(name)
        elif _read(path) != data or (os.stat(path).st_mode & 0o777) != 0o755:
            _write_executable(path, data)
            result["updated"].append(name)
        else:
            result["unchanged"].append(name)
    wanted = set(names)
    for entry in sorted(os.listdir(shims_dir)):
        path = os.path.join(shims_dir, entry)
        if entry not in wanted and is_shim_file(path):
            os.unlink(path)
            result["removed"].append(entry)
    return result


def check_shims_dir(shims_dir, names):
    """Refuse before anything is written when a wanted name is taken by a file not ours."""
    if os.path.exists(shims_dir) and not os.path.isdir(shims_dir):
        raise errors.ShimError("install", f"{shims_dir} is not a directory",
                               "choose another directory with --dir")
    for name in names:
        path = os.path.join(shims_dir, name)
        if os.path.lexists(path) and not is_shim_file(path):
            raise errors.ShimError(
                "install", f"{path} exists and is not an llm-shim shim",
                "move it away or choose another directory with --dir")


def remove_shims(shims_dir):
    """Delete our shims from `shims_dir` (never anything else), then the dir if it is empty."""
    removed = []
    if not os.path.isdir(shims_dir):
        return removed
    for entry in sorted(os.listdir(shims_dir)):
        path = os.path.join(shims_dir, entry)
        if is_shim_file(path):
            os.unlink(path)
            removed.append(entry)
    try:
        os.rmdir(shims_dir)
    except OSError:
        pass
    return removed


def _read(path):
    with open(path, "rb") as fh:
        return fh.read()


def _write_executable(path, data):
    safefs.replace_file(path, data, 0o755)
