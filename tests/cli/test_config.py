"""`llm-shim config init|validate|show|path`, run in-process through the CLI's main()."""

import json
import os
import re
import urllib.parse
import urllib.request

import pytest
import yaml

from shim import paths
from shim.cli.main import main
from shim.config import build, compiled, render

from tests.support.cli import run
from tests.support.configfiles import DEFAULT


def test_bare_config_prints_its_help(capsys):
    code, out, _ = run(capsys, "config")
    assert code == 0
    for sub in ("init", "validate", "show", "path"):
        assert sub in out


@pytest.mark.parametrize("argv", [["config"], ["config", "init"], ["config", "validate"],
                                  ["config", "show"], ["config", "path"]])
def test_every_level_has_help_with_examples(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main(argv + ["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out
    assert f"llm-shim {' '.join(argv)}" in out.split("examples:", 1)[1]


def test_init_writes_a_commented_valid_user_file_pointing_at_the_schema(capsys):
    code, out, _ = run(capsys, "config", "init")
    target = paths.user_config_file()
    stable = os.path.join(paths.config_dir(), "schema.json")
    assert code == 0
    assert out == f"wrote {target}\nwrote {stable} (the JSON Schema its first line names)\n"
    with open(target) as fh:
        text = fh.read()
    first = text.splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema=file://")
    schema_file = urllib.request.url2pathname(urllib.parse.urlparse(first.split("=", 1)[1]).path)
    # A stable file next to the user config, not the package's own copy (a ~/.shiv cache or a
    # versioned lib directory, both gone after an upgrade).
    assert schema_file == stable
    assert os.path.realpath(schema_file) != os.path.realpath(paths.package_data("schema.json"))
    with open(schema_file, "rb") as fh, open(paths.package_data("schema.json"), "rb") as packaged:
        assert fh.read() == packaged.read()
    with open(schema_file) as fh:
        assert json.load(fh)["$schema"].endswith("2020-12/schema")
    assert yaml.safe_load(text) == {"schema_version": 1}
    assert build.validate_file(target) == []


def test_init_examples_are_valid_when_uncommented(capsys, tmp_path):
    """Every commented example line (`#key:` or `#  key:`, not `# prose`) uncommented together."""
    target = tmp_path / "all.yaml"
    run(capsys, "config", "init", "--path", str(target))
    lines = target.read_text().splitlines()
    uncommented = [re.sub(r"^#(?=\S|  )", "", line) for line in lines]
    assert sum(a != b for a, b in zip(lines, uncommented)) > 30
    target.write_text("\n".join(uncommented) + "\n")
    assert build.validate_file(str(target)) == []
    assert yaml.safe_load(target.read_text())["agents"]["reviewer"]["model"] == "sonnet"


def test_init_never_overwrites_without_force(capsys):
    target = paths.user_config_file()
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "w") as fh:
        fh.write("default_agent: auto\n")
    code, _, err = run(capsys, "config", "init")
    assert code == 1
    assert err.startswith(f"llm-shim: config init {target}: the file already exists; pass --force")
    with open(target) as fh:
        assert fh.read() == "default_agent: auto\n"
    code, _, _ = run(capsys, "config", "init", "--force")
    assert code == 0
    with open(target) as fh:
        assert fh.read().startswith("# yaml-language-server:")


def test_validate_without_file_checks_every_discovered_source(capsys, tmp_path):
    project = tmp_path / ".llm-shim.yaml"
    project.write_text("default_agent: auto\n")
    code, out, err = run(capsys, "config", "validate")
    assert code == 0
    assert out == f"ok: {project}\nok: {DEFAULT}\n"
    assert err.startswith(f"llm-shim: warning: project config {project}: not trusted, so not "
                          "applied")  # valid, but the shims ignore it until trusted
    project.write_text("default_agent: nobody\n")
    code, out, err = run(capsys, "config", "validate")
    assert code == 1
    assert out == f"{project}:1: default_agent: unknown agent 'nobody': not defined under agents\n"
    assert "1 problem" in err


def test_validate_a_missing_file_is_one_error_line(capsys, tmp_path):
    code, out, err = run(capsys, "config", "validate", str(tmp_path / "nope.yaml"))
    assert code == 1
    assert out == ""
    assert len(err.splitlines()) == 1 and "No such file" in err


def test_show_prints_yaml_that_reads_back_as_the_effective_config(capsys, tmp_path,
                                                                   trust_project):
    (tmp_path / ".llm-shim.yaml").write_text("policies: {fallback: {max_attempts: 9}}\n")
    trust_project(tmp_path)
    code, out, _ = run(capsys, "config", "show")
    assert code == 0
    assert yaml.safe_load(out) == render.public(compiled.load())
    assert yaml.safe_load(out)["policies"]["fallback"]["max_attempts"] == 9


def test_show_origin_annotates_each_leaf_with_its_file(capsys, tmp_path, trust_project):
    project = tmp_path / ".llm-shim.yaml"
    project.write_text("policies: {fallback: {max_attempts: 9}}\n")
    trust_project(project)
    code, out, _ = run(capsys, "config", "show", "--origin")
    assert code == 0
    assert f"max_attempts: 9  # {project}" in out
    assert f"on_error: passthrough  # {DEFAULT}" in out
    assert yaml.safe_load(out) == render.public(compiled.load())  # comments only
    leaf_lines = [l for l in out.splitlines() if not l.startswith("#") and not l.rstrip().endswith(":")]
    assert leaf_lines and all("  # " in l for l in leaf_lines)


def test_show_json_carries_the_bookkeeping(capsys):
    code, out, _ = run(capsys, "config", "show", "--json")
    data = json.loads(out)
    assert code == 0
    assert data["_aliases"]["opus"] == "claude-opus-4-8"
    assert data["_sources"] == [{"path": DEFAULT, "layer": "default"}]
    assert "_origin" not in data
    code, out, _ = run(capsys, "config", "show", "--json", "--origin")
    assert json.loads(out)["_origin"]["default_agent"] == DEFAULT


def test_show_on_an_invalid_config_fails_with_every_problem(capsys, user_file):
    with open(user_file, "w") as fh:
        fh.write("default_agent: nobody\ntelemetry: {enabled: maybe}\n")
    code, out, err = run(capsys, "config", "show")
    assert code == 1 and out == ""
    assert len([l for l in err.splitlines() if "config.yaml:" in l]) == 2
    assert "Traceback" not in err


def test_show_leaves_out_an_invalid_project_file_and_says_why(capsys, tmp_path, trust_project):
    project = tmp_path / ".llm-shim.yaml"
    project.write_text("default_agent: nobody\nagents: {x: {tier: huge}}\n")
    trust_project(project)
    code, out, err = run(capsys, "config", "show")
    assert code == 0 and yaml.safe_load(out)["default_agent"] == "default"
    lines = err.splitlines()
    assert [l.split(": ")[2] for l in lines[:2]] == ["default_agent", "agents.x.tier"]
    assert lines[-1].startswith(f"llm-shim: warning: project config {project}: 2 problems, so "
                                "none of it applies")


def test_path_lists_sources_in_order_then_the_cache(capsys, tmp_path, monkeypatch, write_yaml):
    env_file = write_yaml("env.yaml", "schema_version: 1\n")
    monkeypatch.setenv("LLM_SHIM_CONFIG", env_file)
    (tmp_path / ".llm-shim.yaml").write_text("schema_version: 1\n")
    code, out, _ = run(capsys, "config", "path")
    assert code == 0
    rows = [line.split(None, 1) for line in out.splitlines()]
    assert [r[0] for r in rows] == ["env", "project", "user", "default", "cache"]
    assert rows[0][1] == env_file
    assert rows[1][1] == str(tmp_path / ".llm-shim.yaml")
    assert rows[2][1].startswith(paths.user_config_file()) and "config init" in rows[2][1]
    assert rows[4][1] == compiled.cache_file(compiled.discover())


def test_init_with_path_still_points_at_the_stable_schema(capsys, tmp_path):
    target = tmp_path / "proj" / ".llm-shim.yaml"
    code, _, _ = run(capsys, "config", "init", "--path", str(target))
    assert code == 0
    first = target.read_text().splitlines()[0]
    stable = os.path.join(paths.config_dir(), "schema.json")
    assert first == "# yaml-language-server: $schema=file://" + urllib.request.pathname2url(stable)
    assert os.path.isfile(stable)


def test_init_force_refreshes_a_stale_schema(capsys):
    stable = os.path.join(paths.config_dir(), "schema.json")
    os.makedirs(paths.config_dir(), exist_ok=True)
    with open(stable, "w") as fh:
        fh.write("{}")
    assert run(capsys, "config", "init", "--force")[0] == 0
    with open(stable) as fh:
        assert json.load(fh)["$schema"].endswith("2020-12/schema")


def test_init_when_llm_shim_home_is_a_file_says_so(capsys, tmp_path, monkeypatch):
    home = tmp_path / "not-a-dir"
    home.write_text("")
    monkeypatch.setenv("LLM_SHIM_HOME", str(home))
    code, _, err = run(capsys, "config", "init")
    assert code == 1
    assert err == (f"llm-shim: config init {home}/config.yaml: {home} is not a directory; "
                   "$LLM_SHIM_HOME must name a directory: point it at one, or unset it\n")


def test_init_under_a_file_with_path_says_so(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, err = run(capsys, "config", "init", "--path", str(blocker / "sub" / "c.yaml"))
    assert code == 1
    assert f": {blocker} is not a directory; move that file away, or choose another place " \
           "with --path" in err


def test_validate_a_missing_file_hints_at_the_argument_not_the_env_var(capsys, tmp_path):
    missing = tmp_path / "nonexistent.yaml"
    code, _, err = run(capsys, "config", "validate", str(missing))
    assert code == 1
    assert err == (f"llm-shim: config {missing}: No such file or directory; "
                   "check the FILE you passed\n")


def test_missing_llm_shim_config_still_hints_at_the_env_var(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("LLM_SHIM_CONFIG", str(tmp_path / "gone.yaml"))
    code, _, err = run(capsys, "config", "validate")
    assert code == 1
    assert "check $LLM_SHIM_CONFIG" in err


@pytest.mark.parametrize("argv,helped", [
    (["config", "validate", "--bogus"], "llm-shim config validate"),
    (["config", "validate", "x.yaml", "--bogus"], "llm-shim config validate"),
    (["config", "--bogus"], "llm-shim config"),
    (["--bogus"], "llm-shim"),
])
def test_an_unknown_option_points_at_the_help_of_its_subcommand(capsys, argv, helped):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err == f"llm-shim: usage: unrecognized arguments: --bogus; see `{helped} --help`\n"
