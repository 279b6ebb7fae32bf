"""Every directory and file llm-shim uses, resolved the same way everywhere.

`$LLM_SHIM_HOME` overrides all of them (tests, portable installs); a shim installed with it set
sets it again when the calling shell lacks it (see `shim.install.shimscript.shim_script`). Otherwise
the platformdirs locations are used. On Linux and macOS the same answers are computed here
without importing platformdirs, because the shims resolve paths on every call and platformdirs
costs ~6 ms to import; `tests/test_paths.py` checks that both agree.
"""

import os
import sys

from shim import safefs

APP = "llm-shim"
HOME_ENV = "LLM_SHIM_HOME"


def _home():
    value = os.environ.get(HOME_ENV)
    return os.path.abspath(os.path.expanduser(value)) if value else None


def home_override():
    """`$LLM_SHIM_HOME` as an absolute path, or None when it is unset or empty.

    `llm-shim install` bakes it into the shims it writes, so they keep using that home in
    shells that lack the variable.
    """
    return _home()


def _xdg(var, default):
    value = os.environ.get(var, "").strip()
    return value if value else os.path.expanduser(default)


def _platform_dir(kind):
    """The platformdirs user directory of `kind` ('config', 'data', 'cache') for llm-shim."""
    if sys.platform.startswith("linux"):
        base = {
            "config": lambda: _xdg("XDG_CONFIG_HOME", "~/.config"),
            "data": lambda: _xdg("XDG_DATA_HOME", "~/.local/share"),
            "cache": lambda: _xdg("XDG_CACHE_HOME", "~/.cache"),
        }[kind]()
        return os.path.join(base, APP)
    if sys.platform == "darwin":
        if kind == "cache":
            return os.path.expanduser("~/Library/Caches/" + APP)
        return os.path.expanduser("~/Library/Application Support/" + APP)
    import platformdirs

    return {
        "config": platformdirs.user_config_dir,
        "data": platformdirs.user_data_dir,
        "cache": platformdirs.user_cache_dir,
    }[kind](APP, appauthor=False)


def config_dir():
    return _home() or _platform_dir("config")


def data_dir():
    return _home() or _platform_dir("data")


def cache_dir():
    home = _home()
    return os.path.join(home, "cache") if home else _platform_dir("cache")


def user_config_file():
    return os.path.join(config_dir(), "config.yaml")


def shims_dir():
    """Where `llm-shim install` puts the shims; `--dir` may choose another."""
    return os.path.join(data_dir(), "shims")


def lib_dir():
    """The private, versioned copies of the package that installed shims run from."""
    return os.path.join(data_dir(), "lib")


def database_file():
    return os.path.join(data_dir(), "telemetry.db")


def trust_file():
    """The project files you trust (`llm-shim trust`): resolved path and sha256 of each."""
    return os.path.join(data_dir(), "trusted-projects")


def spool_dir():
    return os.path.join(data_dir(), "spool")


def package_data(name):
    """A file shipped inside the package (works from a checkout, a wheel or an installed copy)."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", name)


def embedded_default_config():
    return package_data("default.yaml")


def ensure_private_parent(path):
    """Create the data dir 0700 when `path` (the shims or the code copy) sits right in it:
    os.makedirs would give it the umask's 0755, though the directories inside are 0755."""
    parent = os.path.dirname(os.path.abspath(path))
    if parent == os.path.abspath(data_dir()):
        ensure_dir(parent)


def ensure_dir(path, mode=safefs.DIR_MODE):
    """Create `path` (0700, missing parents too) if needed and return it; a symlink or another
    user's directory there raises `shim.safefs.Refused` (docs/security.md "Files and modes")."""
    return safefs.private_dir(path, mode=mode)


def _own_roots():
    return (config_dir(), data_dir(), cache_dir())


safefs.default_roots = _own_roots  # the directories that may themselves be symlinks
