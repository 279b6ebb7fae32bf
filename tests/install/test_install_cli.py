"""`llm-shim install`, `uninstall`, `shell-init` run in-process against a temp HOME."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from shim import __version__, exitcodes, paths
from shim.install import rcfiles, shimdir, state


@pytest.fixture
def home(isolated_env, monkeypatch):
    monkeypatch.setenv("SHELL", "/bin/bash")
    return isolated_env["home"]


def _write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def test_install_writes_shims_code_and_blocks(cli, home, prebuilt_lib):
    code, out, err = cli("install", "--shell", "all")
    assert code == 0, err
    shims = paths.shims_dir()
    assert sorted(os.listdir(shims)) == ["claude", "codex", "llm", "llm-shim"]
    for name in os.listdir(shims):
        assert shimdir.is_shim_file(os.path.join(shims, name))
        assert os.access(os.path.join(shims, name), os.X_OK)
    for rc in (".bashrc", ".profile", ".zshrc", ".zprofile", ".config/fish/conf.d/llm-shim.fish"):
        data = (home / rc).read_bytes()
        assert rcfiles.find_block(data), rc
        assert shims.encode() in data
    assert f'export PATH="{shims}:$PATH"' in out  # the activation line for this shell
    assert f"{paths.lib_dir()}/{__version__}" in out
    recorded = state.load()
    assert recorded["shims_dir"] == shims and recorded["version"] == __version__


def test_installed_shim_runs_isolated_from_the_environment(cli, home, prebuilt_lib, tmp_path):
    assert cli("install", "--shell", "bash")[0] == 0
    evil = tmp_path / "evil"
    (evil / "shim").mkdir(parents=True)
    (evil / "shim" / "__init__.py").write_text("raise SystemExit('wrong shim imported')\n")
    env = dict(os.environ, PYTHONPATH=str(evil), PYTHONHOME="/nonexistent")
    out = subprocess.run([os.path.join(paths.shims_dir(), "llm-shim"), "version"],
                         env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"llm-shim {__version__}"


def test_second_install_changes_no_byte(cli, home, prebuilt_lib, snapshot):
    _write(home / ".bashrc", b"# my bashrc\n")
    _write(home / ".profile", b"export EDITOR=vi")
    assert cli("install", "--shell", "all")[0] == 0
    first = snapshot(home, paths.data_dir())
    code, out, _ = cli("install", "--shell", "all")
    assert code == 0
    assert snapshot(home, paths.data_dir()) == first  # bytes, modes and mtimes
    assert "all unchanged" in out and "PATH block unchanged" in out


def test_uninstall_restores_every_start_up_file_exactly(cli, home, prebuilt_lib, snapshot):
    _write(home / ".bashrc", b"# my bashrc\nalias ll='ls -l'\n")
    _write(home / ".profile", b"export EDITOR=vi")  # no final newline
    _write(home / ".zshrc", b"")                    # empty
    (home / ".config").mkdir()                      # fish's conf.d is absent
    dotfiles = home / "dotfiles"
    _write(dotfiles / "zprofile", b"setopt extendedglob\n")
    (home / ".zprofile").symlink_to(dotfiles / "zprofile")
    before = snapshot(home)
    assert cli("install", "--shell", "all")[0] == 0
    assert snapshot(home) != before
    code, out, err = cli("uninstall")
    assert code == 0, err
    after = snapshot(home)
    assert {k: v[:2] for k, v in after.items()} == {k: v[:2] for k, v in before.items()}
    assert not os.path.exists(paths.shims_dir())
    assert not os.path.exists(paths.lib_dir())
    assert not os.path.exists(state.state_file())
    assert "Config and telemetry were kept" in out


def test_uninstall_without_the_state_file_still_removes_shims_and_blocks(cli, home,
                                                                          prebuilt_lib):
    _write(home / ".bashrc", b"x=1\n")
    assert cli("install", "--shell", "bash", "--shell", "fish")[0] == 0
    state.remove()
    assert cli("uninstall")[0] == 0
    assert not rcfiles.find_block((home / ".bashrc").read_bytes())
    assert not (home / ".config" / "fish" / "conf.d" / "llm-shim.fish").exists()
    assert not os.path.exists(paths.shims_dir())


def test_uninstall_keeps_config_and_telemetry_unless_purge(cli, home, prebuilt_lib):
    assert cli("install", "--shell", "bash")[0] == 0
    config = paths.user_config_file()
    _write(type(home)(config), b"schema_version: 1\n")
    _write(type(home)(paths.database_file()), b"SQLite")
    assert cli("uninstall")[0] == 0
    assert os.path.exists(config) and os.path.exists(paths.database_file())
    assert cli("install", "--shell", "bash")[0] == 0
    code, out, _ = cli("uninstall", "--purge")
    assert code == 0
    assert not os.path.exists(config) and not os.path.exists(paths.database_file())
    assert not os.path.exists(paths.data_dir())
    assert not (home / ".bashrc").exists()


def test_purge_refuses_to_delete_the_home_directory(cli, home, monkeypatch):
    monkeypatch.setenv("LLM_SHIM_HOME", str(home))
    (home / "precious.txt").write_text("keep")
    code, out, _ = cli("uninstall", "--purge")
    assert code == 0
    assert "refused to remove" in out
    assert (home / "precious.txt").read_text() == "keep"


def test_install_refuses_a_dir_holding_a_real_tool(cli, home, tmp_path, snapshot):
    bin_dir = tmp_path / "bin"
    _write(bin_dir / "claude", b"#!/bin/sh\necho real claude\n")
    before = snapshot(home, bin_dir)
    code, _, err = cli("install", "--dir", str(bin_dir))
    assert code == exitcodes.ERROR
    assert err.startswith(f"llm-shim: install: {bin_dir}/claude exists and is not")
    assert snapshot(home, bin_dir) == before
    assert not os.path.exists(paths.lib_dir())  # refused before copying anything


def test_install_into_another_dir_moves_the_shims(cli, home, prebuilt_lib, tmp_path):
    assert cli("install", "--shell", "bash")[0] == 0
    other = tmp_path / "elsewhere" / "shims"
    code, out, _ = cli("install", "--shell", "bash", "--dir", str(other))
    assert code == 0
    assert sorted(os.listdir(other)) == ["claude", "codex", "llm", "llm-shim"]
    assert not os.path.exists(paths.shims_dir())
    bashrc = (home / ".bashrc").read_bytes()
    assert str(other).encode() in bashrc and paths.shims_dir().encode() not in bashrc
    assert cli("uninstall")[0] == 0
    assert not other.exists()


def test_moving_the_dir_updates_blocks_of_shells_not_named_this_time(cli, home, prebuilt_lib,
                                                                      tmp_path):
    assert cli("install", "--shell", "fish")[0] == 0
    other = tmp_path / "moved"
    assert cli("install", "--shell", "bash", "--dir", str(other))[0] == 0
    fish = (home / ".config" / "fish" / "conf.d" / "llm-shim.fish").read_bytes()
    assert str(other).encode() in fish and paths.shims_dir().encode() not in fish


def test_tools_named_in_the_user_config_get_shims(cli, home, prebuilt_lib):
    _write(type(home)(paths.user_config_file()),
           b"schema_version: 1\ntools:\n  aider:\n    adapter: generic\n")
    code, out, err = cli("install", "--shell", "bash")
    assert code == 0, err
    assert sorted(os.listdir(paths.shims_dir())) == ["aider", "claude", "codex", "llm",
                                                     "llm-shim"]


def test_an_invalid_config_stops_the_install_before_anything_is_written(cli, home):
    _write(type(home)(paths.user_config_file()), b"schema_version: 1\ntools: [oops]\n")
    code, _, err = cli("install", "--shell", "bash")
    assert code != 0 and "config.yaml" in err
    assert not os.path.exists(paths.shims_dir()) and not (home / ".bashrc").exists()


def test_install_removes_shims_of_tools_no_longer_configured(cli, home, prebuilt_lib,
                                                             monkeypatch):
    monkeypatch.setattr(shimdir, "configured_tools", lambda: ["aider", "claude", "codex", "llm"])
    assert cli("install", "--shell", "bash")[0] == 0
    assert os.path.exists(os.path.join(paths.shims_dir(), "aider"))
    monkeypatch.setattr(shimdir, "configured_tools", lambda: ["claude", "codex", "llm"])
    code, out, _ = cli("install", "--shell", "bash")
    assert code == 0 and "1 removed" in out
    assert not os.path.exists(os.path.join(paths.shims_dir(), "aider"))


def test_no_modify_rc_prints_the_blocks_and_touches_no_file(cli, home, prebuilt_lib,
                                                            snapshot):
    before = snapshot(home)
    code, out, _ = cli("install", "--shell", "zsh", "--no-modify-rc")
    assert code == 0
    assert snapshot(home) == before
    assert "# >>> llm-shim >>>" in out and "~/.zshrc" in out and "~/.zprofile" in out
    assert os.path.exists(os.path.join(paths.shims_dir(), "claude"))


def test_default_shells_are_bash_the_login_shell_and_configured_ones(cli, home, prebuilt_lib,
                                                                    monkeypatch):
    monkeypatch.setenv("SHELL", "/usr/bin/zsh")
    (home / ".config" / "fish").mkdir(parents=True)
    assert cli("install")[0] == 0
    assert json.loads(open(state.state_file()).read())["rc_files"].keys() == {
        str(home / n) for n in (".bashrc", ".profile", ".zshrc", ".zprofile",
                                ".config/fish/conf.d/llm-shim.fish")}


def test_bash_login_file_is_the_one_bash_reads(cli, home, prebuilt_lib):
    _write(home / ".bash_profile", b". ~/.bashrc\n")
    _write(home / ".profile", b"# untouched\n")
    assert cli("install", "--shell", "bash")[0] == 0
    assert rcfiles.find_block((home / ".bash_profile").read_bytes())
    assert (home / ".profile").read_bytes() == b"# untouched\n"


def test_shell_init_prints_the_snippet(cli, home):
    code, out, _ = cli("shell-init", "bash")
    assert code == 0
    assert paths.shims_dir() in out and "export PATH" in out
    code, out, _ = cli("shell-init", "fish", "--dir", "/opt/x y/shims")
    assert code == 0 and "set -gx PATH '/opt/x y/shims' $__llm_shim_rest" in out


def test_shell_init_rejects_an_unusable_dir(cli, home):
    code, _, err = cli("shell-init", "bash", "--dir", "/a:b")
    assert code == exitcodes.USAGE and "cannot put" in err


def test_installed_llm_shim_can_uninstall_itself(cli, home, prebuilt_lib, snapshot):
    (home / ".bashrc").write_bytes(b"# mine\n")
    before = snapshot(home)
    assert cli("install", "--shell", "bash")[0] == 0
    llm_shim = os.path.join(paths.shims_dir(), "llm-shim")
    out = subprocess.run([llm_shim, "uninstall"], capture_output=True, text=True, timeout=60,
                         env=dict(os.environ, PATH="/usr/bin:/bin"))
    assert out.returncode == 0, out.stderr
    assert "llm-shim uninstalled" in out.stdout
    assert not os.path.exists(paths.lib_dir()) and not os.path.exists(llm_shim)
    assert {k: v[:2] for k, v in snapshot(home).items()} == \
        {k: v[:2] for k, v in before.items()}


def test_install_refreshes_the_schema_copy_config_init_made(cli, home, prebuilt_lib):
    from shim.config import schema

    assert cli("install", "--shell", "bash")[0] == 0
    copy = schema.user_schema_file()
    assert not os.path.exists(copy)  # install writes no config files of its own
    _write(Path(copy), b'{"stale": "schema from an older llm-shim"}')
    assert cli("install", "--shell", "bash")[0] == 0
    with open(paths.package_data(schema.SCHEMA_FILE), "rb") as fh:
        assert open(copy, "rb").read() == fh.read()
