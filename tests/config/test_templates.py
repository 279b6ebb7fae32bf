"""Issue 15, attack 1's second half: a generic tool's `render` template can never hand the
prompt to a shell. `{prompt}` and `{system}` are whole argv elements only; `{model}` may also
close a `--flag=` element. Checked by `config validate` and at load; the adapter refuses too."""

import pytest

from shim.adapters import generic
from shim.config import build, compiled
from shim.errors import ConfigError

from tests.config.conftest import line_of

TOOL = """
    schema_version: 1
    tools:
      bash:
        adapter: generic
        generic:
          render: {render}
"""


@pytest.mark.parametrize("render, bad", [
    ("['-c', 'echo {prompt}']", "{prompt}"),
    ("['-c', 'echo PWNED; echo {prompt}']", "{prompt}"),
    ("['--prompt={prompt}']", "{prompt}"),
    ("['{prompt}', ['--system', 'be {system}']]", "{system}"),
    ("['{prompt}', ['-c', 'run --model {model}']]", "{model}"),
    ("['{prompt}', '-c{model}']", "{model}"),
])
def test_a_placeholder_inside_a_longer_string_is_refused(write_yaml, user_file, render, bad,
                                                         capsys):
    path = write_yaml("tool.yaml", TOOL.format(render=render))
    problems = build.validate_file(path)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}:{line_of(open(path).read(), 'render')}: "
                                  "tools.bash.generic.render[")
    assert f"{bad} must be a whole argument of its own" in problems[0]
    # At load (here from the user file): the config is refused, nothing is rendered.
    with open(user_file, "w") as fh, open(path) as src:
        fh.write(src.read())
    with pytest.raises(ConfigError) as info:
        compiled.load()
    assert any(f"{bad} must be a whole argument" in p for p in info.value.problems)


@pytest.mark.parametrize("render", [
    "['-p', '{prompt}']",
    "['{prompt}', ['-m', '{model}'], ['--system', '{system}'], '{output}']",
    "['{prompt}', ['--model={model}']]",
])
def test_whole_placeholders_are_fine(write_yaml, render):
    assert build.validate_file(write_yaml("tool.yaml", TOOL.format(render=render))) == []


def test_the_adapter_never_splices_the_prompt_into_a_string():
    cfg = {"tools": {"bash": {"generic": {"render": ["-c", "echo {prompt}"]}}}}
    argv, why = generic.build_oneshot("hello; id", None, None, None, cfg=cfg, tool="bash")
    assert argv is None and "has no {prompt}" in why
    cfg = {"tools": {"t": {"generic": {"render": ["-p", "{prompt}", ["--model={model}"]]}}}}
    argv, why = generic.build_oneshot("a; b", "m1", None, None, cfg=cfg, tool="t")
    assert argv == ["-p", "a; b", "--model=m1"]


def test_validate_says_so_from_the_command_line(write_yaml, capsys):
    from shim.cli.main import main

    path = write_yaml("tool.yaml", TOOL.format(render="['-c', 'echo {prompt}']"))
    assert main(["config", "validate", path]) == 1
    assert "{prompt} must be a whole argument of its own" in capsys.readouterr().out
