"""Helpers for the configuration tests: write YAML files and find the line a text is on
(defined in tests/support/configfiles.py, shared with the `config` command tests)."""

from tests.support import REPO  # noqa: F401
from tests.support.configfiles import DEFAULT, line_of, user_file, write_yaml  # noqa: F401
