"""The two whole-file writes of safefs: `replace_file` (write-then-rename, under `write_atomic`
and the user's start-up files) and `create_once` (write-then-link: the salt, the machine id)."""

import os

import pytest

from shim import safefs


def _leftovers(directory):
    return [n for n in os.listdir(directory) if n.endswith(".tmp")]


def test_replace_file_replaces_with_the_exact_mode_whatever_the_umask(tmp_path):
    target = tmp_path / "rc"
    target.write_bytes(b"old")
    old = os.umask(0o077)
    try:
        safefs.replace_file(str(target), b"new", 0o644)
    finally:
        os.umask(old)
    assert target.read_bytes() == b"new"
    assert os.stat(target).st_mode & 0o777 == 0o644
    assert _leftovers(tmp_path) == []


def test_replace_file_leaves_no_temp_file_when_the_rename_fails(tmp_path):
    target = tmp_path / "a-dir"
    target.mkdir()
    (target / "x").write_bytes(b"keep")  # a non-empty directory cannot be replaced by a file
    with pytest.raises(OSError):
        safefs.replace_file(str(target), b"data", 0o600)
    assert _leftovers(tmp_path) == []


def test_write_atomic_durable_writes_a_private_file(tmp_path):
    target = tmp_path / "store"
    safefs.write_atomic(str(target), b"one\n", durable=True)
    assert target.read_bytes() == b"one\n"
    assert os.stat(target).st_mode & 0o777 == 0o600


def test_create_once_first_writer_wins(tmp_path):
    target = tmp_path / "salt"
    assert safefs.create_once(str(target), b"first") is True
    assert safefs.create_once(str(target), b"second") is False
    assert target.read_bytes() == b"first"
    assert os.stat(target).st_mode & 0o777 == 0o600
    assert _leftovers(tmp_path) == []
