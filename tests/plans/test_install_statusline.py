"""`llm-shim install --statusline` writes Claude Code's statusLine; `uninstall` puts the
settings file back byte for byte (the fixtures of tests/support/install.py: in-process CLI,
temp HOME)."""

import json
import os

import pytest

from shim import paths
from shim.install import state

# Key order, spacing and a trailing space a JSON round trip would not keep.
ORIGINAL = (b'{\n    "model": "opus",\n    "statusLine": {"type": "command", '
            b'"command": "~/.claude/my-line.sh", "padding": 0},\n'
            b'    "permissions": {"allow": ["Bash(ls:*)"]}  \n}\n')


@pytest.fixture
def claude_dir(isolated_env, monkeypatch):
    path = isolated_env["tmp"] / "claude-config"
    path.mkdir()
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(path))
    monkeypatch.setenv("SHELL", "/bin/bash")
    return path


def settings(claude_dir):
    return json.loads((claude_dir / "settings.json").read_text())


def ours():
    return os.path.join(paths.shims_dir(), "llm-shim") + " statusline"


def test_an_existing_status_line_is_refused_with_a_hint(cli, prebuilt_lib, claude_dir):
    (claude_dir / "settings.json").write_bytes(ORIGINAL)
    code, out, err = cli("install", "--shell", "bash", "--statusline")
    assert code == 1
    assert err.startswith("llm-shim: install --statusline: ")
    assert "already has a status line command (~/.claude/my-line.sh)" in err
    assert "--statusline=chain" in err
    assert (claude_dir / "settings.json").read_bytes() == ORIGINAL


def test_chain_keeps_the_old_command_and_uninstall_restores_every_byte(
        cli, prebuilt_lib, claude_dir):
    (claude_dir / "settings.json").write_bytes(ORIGINAL)
    code, out, err = cli("install", "--shell", "bash", "--statusline=chain")
    assert code == 0, err
    got = settings(claude_dir)
    assert got["statusLine"] == {"type": "command", "padding": 0,
                                 "command": ours() + " --chain '~/.claude/my-line.sh'"}
    assert got["model"] == "opus" and got["permissions"] == {"allow": ["Bash(ls:*)"]}
    assert "statusLine runs yours (~/.claude/my-line.sh), then llm-shim's" in out
    # A second install changes nothing, and keeps the original bytes on record.
    written = (claude_dir / "settings.json").read_bytes()
    code, out, _ = cli("install", "--shell", "bash", "--statusline=chain")
    assert code == 0 and (claude_dir / "settings.json").read_bytes() == written
    assert "statusLine already llm-shim's" in out
    code, out, err = cli("uninstall")
    assert code == 0, err
    assert (claude_dir / "settings.json").read_bytes() == ORIGINAL
    assert "restored" in out


def test_a_missing_settings_file_is_created_then_deleted(cli, prebuilt_lib, claude_dir):
    code, out, err = cli("install", "--shell", "bash", "--statusline")
    assert code == 0, err
    assert settings(claude_dir) == {"statusLine": {"type": "command", "command": ours()}}
    assert state.load()["statusline"]["original"] is None
    assert cli("uninstall")[0] == 0
    assert not (claude_dir / "settings.json").exists()


def test_a_file_edited_since_gets_only_its_status_line_back(cli, prebuilt_lib, claude_dir):
    (claude_dir / "settings.json").write_bytes(b'{"model": "opus"}\n')
    assert cli("install", "--shell", "bash", "--statusline")[0] == 0
    edited = dict(settings(claude_dir), theme="dark")
    (claude_dir / "settings.json").write_text(json.dumps(edited))
    code, out, _ = cli("uninstall")
    assert code == 0
    assert settings(claude_dir) == {"model": "opus", "theme": "dark"}
    assert "edited since" in out


def test_without_the_flag_settings_are_never_touched(cli, prebuilt_lib, claude_dir):
    (claude_dir / "settings.json").write_bytes(ORIGINAL)
    assert cli("install", "--shell", "bash")[0] == 0
    assert cli("uninstall")[0] == 0
    assert (claude_dir / "settings.json").read_bytes() == ORIGINAL
    assert "statusline" not in json.dumps(state.load())


def test_a_symlinked_settings_file_is_written_through(cli, prebuilt_lib, claude_dir, tmp_path):
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    (dotfiles / "settings.json").write_bytes(b'{"model": "opus"}\n')
    os.symlink(dotfiles / "settings.json", claude_dir / "settings.json")
    assert cli("install", "--shell", "bash", "--statusline")[0] == 0
    assert os.path.islink(claude_dir / "settings.json")
    assert "statusLine" in json.loads((dotfiles / "settings.json").read_text())
    assert cli("uninstall")[0] == 0
    assert (dotfiles / "settings.json").read_bytes() == b'{"model": "opus"}\n'
    assert os.path.islink(claude_dir / "settings.json")
