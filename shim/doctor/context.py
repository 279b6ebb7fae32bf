"""What every doctor check looks at, gathered once: install state, shims dir, config, tools.

Gathering never raises: a config that does not load is kept as `cfg_error` (the config check
reports it, the other checks fall back to the built-in tools), so one broken part cannot hide
the state of the rest.
"""

import os

from shim import paths
from shim.install import installer, shimdir, state
from shim.tools import BUILTIN_TOOLS


def gather(environ=None, cwd=None):
    """A dict of everything the checks read. Keys:

    environ, home, cwd, data_dir (the running shim's install's, else `paths.data_dir()`),
    state (its install state file, {} if none), shims_dir (the running
    shim's dir, else the recorded one, else the default), installed (a state file exists),
    copied_from (the data dir the state file was written in, when this one is a copy of it),
    cfg (compiled config or None), cfg_error (the exception or None), tools (the tools that get
    a shim), expected_shims (the shim names install wrote, else tools + llm-shim), path (PATH
    entries in order).
    """
    environ = dict(os.environ if environ is None else environ)
    home = environ.get("HOME") or os.path.expanduser("~")
    # Run through an installed shim, look at that shim's install (its state and code copy),
    # whatever $LLM_SHIM_HOME this shell has.
    data_dir = installer.running_data_dir() or paths.data_dir()
    recorded = state.load(data_dir)
    running = installer.running_shims_dir()
    copied_from = None if running else copied_home(recorded.get("shims_dir"), data_dir)
    shims_dir = running or (copied_from and os.path.join(data_dir, "shims")) \
        or recorded.get("shims_dir") or paths.shims_dir()
    cfg, cfg_error = _load_config(cwd, environ)
    tools = shimdir.tool_names(cfg) if cfg is not None else list(BUILTIN_TOOLS)
    expected = list(recorded.get("shims") or tools + [shimdir.CLI_NAME])
    return {
        "environ": environ,
        "home": home,
        "cwd": cwd,
        "state": recorded,
        "data_dir": data_dir,
        "installed": bool(recorded),
        "shims_dir": os.path.abspath(shims_dir),
        "copied_from": copied_from,
        "cfg": cfg,
        "cfg_error": cfg_error,
        "tools": tools,
        "expected_shims": expected,
        "path": environ.get("PATH", os.defpath).split(os.pathsep),
    }


def copied_home(recorded_shims, data_dir):
    """The other data dir whose default shims dir the state file names, when `data_dir` has
    its own `shims` (a copied or moved LLM_SHIM_HOME): the checks then look at this home's
    shims, not the old home's."""
    if not recorded_shims or os.path.basename(recorded_shims.rstrip(os.sep)) != "shims":
        return None
    old_home = os.path.dirname(recorded_shims.rstrip(os.sep))
    if same_dir(old_home, data_dir) or not os.path.isdir(os.path.join(data_dir, "shims")):
        return None
    return old_home


def _load_config(cwd, environ):
    from shim.config import compiled

    try:
        return compiled.load(cwd=cwd, environ=environ), None
    except Exception as exc:  # ConfigError, or a bug: the config check shows either
        return None, exc


def same_dir(a, b):
    """True when two PATH entries name the same directory (symlinks and `..` resolved)."""
    if not a or not b:
        return False
    return os.path.realpath(a) == os.path.realpath(b)


def tilde(path, home):
    """`path` with the home directory shown as `~`, for shorter lines."""
    if home and home != os.sep and path.startswith(home.rstrip(os.sep) + os.sep):
        return "~" + path[len(home.rstrip(os.sep)):]
    return path


def result(name, ok, detail, hint=None, severity="fail"):
    """A check's result dict (see `shim.doctor.checks`)."""
    severity = None if ok else severity
    return {"name": name, "ok": ok, "severity": severity, "status": severity or "ok",
            "detail": detail, "hint": None if ok else hint}


def writable_dir(directory):
    """(True, dir) if `directory`, or the nearest ancestor it would be created in, is writable."""
    probe_dir = directory
    while not os.path.isdir(probe_dir):
        parent = os.path.dirname(probe_dir)
        if parent == probe_dir or os.path.lexists(probe_dir):
            return False, probe_dir
        probe_dir = parent
    return os.access(probe_dir, os.W_OK | os.X_OK), probe_dir
