"""Our platformdirs mirror (used on the hot path) agrees with platformdirs itself."""

import os

import platformdirs
import pytest

from shim import paths


@pytest.mark.parametrize("xdg", [False, True])
def test_mirror_matches_platformdirs(monkeypatch, tmp_path, xdg):
    monkeypatch.delenv("LLM_SHIM_HOME", raising=False)
    if xdg:
        for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
            monkeypatch.setenv(var, str(tmp_path / var.lower()))
    assert paths.config_dir() == platformdirs.user_config_dir("llm-shim", appauthor=False)
    assert paths.data_dir() == platformdirs.user_data_dir("llm-shim", appauthor=False)
    assert paths.cache_dir() == platformdirs.user_cache_dir("llm-shim", appauthor=False)


def test_llm_shim_home_overrides_every_directory(monkeypatch, tmp_path):
    monkeypatch.setenv("LLM_SHIM_HOME", str(tmp_path / "h"))
    for value in (paths.config_dir(), paths.data_dir(), paths.cache_dir(), paths.shims_dir(),
                  paths.lib_dir(), paths.database_file(), paths.spool_dir(),
                  paths.user_config_file()):
        assert value.startswith(str(tmp_path / "h"))


def test_embedded_default_is_shipped_in_the_package():
    assert os.path.isfile(paths.embedded_default_config())
    with open(paths.embedded_default_config()) as a, open(
            os.path.join(os.path.dirname(os.path.dirname(paths.__file__)), "config",
                         "default.yaml")) as b:
        assert a.read() == b.read(), "config/default.yaml and shim/data/default.yaml differ"


def test_ensure_dir_creates_home_and_every_missing_parent_0700(monkeypatch, tmp_path):
    home = tmp_path / "a" / "b" / "home"
    monkeypatch.setenv("LLM_SHIM_HOME", str(home))
    old = os.umask(0o022)
    try:
        paths.ensure_dir(paths.spool_dir())
        paths.ensure_dir(paths.cache_dir())
    finally:
        os.umask(old)
    for directory in (tmp_path / "a", tmp_path / "a" / "b", home, home / "spool", home / "cache"):
        assert os.stat(directory).st_mode & 0o777 == 0o700, directory


def test_ensure_dir_refuses_a_symlinked_subdirectory_but_not_a_linked_root(monkeypatch,
                                                                           tmp_path):
    from shim import safefs

    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "linked").symlink_to(real)
    monkeypatch.setenv("LLM_SHIM_HOME", str(tmp_path / "linked"))
    assert paths.ensure_dir(paths.data_dir()) == str(tmp_path / "linked")
    os.symlink(tmp_path, os.path.join(paths.data_dir(), "spool"))
    with pytest.raises(safefs.Refused, match="is a symlink"):
        paths.ensure_dir(paths.spool_dir())
