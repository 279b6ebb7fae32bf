"""Fixtures for the install tests and the tests that install llm-shim to check something else
(doctor, docs, plans, packaging): in-process CLI runs, file snapshots, real shells, a zipapp.
Registered once for the whole tree by tests/conftest.py (`pytest_plugins`), so the session's
private copy and zipapp are built once however many folders use them.

Installing copies ~5 MB and byte-compiles it (~0.3 s); most tests start from a private copy
built once per session (`prebuilt_lib`), which `install` recognises as current by its manifest
and keeps. The tests of the copy itself build their own.
"""

import os
import shutil
import subprocess

import pytest

from shim import __version__, paths
from shim.cli.main import main as cli_main
from shim.install import libcopy, shimscript

from tests.support import REPO


@pytest.fixture(scope="session")
def repo():
    return REPO


@pytest.fixture(scope="session")
def _session_lib(tmp_path_factory):
    root = tmp_path_factory.mktemp("prebuilt-lib")
    libcopy.install_lib(str(root), __version__, shimscript.base_python())
    return root / __version__


@pytest.fixture
def prebuilt_lib(_session_lib, isolated_env):
    """Put a current private copy where `install` looks, so it keeps it instead of copying."""
    target = os.path.join(paths.lib_dir(), __version__)
    shutil.copytree(_session_lib, target, symlinks=True)
    return target


@pytest.fixture
def cli(capsys):
    """Run `llm-shim ARGS...` in-process; returns (exit code, stdout, stderr)."""
    def run(*args):
        code = cli_main(list(args))
        out, err = capsys.readouterr()
        return code, out, err
    return run


def _snapshot(*roots):
    """{path: (bytes or "<dir>"/"->target", mode)} of everything under `roots`."""
    result = {}
    for root in roots:
        root = str(root)
        if not os.path.lexists(root):
            continue
        for directory, dirs, files in os.walk(root):
            for name in dirs + files:
                path = os.path.join(directory, name)
                st = os.lstat(path)
                if os.path.islink(path):
                    result[path] = ("->" + os.readlink(path), st.st_mode)
                elif os.path.isdir(path):
                    result[path] = ("<dir>", st.st_mode)
                else:
                    with open(path, "rb") as fh:
                        result[path] = (fh.read(), st.st_mode, st.st_mtime_ns)
    return result


def _require_shell(name):
    """The shell's path, or skip with the reason (install/test-deps.sh installs zsh and fish)."""
    path = shutil.which(name)
    if not path:
        pytest.skip(f"{name} is not installed here and install/test-deps.sh could not add it")
    return path


def _run_shell(argv, home, extra_env=None, timeout=30):
    """Run a real shell with nothing inherited but HOME and TERM (like a fresh login)."""
    env = {"HOME": str(home), "TERM": "dumb"}
    env.update(extra_env or {})
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, cwd=str(home))


@pytest.fixture
def snapshot():
    return _snapshot


@pytest.fixture
def require_shell():
    return _require_shell


@pytest.fixture
def run_shell():
    return _run_shell


@pytest.fixture(scope="session")
def zipapp_factory(tmp_path_factory):
    """Build dist/llm-shim.pyz the way install.sh does (install/build.sh), into a temp dir.

    Returns a function copying the session's pyz to a given path (tests delete their copy).
    """
    build = os.path.join(REPO, "install", "build.sh")
    if not os.path.exists(build):
        pytest.skip("install/build.sh is missing")
    pyz = tmp_path_factory.mktemp("pyz-build") / "llm-shim.pyz"
    env = dict(os.environ, TMPDIR=str(pyz.parent))
    env.pop("LLM_SHIM_HOME", None)
    out = subprocess.run(["bash", build, str(pyz)], env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr

    def make(dest):
        shutil.copyfile(pyz, dest)
        return dest
    return make
