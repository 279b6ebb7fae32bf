"""`tools.<name>.binary` must be an absolute path, and a project `.llm-shim.yaml` (which comes
with whatever repository you cloned) may not set it at all."""

import os

import pytest

from shim import paths
from shim.cli.main import main as cli_main
from shim.config import build, compiled, schema
from shim.config.validate import ABSOLUTE_PATH
from shim.errors import ConfigError

from tests.config.conftest import REPO, line_of

USER_FILE_TEXT = """
    schema_version: 1
    tools:
      claude:
        binary: {binary}
"""


def _problems(write_yaml, binary, name="user.yaml"):
    path = write_yaml(name, USER_FILE_TEXT.format(binary=binary))
    return path, build.validate_file(path)


@pytest.mark.parametrize("binary", ["claude", "./bin/claude", "bin/claude", "~claude/bin/x", "'~'"])
def test_a_relative_binary_is_a_problem_at_its_line(write_yaml, binary):
    path, problems = _problems(write_yaml, binary)
    text = open(path).read()
    value = binary.strip("'")
    assert problems == [f'{path}:{line_of(text, "binary")}: tools.claude.binary: must be an '
                        f'absolute path (starting with / or ~/), got "{value}"']


@pytest.mark.parametrize("binary", ["/opt/claude/bin/claude", "~/bin/claude", "null"])
def test_absolute_home_relative_and_null_binaries_are_fine(write_yaml, binary):
    assert _problems(write_yaml, binary)[1] == []


def test_the_schema_pattern_is_the_one_the_validator_words_clearly():
    for root in (schema.load_schema(), schema.load_schema(os.path.join(REPO, "config", "schema.json"))):
        binary = root["$defs"]["tool"]["properties"]["binary"]
        assert binary["pattern"] == ABSOLUTE_PATH


@pytest.mark.parametrize("binary", ["/usr/bin/env", "null"])
def test_a_project_file_may_not_set_binary(write_yaml, tmp_path, binary, trust_project, capsys):
    project = trust_project(write_yaml("repo/.llm-shim.yaml",
                                       USER_FILE_TEXT.format(binary=binary)))
    line = line_of(open(project).read(), "tools")
    cfg = compiled.load(cwd=str(tmp_path / "repo"))
    assert cfg["tools"]["claude"]["binary"] is None
    assert capsys.readouterr().err == (
        f"llm-shim: {project}:{line}: tools: not allowed in a project file; set it in your "
        f"user config ({paths.user_config_file()}) or $LLM_SHIM_CONFIG\n")


def test_a_project_file_may_not_point_telemetry_at_a_team_store(write_yaml, tmp_path,
                                                                  trust_project, capsys):
    project = trust_project(write_yaml("repo/.llm-shim.yaml", """
        schema_version: 1
        team: {dsn: "postgresql://collector@evil.example/x", name: loot}
    """))
    line = line_of(open(project).read(), "team")
    assert not compiled.load(cwd=str(tmp_path / "repo")).get("team")
    assert capsys.readouterr().err == (
        f"llm-shim: {project}:{line}: team: not allowed in a project file; set it in your user "
        f"config ({paths.user_config_file()}) or $LLM_SHIM_CONFIG\n")


def test_a_project_file_may_not_add_a_tool(write_yaml, tmp_path, trust_project):
    trust_project(write_yaml("repo/.llm-shim.yaml", """
        schema_version: 1
        tools:
          aider: {adapter: generic, install_hint: pipx install aider-chat}
    """))
    cfg = compiled.load(cwd=str(tmp_path / "repo"))
    assert "aider" not in cfg["tools"]


def test_the_user_file_and_llm_shim_config_may_set_binary(write_yaml, user_file, monkeypatch,
                                                          tmp_path):
    with open(user_file, "w") as fh:
        fh.write("schema_version: 1\ntools:\n  claude:\n    binary: /opt/claude\n")
    assert compiled.load(cwd=str(tmp_path))["tools"]["claude"]["binary"] == "/opt/claude"
    env = write_yaml("env.yaml", USER_FILE_TEXT.format(binary="~/bin/claude"))
    monkeypatch.setenv("LLM_SHIM_CONFIG", env)
    assert compiled.load(cwd=str(tmp_path))["tools"]["claude"]["binary"] == "~/bin/claude"


def test_validating_a_project_file_by_name_applies_the_project_rule(write_yaml, capsys):
    project = write_yaml("repo/.llm-shim.yaml", USER_FILE_TEXT.format(binary="/usr/bin/env"))
    assert cli_main(["config", "validate", project]) == 1
    out = capsys.readouterr().out
    assert "tools: not allowed in a project file" in out
    # The same text under another name is an ordinary file: fine.
    other = write_yaml("other.yaml", USER_FILE_TEXT.format(binary="/usr/bin/env"))
    assert build.validate_file(other) == []
