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
