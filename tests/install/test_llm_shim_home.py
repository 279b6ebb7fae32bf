"""An install made with `$LLM_SHIM_HOME` keeps working in shells that lack the variable.

docs/install.md promises it: the shims carry the home install ran with, so a fresh login shell
(`env -i HOME=... bash -l`, nothing inherited) finds the install's state, code copy, config and
telemetry under that home, not under ~/.local/share/llm-shim; and `llm-shim uninstall` run
there undoes that install completely, start-up files back byte for byte.
"""

import json
import os

from shim import __version__
from shim.install import installer, shimscript

# No final newline on purpose: install adds one before its block, uninstall must take it away.
BASHRC = b"# my bashrc\nalias ll='ls -l'"
PROFILE = b"# ~/.profile\nif [ -f \"$HOME/.bashrc\" ]; then . \"$HOME/.bashrc\"; fi\n"
FAKE_LLM = "#!/bin/sh\necho \"fake llm $*\"\n"


def _install(cli, isolated_env, monkeypatch):
    home, shim_home = isolated_env["home"], isolated_env["shim_home"]
    monkeypatch.setenv("SHELL", "/bin/bash")
    (home / ".bashrc").write_bytes(BASHRC)
    (home / ".profile").write_bytes(PROFILE)
    fake = home / "fakebin"
    fake.mkdir()
    (fake / "llm").write_text(FAKE_LLM)
    (fake / "llm").chmod(0o755)
    code, _, err = cli("install", "--shell", "bash")
    assert code == 0, err
    return home, shim_home


def test_the_shims_carry_the_home_install_ran_with(cli, prebuilt_lib, isolated_env,
                                                   monkeypatch):
    _, shim_home = _install(cli, isolated_env, monkeypatch)
    info = shimscript.shim_info(str(shim_home / "shims" / "claude"))
    assert info["home"] == str(shim_home)
    assert info["lib"] == os.path.join(str(shim_home), "lib", __version__)
    assert shimscript.data_dir_of(info) == str(shim_home)


def test_without_llm_shim_home_no_home_is_baked(tmp_path):
    text = shimscript.shim_script("/usr/bin/python3", "/d/lib/1.0", "1.0")
    assert "LLM_SHIM_HOME" not in text and "import os" not in text
    path = tmp_path / "claude"
    path.write_text(text)
    info = shimscript.shim_info(str(path))
    assert info["home"] is None
    assert shimscript.data_dir_of(info) == "/d"  # found through the code copy instead


def test_a_shell_without_llm_shim_home_uses_the_install_and_uninstall_restores_bytes(
        cli, prebuilt_lib, isolated_env, monkeypatch, run_shell, require_shell):
    bash = require_shell("bash")
    home, shim_home = _install(cli, isolated_env, monkeypatch)
    default_data = home / ".local" / "share" / "llm-shim"

    def login(command):
        out = run_shell([bash, "-l", "-c", command], home)  # HOME and TERM only
        return out

    out = login('echo "[${LLM_SHIM_HOME-unset}]"; command -v llm-shim')
    assert out.stdout.splitlines() == ["[unset]", str(shim_home / "shims" / "llm-shim")], \
        out.stderr

    out = login("llm-shim doctor --json")
    report = json.loads(out.stdout)
    status = {c["name"]: c for c in report["checks"]}
    assert out.returncode == 0 and report["ok"], out.stdout + out.stderr
    for name in ("shims", "shims-current", "path", "rc-blocks", "telemetry", "cache"):
        assert status[name]["status"] == "ok", status[name]
    assert str(shim_home / "lib" / __version__) in status["shims-current"]["detail"]
    assert "(not recorded by install)" not in status["rc-blocks"]["detail"]
    assert str(shim_home) in status["telemetry"]["detail"]

    out = login('PATH="$PATH:$HOME/fakebin"; llm hello; llm-shim logs -n 1 --json')
    assert out.stdout.startswith("fake llm hello\n"), out.stderr
    rows = json.loads(out.stdout.split("\n", 1)[1])
    assert [r["tool"] for r in rows] == ["llm"]
    assert (shim_home / "telemetry.db").exists()
    assert not default_data.exists()

    out = login("llm-shim uninstall")
    assert out.returncode == 0, out.stderr
    assert "none found" not in out.stdout
    assert f"removed from {shim_home / 'shims'}: claude codex llm llm-shim" in out.stdout
    assert (home / ".bashrc").read_bytes() == BASHRC
    assert (home / ".profile").read_bytes() == PROFILE
    assert not (shim_home / "shims").exists()
    assert not (shim_home / "lib").exists()
    assert not (shim_home / "install-state.json").exists()
    assert (shim_home / "telemetry.db").exists()  # kept without --purge
    assert not default_data.exists()


def test_uninstall_through_a_shim_finds_its_install_under_another_home(
        cli, prebuilt_lib, isolated_env, monkeypatch, tmp_path):
    """The running shim's install wins over a $LLM_SHIM_HOME naming another one."""
    _, shim_home = _install(cli, isolated_env, monkeypatch)
    monkeypatch.setenv("LLM_SHIM_HOME", str(tmp_path / "other"))
    monkeypatch.setattr("sys.argv", [str(shim_home / "shims" / "llm-shim"), "uninstall"])
    assert installer.running_data_dir() == str(shim_home)
    report = installer.uninstall()
    assert report["shims"] == {str(shim_home / "shims"): ["claude", "codex", "llm", "llm-shim"]}
    assert (isolated_env["home"] / ".bashrc").read_bytes() == BASHRC
    assert not (shim_home / "install-state.json").exists()
