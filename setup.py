"""Bake the commit a wheel or sdist is built from into shim/data/build.json.

Everything else is in pyproject.toml. The checkout's own build.json says null (so a checkout
asks git at `llm-shim version --json` time); a build from a git work tree writes the commit
into the built copy only, and a wheel built from an sdist keeps the sdist's baked value.
"""

import json
import os
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

ROOT = os.path.dirname(os.path.abspath(__file__))
BUILD_FILE = os.path.join("shim", "data", "build.json")


def _git_commit():
    if not os.path.exists(os.path.join(ROOT, ".git")):
        return None
    try:
        out = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return (out.stdout.strip() or None) if out.returncode == 0 else None


def _bake(tree):
    commit = _git_commit()
    target = os.path.join(tree, BUILD_FILE)
    if commit and os.path.exists(target):
        os.unlink(target)  # sdist hard-links files: never write through into the checkout
        with open(target, "w", encoding="utf-8") as fh:
            json.dump({"commit": commit}, fh)
            fh.write("\n")


class BuildPy(build_py):
    def run(self):
        super().run()
        if not getattr(self, "editable_mode", False):
            _bake(self.build_lib)


class Sdist(sdist):
    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        _bake(base_dir)


setup(cmdclass={"build_py": BuildPy, "sdist": Sdist})
