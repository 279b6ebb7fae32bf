"""What `llm-shim version --json` reports: the version, the commit it was built from, Python.

The commit is baked into shim/data/build.json when a wheel, an sdist (setup.py) or the zipapp
(install/build.sh) is built; a checkout's own copy says null, and then, only when the package
sits in a git work tree, `git rev-parse HEAD` is asked. Never imported on the hot path: only the
`version` command reads it.
"""

import json
import os
import subprocess
import sys

from shim import __version__, paths

BUILD_FILE = "build.json"


def baked_commit():
    """The commit recorded at build time, or None (a checkout, or a build outside git)."""
    try:
        with open(paths.package_data(BUILD_FILE), encoding="utf-8") as fh:
            value = json.load(fh).get("commit")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and value else None


def checkout_commit(package_dir=None):
    """HEAD of the git work tree the `shim` package is in, or None (no git, not a checkout)."""
    package_dir = package_dir or os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(package_dir)
    if not os.path.exists(os.path.join(root, ".git")):
        return None
    try:
        out = subprocess.run(["git", "-C", root, "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=5, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and commit else None


def info():
    """{"version", "commit", "commit_source", "python", "implementation", "platform"}.

    commit_source says where the commit came from: "build", "git" or null (unknown, and
    shown as null rather than guessed)."""
    commit, source = baked_commit(), "build"
    if commit is None:
        commit = checkout_commit()
        source = "git" if commit else None
    return {
        "version": __version__,
        "commit": commit,
        "commit_source": source,
        "python": "%d.%d.%d" % sys.version_info[:3],
        "implementation": sys.implementation.name,
        "executable": sys.executable,
        "platform": sys.platform,
    }
