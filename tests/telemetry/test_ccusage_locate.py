"""The ccusage comparison must not skip silently (tests/support/ccusage.py): only the pinned
version counts, and an install that reported npm=ok but left no ccusage is a failure."""

import os

from tests.support import ccusage


def _exe(directory, name, text):
    path = directory / name
    path.write_text("#!/bin/sh\n" + text + "\n")
    path.chmod(0o755)
    return path


def _env(tmp_path, version=None):
    bin_dir = tmp_path / "path"
    bin_dir.mkdir()
    _exe(bin_dir, "node", "exit 0")
    if version:
        _exe(bin_dir, "ccusage", f"echo {version}")
    return {"PATH": str(bin_dir)}


def test_a_missing_ccusage_after_npm_ok_is_a_failure(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "install-status").write_text("npm=ok\npypi=ok\n")
    found = ccusage.locate(_env(tmp_path), cache)
    assert found["path"] is None and found["skip"] is False
    assert "npm=ok" in found["reason"]


def test_an_unreachable_registry_is_a_skip(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "install-status").write_text("npm=unreachable: npm registry: ETIMEDOUT\n")
    found = ccusage.locate(_env(tmp_path), cache)
    assert found["path"] is None and found["skip"] is True and "ETIMEDOUT" in found["reason"]


def test_another_version_on_path_is_not_used(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "install-status").write_text("npm=ok\n")
    found = ccusage.locate(_env(tmp_path, "17.1.0"), cache)
    assert found["path"] is None and found["skip"] is False
    assert "17.1.0" in found["reason"] and ccusage.pinned_version() in found["reason"]


def test_the_pinned_version_on_path_is_used(tmp_path):
    environ = _env(tmp_path, ccusage.pinned_version())
    found = ccusage.locate(environ, tmp_path / "no-cache")
    assert found["path"] == os.path.join(environ["PATH"], "ccusage")


def test_the_cache_is_read_from_its_package_json(tmp_path):
    cache = tmp_path / "cache"
    (cache / "npm" / "node_modules" / "ccusage").mkdir(parents=True)
    (cache / "npm" / "node_modules" / "ccusage" / "package.json").write_text(
        '{"version": "%s"}' % ccusage.pinned_version())
    (cache / "bin").mkdir()
    _exe(cache / "bin", "ccusage", "exit 3")
    found = ccusage.locate(_env(tmp_path), cache)
    assert found["path"] == str(cache / "bin" / "ccusage")
