"""The real binary is found wherever the shims sit on PATH, and loops stop."""

import os

import pytest

from tests.support.launchers import write_launcher


@pytest.fixture
def claude(fake_cli):
    return fake_cli("claude")


def _ran_real(proc, claude):
    assert proc.returncode == 0, proc.stderr
    assert len(claude.calls()) == 1


def test_shims_first(run_shim, shims, claude, fake_cli):
    _ran_real(run_shim(["claude", "--version"], path=[shims, fake_cli.bin_dir, "/usr/bin"]), claude)


def test_shims_last(run_shim, shims, claude, fake_cli):
    # The real one is found first by the shell; call the shim explicitly.
    _ran_real(run_shim([str(shims / "claude"), "--version"],
                       path=[fake_cli.bin_dir, "/usr/bin", shims]), claude)


def test_shims_twice(run_shim, shims, claude, fake_cli):
    _ran_real(run_shim(["claude", "--version"],
                       path=[shims, shims, fake_cli.bin_dir, shims, "/usr/bin"]), claude)


def test_symlinked_shim_and_symlinked_dir(run_shim, shims, claude, fake_cli, tmp_path):
    linkdir = tmp_path / "linked-shims"
    linkdir.symlink_to(shims)
    other = tmp_path / "bin-with-symlink"
    other.mkdir()
    (other / "claude").symlink_to(shims / "claude")
    _ran_real(run_shim(["claude", "--version"],
                       path=[other, linkdir, shims, fake_cli.bin_dir, "/usr/bin"]), claude)


def test_hard_linked_and_copied_shims_are_skipped(run_shim, shims, claude, fake_cli, tmp_path):
    hard = tmp_path / "hard"
    hard.mkdir()
    os.link(shims / "claude", hard / "claude")
    copied = tmp_path / "copied"
    copied.mkdir()
    write_launcher(copied / "claude")
    _ran_real(run_shim(["claude", "--version"],
                       path=[hard, copied, shims, fake_cli.bin_dir, "/usr/bin"]), claude)


def test_configured_binary_overrides_path(run_shim, shims, fake_cli, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    real = fake_cli("claude")
    target = elsewhere / "claude-real"
    os.rename(real.path, target)
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(f"schema_version: 1\ntools:\n  claude:\n    binary: {target}\n")
    proc = run_shim(["claude", "--version"], env={"LLM_SHIM_CONFIG": str(cfg)},
                    path=[shims, "/usr/bin", "/bin"])
    assert proc.returncode == 0, proc.stderr
    assert len(real.calls()) == 1


def test_wrapper_that_calls_the_shim_back_stops_with_an_error(run_shim, shims, fake_cli):
    # A "real" claude that is really a wrapper running `claude` from PATH: a loop.
    fake_cli("claude", script="#!/bin/sh\nexec claude \"$@\"\n")
    proc = run_shim(["claude", "--version"], timeout=60)
    assert proc.returncode == 126
    err = proc.stderr.decode()
    assert "recursive shim invocation" in err
    assert err.count("Traceback") == 0
