"""Launchers shaped like the installed shims, for any test that runs a shim.

The launcher runs Python with `-IS` like an installed shim; the repo and the venv's
site-packages go on sys.path explicitly (an installed shim has its private copy instead), and
it serves the hot modules from the archive as an installed shim does (shim/hotcode.py).
`shims` and `run_shim` (a shims dir in front of the fake CLIs) are registered for the whole tree
by tests/conftest.py.
"""

import os
import site
import subprocess
import sys

import pytest

from shim.install import shimscript
from tests.support import REPO

SITE = [p for p in site.getsitepackages() if p.endswith("site-packages")]

LAUNCHER = """#!{python} -IS
# llm-shim shim (test launcher)
import sys
sys.path[:0] = {paths!r}
""" + shimscript.BOOT + """from shim.entry import main
sys.exit(main())
"""


def write_launcher(path):
    path.write_text(LAUNCHER.format(python=os.path.realpath(sys.executable),
                                    paths=[REPO] + SITE))
    path.chmod(0o755)
    return path


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
