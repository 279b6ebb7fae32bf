"""Fixtures for the doctor and which tests: an installed llm-shim in the temp HOME, and fake
real tools that answer `--version`.

PATH is set to exactly [shims dir, fake-bin] (plus what a test adds), so nothing installed on
the machine running the tests can change a verdict.
"""

import os

import pytest

from shim import paths

VERSION_TOOL = """#!/bin/sh
echo "{version}"
"""


@pytest.fixture
def fake_bin(tmp_path):
    d = tmp_path / "fake-bin"
    d.mkdir(exist_ok=True)
    return d


@pytest.fixture
def fake_tool(fake_bin):
    """fake_tool("claude", "2.1.197 (Claude Code)", script=None, where=fake_bin) -> path."""
    def make(name, version="1.0.0", script=None, where=None):
        directory = where or fake_bin
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / name
        path.write_text(script if script is not None else VERSION_TOOL.format(version=version))
        path.chmod(0o755)
        return path
    return make


@pytest.fixture
def set_path(monkeypatch):
    def apply(*dirs):
        monkeypatch.setenv("PATH", os.pathsep.join(str(d) for d in dirs))
    return apply


@pytest.fixture
def installed(cli, prebuilt_lib, isolated_env, monkeypatch, fake_bin, set_path):
    """`llm-shim install --shell bash` done; PATH = shims, fake-bin. Returns the shims dir."""
    monkeypatch.setenv("SHELL", "/bin/bash")
    code, out, err = cli("install", "--shell", "bash")
    assert code == 0, err
    shims = paths.shims_dir()
    set_path(shims, fake_bin)
    return shims


@pytest.fixture
def all_tools(fake_tool):
    """Fake claude, codex and llm printing their real CLIs' version lines."""
    return {
        "claude": fake_tool("claude", "2.1.197 (Claude Code)"),
        "codex": fake_tool("codex", "codex-cli 0.169.0"),
        "llm": fake_tool("llm", "llm, version 0.36"),
    }
