"""The one-file distribution: install.sh runs the zipapp's `install`, and the installed shims
keep working after the zipapp and shiv's extraction of it are deleted."""

import os
import shutil
import subprocess
import sys

import pytest

from shim import __version__
from shim.install import shimscript


def _env(isolated_env, shiv_root, **extra):
    env = {
        "HOME": str(isolated_env["home"]),
        "LLM_SHIM_HOME": str(isolated_env["shim_home"]),
        "SHIV_ROOT": str(shiv_root),
        "PATH": "/usr/bin:/bin",
        "SHELL": "/bin/bash",
        "PYTHON": sys.executable,  # the venv's python: the shims must not point into the venv
    }
    env.update(extra)
    return env


def _install_sh(repo):
    return os.path.join(repo, "install", "install.sh")


def test_shims_survive_deleting_the_zipapp_and_its_extraction(
        isolated_env, zipapp_factory, repo, tmp_path, fake_cli):
    pyz = zipapp_factory(tmp_path / "llm-shim.pyz")
    shiv_root = tmp_path / "shiv-root"
    out = subprocess.run(["sh", _install_sh(repo), "--pyz", str(pyz), "--shell", "bash"],
                         env=_env(isolated_env, shiv_root), capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert f"llm-shim {__version__} installed" in out.stdout
    assert any(p.startswith("llm-shim.pyz_") for p in os.listdir(shiv_root))
    os.unlink(pyz)
    shutil.rmtree(shiv_root)

    shims = isolated_env["shim_home"] / "shims"
    first_line = (shims / "claude").read_text().splitlines()[0]
    assert first_line == f"#!{shimscript.base_python()} -IS"
    # LLM_SHIM_LEARN=0: a first sight of the fake claude would relearn its grammar in the
    # background (`claude --help`), a call the fake records at random times.
    env = {"HOME": str(isolated_env["home"]), "PATH": "/usr/bin:/bin", "LLM_SHIM_LEARN": "0"}
    version = subprocess.run([str(shims / "llm-shim"), "version"], env=env,
                             capture_output=True, text=True, timeout=30)
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"llm-shim {__version__}"
    assert not shiv_root.exists()  # the shims did not re-extract anything

    real = fake_cli("claude")
    env = dict(env, PATH=f"{shims}:{real.path.parent}:/usr/bin:/bin",
               LLM_SHIM_HOME=str(isolated_env["shim_home"]))
    call = subprocess.run(["claude", "--version"], env=env, capture_output=True, text=True,
                          timeout=30)
    assert call.returncode == 0, call.stderr
    calls = real.calls()
    assert [c["argv_text"] for c in calls] == [["--version"]]


def test_install_from_the_zipapp_twice_changes_nothing(isolated_env, zipapp_factory, repo,
                                                       tmp_path, snapshot):
    pyz = zipapp_factory(tmp_path / "llm-shim.pyz")
    env = _env(isolated_env, tmp_path / "shiv-root")
    run = ["sh", _install_sh(repo), "--pyz", str(pyz), "--shell", "all"]
    assert subprocess.run(run, env=env, capture_output=True, timeout=120).returncode == 0
    before = snapshot(isolated_env["home"], isolated_env["shim_home"])
    again = subprocess.run(run, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert snapshot(isolated_env["home"], isolated_env["shim_home"]) == before


def test_install_sh_passes_options_through_and_reports_a_missing_pyz(isolated_env, repo,
                                                                     tmp_path):
    env = _env(isolated_env, tmp_path / "shiv-root")
    out = subprocess.run(["sh", _install_sh(repo), "--pyz", str(tmp_path / "nope.pyz")],
                         env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 1 and "nope.pyz does not exist" in out.stderr
    out = subprocess.run(["sh", _install_sh(repo), "--help"], env=env, capture_output=True,
                         text=True, timeout=30)
    assert out.returncode == 0 and "--pyz FILE" in out.stdout


def test_install_sh_without_a_build_script_says_what_to_do(isolated_env, repo, tmp_path):
    checkout = tmp_path / "checkout" / "install"
    checkout.mkdir(parents=True)
    shutil.copy(_install_sh(repo), checkout / "install.sh")
    out = subprocess.run(["sh", str(checkout / "install.sh")],
                         env=_env(isolated_env, tmp_path / "shiv-root"),
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 1
    assert "build.sh" in out.stderr and "--pyz" in out.stderr


@pytest.mark.skipif(not shutil.which("dash"), reason="dash (Debian's /bin/sh) is not installed")
def test_install_sh_is_posix(repo):
    out = subprocess.run(["dash", "-n", _install_sh(repo)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_the_zipapp_ships_the_pinned_versions(zipapp_factory, repo, tmp_path):
    """doctor compares the installed tools with install/versions.env: the zipapp carries it."""
    import zipfile

    pyz = zipapp_factory(tmp_path / "llm-shim.pyz")
    with zipfile.ZipFile(pyz) as archive:
        names = [n for n in archive.namelist() if n.endswith("shim/data/versions.env")]
        assert len(names) == 1, names
        shipped = archive.read(names[0])
    with open(os.path.join(repo, "install", "versions.env"), "rb") as fh:
        assert fh.read() == shipped


def test_the_zipapp_ships_orjson_when_the_build_venv_has_it(zipapp_factory, tmp_path):
    """The import decodes transcripts with orjson (the `fast` extra): the zipapp, built from a
    venv with the test extra, carries it; the other extras (team's psycopg) stay out."""
    import zipfile

    pytest.importorskip("orjson")
    pyz = zipapp_factory(tmp_path / "llm-shim.pyz")
    with zipfile.ZipFile(pyz) as archive:
        tops = {n.split("/")[1] for n in archive.namelist() if n.startswith("site-packages/")}
    assert "orjson" in tops, sorted(tops)
    assert not any(name.startswith(("psycopg", "pytest", "zstandard")) for name in tops), tops
