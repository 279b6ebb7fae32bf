"""`llm-shim version --json`: version, the commit of the build (baked by setup.py and
install/build.sh, else git in a checkout, else null) and Python."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from shim import __version__, buildinfo, paths
from shim.cli.main import main as cli_main

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _git_head():
    if not shutil.which("git") or not os.path.exists(os.path.join(REPO, ".git")):
        return None
    out = subprocess.run(["git", "-C", REPO, "rev-parse", "HEAD"], capture_output=True,
                         text=True)
    return out.stdout.strip() or None


def test_plain_version_is_unchanged(capsys):
    assert cli_main(["version"]) == 0
    assert capsys.readouterr().out == f"llm-shim {__version__}\n"


def test_json_from_a_checkout_asks_git(capsys):
    head = _git_head()
    if head is None:
        pytest.skip("not a git checkout, or no git here")
    assert cli_main(["version", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["version"] == __version__
    assert info["commit"] == head and info["commit_source"] == "git"
    assert info["python"] == "%d.%d.%d" % sys.version_info[:3]
    assert info["platform"] == sys.platform


def test_the_checkout_ships_no_commit():
    """The committed build.json says null: only a build writes a commit into its copy."""
    with open(paths.package_data(buildinfo.BUILD_FILE), encoding="utf-8") as fh:
        assert json.load(fh) == {"commit": None}


def test_a_baked_commit_wins_and_git_is_not_run(tmp_path, monkeypatch, capsys):
    baked = tmp_path / "build.json"
    baked.write_text('{"commit": "0123456789abcdef0123456789abcdef01234567"}\n')
    monkeypatch.setattr(paths, "package_data", lambda name: str(baked))
    monkeypatch.setattr(buildinfo, "checkout_commit", lambda *a: pytest.fail("ran git"))
    assert cli_main(["version", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["commit"] == "0123456789abcdef0123456789abcdef01234567"
    assert info["commit_source"] == "build"


@pytest.mark.parametrize("content", ['{"commit": null}', "", "not json", '["x"]'])
def test_unknown_commit_is_null_not_invented(tmp_path, monkeypatch, capsys, content):
    baked = tmp_path / "build.json"
    baked.write_text(content)
    monkeypatch.setattr(paths, "package_data", lambda name: str(baked))
    monkeypatch.setattr(buildinfo, "checkout_commit", lambda *a: None)
    assert cli_main(["version", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["commit"] is None and info["commit_source"] is None


def test_outside_a_work_tree_git_is_not_asked(tmp_path, monkeypatch):
    package = tmp_path / "site-packages" / "shim"
    package.mkdir(parents=True)
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    assert buildinfo.checkout_commit(str(package)) is None
    (tmp_path / "site-packages" / ".git").mkdir()  # a work tree, but no git on PATH
    assert buildinfo.checkout_commit(str(package)) is None


def test_the_zipapp_has_the_commit_baked_in(zipapp_factory, tmp_path):
    head = _git_head()
    if head is None:
        pytest.skip("not a git checkout, or no git here")
    pyz = zipapp_factory(tmp_path / "llm-shim.pyz")
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "SHIV_ROOT": str(tmp_path / "shiv")}
    out = subprocess.run([sys.executable, str(pyz), "version", "--json"], env=env,
                         capture_output=True, text=True, timeout=120, cwd=str(tmp_path))
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert (info["commit"], info["commit_source"]) == (head, "build")
    assert info["version"] == __version__


def test_the_private_copy_of_a_checkout_carries_its_commit(tmp_path):
    """`llm-shim install` from a git checkout: the installed copy cannot ask git (its code is
    no longer in the work tree), so the checkout's commit is written into the copy's
    build.json, and the installed `version --json` reports it."""
    head = _git_head()
    if head is None:
        pytest.skip("not a git checkout, or no git here")
    from shim.install import libcopy

    target, _ = libcopy.install_lib(str(tmp_path / "lib"), __version__, sys.executable)
    with open(os.path.join(target, "shim", "data", buildinfo.BUILD_FILE), encoding="utf-8") as fh:
        assert json.load(fh) == {"commit": head}
    site = [p for p in sys.path if p.endswith("site-packages")]
    code = (f"import sys; sys.path[:0] = {[target] + site!r}; "
            "from shim.cli.main import main; sys.exit(main(['version', '--json']))")
    out = subprocess.run([sys.executable, "-I", "-S", "-c", code],
                         capture_output=True, text=True, cwd=str(tmp_path))
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert (info["commit"], info["commit_source"]) == (head, "build")
