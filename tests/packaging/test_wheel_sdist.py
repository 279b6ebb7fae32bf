"""The wheel and the sdist, installed the way a user would (pipx, or pip into a venv), give a
working `llm-shim` whose `install` writes shims that keep routing calls after that venv is gone.

install/release.sh (`python -m build`) builds the sdist and then the wheel from it (so the sdist is complete enough
to build from); both get the commit baked into shim/data/build.json. Needs PyPI (or the local
package mirror pip is configured with) for setuptools and the runtime dependencies.
"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys

import pytest

from shim import __version__

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROMPT = "rename x to count in util.py"  # the `auto` agent sends this to its cheap model

pytestmark = pytest.mark.slow


def _run(argv, timeout=600, **kw):
    out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                         stdin=subprocess.DEVNULL, **kw)
    assert out.returncode == 0, f"{argv} exited {out.returncode}:\n{out.stdout}\n{out.stderr}"
    return out


@pytest.fixture(scope="session")
def dists(tmp_path_factory):
    """{"wheel": path, "sdist": path} built from this checkout by install/release.sh (what
    .github/workflows/release.yml runs), which also builds llm-shim.pyz next to them."""
    if importlib.util.find_spec("build") is None:
        pytest.fail("the `build` package is missing: pip install -e '.[test]'")
    release = tmp_path_factory.mktemp("release")
    env = dict(os.environ, PYTHON=sys.executable, LLM_SHIM_VENV=sys.prefix,
               TMPDIR=str(release))
    env.pop("LLM_SHIM_HOME", None)
    _run(["bash", os.path.join(REPO, "install", "release.sh"), f"v{__version__}",
          str(release)], env=env)
    assert (release / "llm-shim.pyz").is_file()
    out_dir = release / "pypi"
    names = os.listdir(out_dir)
    wheel = [n for n in names if n.endswith(".whl")]
    sdist = [n for n in names if n.endswith(".tar.gz")]
    assert len(wheel) == 1 and len(sdist) == 1, names
    assert wheel[0].startswith(f"llm_shim-{__version__}-py3-none-any")
    return {"wheel": str(out_dir / wheel[0]), "sdist": str(out_dir / sdist[0])}


def _user_env(home, **extra):
    """A user's environment: a temp HOME, no $LLM_SHIM_HOME, nothing of the developer's."""
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "TERM": "dumb"}
    env.update(extra)
    return env


def _install_and_route(llm_shim, venv_dir, tmp_path, fake_cli):
    """`llm-shim install --no-modify-rc` from the installed distribution, delete the venv it
    came from, then route one call through the `claude` shim to a fake claude."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    shims = tmp_path / "shims"
    env = _user_env(home)
    version = _run([llm_shim, "version", "--json"], env=env)
    info = json.loads(version.stdout)
    assert info["version"] == __version__
    assert info["commit_source"] in ("build", None)  # never a checkout's git: this is a build
    if os.path.exists(os.path.join(REPO, ".git")):
        assert info["commit"] and len(info["commit"]) == 40, info

    install = _run([llm_shim, "install", "--no-modify-rc", "--dir", str(shims)], env=env)
    assert f"llm-shim {__version__} installed" in install.stdout
    assert list(home.rglob(".bashrc")) == []  # --no-modify-rc touched no start-up file
    first_line = (shims / "claude").read_text().splitlines()[0]
    assert str(venv_dir) not in first_line, "the shims must not run the venv's python"

    shutil.rmtree(venv_dir)  # pipx uninstall, a moved venv, a deleted checkout
    assert not os.path.exists(llm_shim)

    real = fake_cli("claude")
    # LLM_SHIM_LEARN=0: a first sight of the fake claude would relearn its grammar in the
    # background (`claude --help`), a call the fake records at random times.
    call_env = _user_env(home, PATH=f"{shims}:{real.path.parent}:/usr/bin:/bin",
                         LLM_SHIM_AGENT="auto", LLM_SHIM_LEARN="0")
    call = subprocess.run(["claude", "-p", PROMPT], env=call_env, capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert call.returncode == 0, call.stderr
    [recorded] = real.calls()
    argv = recorded["argv_text"]
    assert argv[0] == "--model" and argv[1].startswith("claude-") and argv[2:] == ["-p", PROMPT]
    logs = _run([str(shims / "llm-shim"), "logs", "--json"], env=call_env)
    rows = json.loads(logs.stdout)
    assert [r.get("model") for r in rows] == [argv[1]], rows
    doctor = subprocess.run([str(shims / "llm-shim"), "doctor"], env=call_env,
                            capture_output=True, text=True, timeout=120)
    assert "shims-current" in doctor.stdout and "is gone" not in doctor.stdout, doctor.stdout


def test_wheel_through_pipx_or_a_venv(dists, tmp_path, fake_cli):
    """pipx when it is installed (the test extra has it); else a plain venv, which is what
    pipx makes."""
    if importlib.util.find_spec("pipx") is not None:
        pipx_home, pipx_bin = tmp_path / "pipx-home", tmp_path / "pipx-bin"
        env = dict(os.environ, PIPX_HOME=str(pipx_home), PIPX_BIN_DIR=str(pipx_bin),
                   PIPX_MAN_DIR=str(tmp_path / "pipx-man"))
        env.pop("LLM_SHIM_HOME", None)
        _run([sys.executable, "-m", "pipx", "install", "--python", sys.executable,
              dists["wheel"]], env=env)
        llm_shim = str(pipx_bin / "llm-shim")
        venv_dir = pipx_home / "venvs" / "llm-shim"
        assert os.path.realpath(llm_shim).startswith(str(venv_dir))
    else:
        venv_dir = tmp_path / "venv"
        _run([sys.executable, "-m", "venv", str(venv_dir)])
        _run([str(venv_dir / "bin" / "python"), "-m", "pip", "install", "-q", dists["wheel"]])
        llm_shim = str(venv_dir / "bin" / "llm-shim")
    _install_and_route(llm_shim, venv_dir, tmp_path, fake_cli)


def test_sdist_in_a_fresh_venv(dists, tmp_path, fake_cli):
    venv_dir = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv_dir)])
    _run([str(venv_dir / "bin" / "python"), "-m", "pip", "install", "-q", dists["sdist"]])
    _install_and_route(str(venv_dir / "bin" / "llm-shim"), venv_dir, tmp_path, fake_cli)
