"""Shims for the interception tests: launchers shaped like the installed ones.

The launcher runs Python with `-IS` like an installed shim; the repo and the venv's
site-packages go on sys.path explicitly (an installed shim has its private copy instead).
"""

import os
import subprocess

import pytest

from tests.support.launchers import REPO, write_launcher  # noqa: F401


@pytest.fixture
def shims(tmp_path):
    """A shims dir with claude, codex, llm and llm-shim launchers."""
    d = tmp_path / "shims"
    d.mkdir()
    for name in ("claude", "codex", "llm", "llm-shim"):
        write_launcher(d / name)
    return d


@pytest.fixture
def run_shim(shims, fake_cli, isolated_env):
    """Run a command with PATH = shims, fake-bin, /usr/bin, /bin (shims first by default)."""

    def run(argv, *, path=None, env=None, **kw):
        full_env = dict(os.environ)
        full_env["PATH"] = os.pathsep.join(
            str(p) for p in (path if path is not None else [shims, fake_cli.bin_dir, "/usr/bin", "/bin"]))
        full_env.update(env or {})
        kw.setdefault("capture_output", True)
        kw.setdefault("timeout", 60)
        return subprocess.run(argv, env=full_env, **kw)

    return run
