"""User config files for the tests that go through the real config loader (tests/config and the
`config` command tests in tests/cli): the embedded default, YAML writers, line lookup."""

import os
import textwrap

import pytest

from shim import paths

DEFAULT = paths.embedded_default_config()


def line_of(text, needle, occurrence=1):
    """1-based line of the `occurrence`-th line containing `needle` (so tests never hard-code lines)."""
    seen = 0
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{needle!r} not in the text")


@pytest.fixture
def write_yaml(tmp_path):
    """write_yaml(relative_path, text) -> absolute path; text is dedented."""

    def write(relative, text):
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return str(path)

    return write


@pytest.fixture
def user_file(isolated_env):
    """Path of the user config file under the isolated LLM_SHIM_HOME (not created)."""
    path = paths.user_config_file()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return path
