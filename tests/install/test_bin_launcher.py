"""bin/llm-shim runs llm-shim from the checkout, and never acts as a shim for a tool.

The launcher is POSIX sh: `$PYTHON -m shim "$@"` with the checkout on PYTHONPATH (default
interpreter: the checkout's .venv python, else python3).
"""

import os
import subprocess
import sys

import pytest

from shim import __version__
from shim.install import shimdir
from tests.support import REPO

LAUNCHER = os.path.join(REPO, "bin", "llm-shim")


def _run(argv, tmp_path, **extra):
    env = {"HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin",
           "LLM_SHIM_HOME": str(tmp_path / "shim-home"), "PYTHON": sys.executable}
    env.update(extra)
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60,
                          cwd=str(tmp_path), stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("shell", ["sh", "dash", "bash"])
def test_bin_llm_shim_version_runs_the_checkout(tmp_path, shell):
    if not os.path.exists(f"/bin/{shell}") and not os.path.exists(f"/usr/bin/{shell}"):
        pytest.skip(f"no {shell} here")
    assert os.access(LAUNCHER, os.X_OK), "bin/llm-shim must be executable"
    out = _run([shell, LAUNCHER, "version"], tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"llm-shim {__version__}\n"
    out = _run([LAUNCHER, "version"], tmp_path)  # through its shebang
    assert out.stdout == f"llm-shim {__version__}\n", out.stderr


def test_bin_llm_shim_honours_python(tmp_path):
    marker = tmp_path / "used"
    wrapper = tmp_path / "my-python"
    wrapper.write_text(f"#!/bin/sh\ntouch {marker}\nexec {sys.executable} \"$@\"\n")
    wrapper.chmod(0o755)
    out = _run([LAUNCHER, "version"], tmp_path, PYTHON=str(wrapper))
    assert out.returncode == 0 and marker.exists(), out.stderr
    out = _run([LAUNCHER, "version"], tmp_path, PYTHON=str(tmp_path / "no-such-python"))
    assert out.returncode == 127
    assert "bin/llm-shim: " in out.stderr and "not found" in out.stderr


def test_a_link_named_claude_is_still_llm_shim_not_a_claude_shim(tmp_path, fake_cli):
    """Linked or copied under a tool's name, the launcher runs the CLI, never the proxy:
    the real claude on PATH is not run."""
    real = fake_cli("claude")
    links = tmp_path / "links"
    links.mkdir()
    (links / "claude").symlink_to(LAUNCHER)
    path = f"{links}:{real.path.parent}:/usr/bin:/bin"
    out = _run(["claude", "version"], tmp_path, PATH=path)
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"llm-shim {__version__}\n"
    out = _run(["claude", "-p", "hello"], tmp_path, PATH=path)
    assert out.returncode == 2 and "usage" in out.stderr  # the CLI's answer to unknown argv
    assert real.calls() == []


def test_the_launcher_is_not_a_shim_and_install_never_overwrites_it(cli, prebuilt_lib,
                                                                    tmp_path):
    assert not shimdir.is_shim_file(LAUNCHER)
    copy = tmp_path / "bin"
    copy.mkdir()
    (copy / "llm-shim").write_bytes(open(LAUNCHER, "rb").read())
    before = (copy / "llm-shim").read_bytes()
    code, _, err = cli("install", "--dir", str(copy), "--no-modify-rc")
    assert code != 0 and "exists and is not an llm-shim shim" in err
    assert os.listdir(copy) == ["llm-shim"] and (copy / "llm-shim").read_bytes() == before
