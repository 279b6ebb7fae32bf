"""A config file that is a directory (issue 15, item 6) is said, never silently ignored: the
user's `config.yaml` is a config error; a project's `.llm-shim.yaml` is ignored with a warning."""

import os

import pytest

from shim import paths
from shim.config import compiled
from shim.errors import ConfigError


def test_user_config_that_is_a_directory_is_a_config_error():
    os.makedirs(paths.user_config_file())
    with pytest.raises(ConfigError) as caught:
        compiled.load()
    line = caught.value.lines()[-1]
    assert line.startswith(f"llm-shim: config {paths.user_config_file()}: Is a directory"), line
    with pytest.raises(ConfigError):  # the cached verdict says the same
        compiled.load()


def test_project_file_that_is_a_directory_is_ignored_with_one_warning(tmp_path, capsys):
    project = tmp_path / "repo"
    (project / ".llm-shim.yaml").mkdir(parents=True)
    (tmp_path / ".llm-shim.yaml").write_text("default_agent: auto\n")  # an ancestor's file
    cfg = compiled.load(cwd=str(project))
    assert [s["layer"] for s in cfg["_sources"]] == ["default"]
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"llm-shim: warning: config {project / '.llm-shim.yaml'}: is a directory, not "
                   "a file, so it is ignored; remove it or put the project's settings in a file "
                   "named .llm-shim.yaml"]
