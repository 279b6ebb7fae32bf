"""`llm-shim install --statusline`: put `llm-shim statusline` in Claude Code's settings.json.

Only when asked. The settings file is `$CLAUDE_CONFIG_DIR/settings.json`, else
`~/.claude/settings.json`. A status line command that is already there is kept: refused with a
hint by default, or, with `--statusline=chain`, run first by ours (`statusline --chain CMD`),
its line before ours. The file's exact bytes before the change are kept (base64) in the
install state, with a hash of what we wrote; `llm-shim uninstall` puts them back byte for byte
when the file still holds what we wrote, and otherwise (you edited it since) only puts the
previous `statusLine` entry back in place of ours.
"""

import base64
import hashlib
import json
import os
import shlex

from shim import errors, safefs

MARK = "statusline"
STATE_KEY = "statusline"


def settings_path(environ=None):
    environ = os.environ if environ is None else environ
    base = environ.get("CLAUDE_CONFIG_DIR") or os.path.join(
        environ.get("HOME") or os.path.expanduser("~"), ".claude")
    return os.path.join(base, "settings.json")


def command_for(shims_dir):
    return shlex.join([os.path.join(shims_dir, "llm-shim"), MARK])


def is_ours(entry):
    """True for a statusLine entry that runs `llm-shim statusline`."""
    command = (entry or {}).get("command") if isinstance(entry, dict) else None
    if not isinstance(command, str):
        return False
    try:
        words = shlex.split(command)
    except ValueError:
        return False
    return len(words) >= 2 and os.path.basename(words[0]) == "llm-shim" and words[1] == MARK


def _read(path):
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise errors.ShimError("install --statusline", f"cannot read {path}: "
                               f"{exc.strerror or exc}", "check its permissions") from None


def _parse(path, data):
    if data is None or not data.strip():
        return {}
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise errors.ShimError("install --statusline", f"{path} is not valid JSON ({exc})",
                               "fix it (Claude Code reads it too), then rerun") from None
    if not isinstance(value, dict):
        raise errors.ShimError("install --statusline", f"{path} does not hold a JSON object",
                               "fix it (Claude Code reads it too), then rerun")
    return value


def _digest(data):
    return hashlib.sha256(data).hexdigest()


def install(shims_dir, mode="add", environ=None, recorded=None):
    """Write our statusLine. `mode`: "add" (refuse when another one is there) or "chain".
    `recorded`: this setting's record from the install state, if any. Returns
    (report {"path", "action", "previous"}, the record to keep in the install state)."""
    path = settings_path(environ)
    data = _read(path)
    settings = _parse(path, data)
    existing = settings.get("statusLine")
    if is_ours(existing):
        return {"path": path, "action": "unchanged", "previous": None}, recorded
    command = command_for(shims_dir)
    previous = None
    if existing is not None:
        old = existing.get("command") if isinstance(existing, dict) else None
        if not isinstance(old, str) or existing.get("type") != "command":
            raise errors.ShimError("install --statusline", f"{path} has a statusLine llm-shim "
                                   "cannot run", "remove it, then rerun")
        if mode != "chain":
            raise errors.ShimError(
                "install --statusline", f"{path} already has a status line command ({old})",
                "rerun with --statusline=chain to show its line before ours, or remove it first")
        previous = old
        command += " --chain " + shlex.quote(old)
    entry = dict(existing) if isinstance(existing, dict) else {"type": "command"}
    entry["command"] = command
    settings["statusLine"] = entry
    text = (json.dumps(settings, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    try:
        _write(path, text)
    except OSError as exc:
        why = getattr(exc, "why", None) or getattr(exc, "strerror", None) or str(exc)
        raise errors.ShimError("install --statusline", f"cannot write {path}: {why}",
                               "check the directory's permissions") from None
    record = {"path": path, "written": _digest(text),
              "original": None if data is None else base64.b64encode(data).decode("ascii"),
              "previous": existing}
    return {"path": path, "action": "chained" if previous else "added",
            "previous": previous}, record


def _write(path, data):
    """Replace the file atomically, through a symlink (settings kept in a dotfiles repo) to
    the file it names, keeping its mode."""
    target = os.path.realpath(path)
    safefs.write_atomic(target, data, mode=_mode(target))


def _mode(path):
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        return 0o600


def uninstall(record):
    """Undo `install` from its record. Returns {"path", "action"} or None (nothing to do)."""
    if not record or not record.get("path"):
        return None
    path = record["path"]
    try:
        data = _read(path)
    except errors.ShimError:
        return {"path": path, "action": "unreadable"}
    if data is not None and _digest(data) == record.get("written"):
        if record.get("original") is None:
            os.unlink(path)
            return {"path": path, "action": "deleted"}
        original = base64.b64decode(record["original"])
        _write(path, original)
        return {"path": path, "action": "restored"}
    # Edited since: change only our entry, leave the rest of the file as it is now.
    try:
        settings = _parse(path, data)
    except errors.ShimError:
        return {"path": path, "action": "left alone (not JSON)"}
    if not is_ours(settings.get("statusLine")):
        return {"path": path, "action": "left alone (no llm-shim statusLine)"}
    if record.get("previous") is None:
        del settings["statusLine"]
    else:
        settings["statusLine"] = record["previous"]
    text = (json.dumps(settings, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    _write(path, text)
    return {"path": path, "action": "statusLine put back (the file was edited since)"}
