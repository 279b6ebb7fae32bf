"""`install-state.json`: what `llm-shim install` created, so `uninstall` can undo exactly that.

Kept in the data dir: the shims dir and lib dir used, the shim names, and per start-up file
whether install created it and which separator bytes it added before the block. Written with
sorted keys and atomically, so an unchanged install rewrites nothing.
"""

import json
import os

from shim import paths, safefs

FILE_NAME = "install-state.json"
FORMAT = 1


def state_file(data_dir=None):
    """The state file in `data_dir` (default: `paths.data_dir()`)."""
    return os.path.join(data_dir or paths.data_dir(), FILE_NAME)


def load(data_dir=None):
    """The recorded state, or an empty one when there is none (or it cannot be read)."""
    try:
        with open(state_file(data_dir), encoding="utf-8") as fh:
            state = json.load(fh)
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) and state.get("format") == FORMAT else {}


def dumps(state):
    return json.dumps(dict(state, format=FORMAT), indent=2, sort_keys=True) + "\n"


def save(state):
    """Write `state` unless the file already holds exactly these bytes."""
    text = dumps(state)
    path = state_file()
    try:
        with open(path, encoding="utf-8") as fh:
            if fh.read() == text:
                return False
    except OSError:
        pass
    safefs.write_atomic(path, text.encode("utf-8"))
    return True


def remove(data_dir=None):
    try:
        os.unlink(state_file(data_dir))
    except FileNotFoundError:
        pass
