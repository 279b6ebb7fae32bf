"""Fixtures for the management CLI's tests: the command runs in process (tests/support/cli.py);
records for `logs` and YAML files for `config` come from tests/support like everyone's."""

from tests.support.configfiles import user_file, write_yaml  # noqa: F401  (fixtures)
from tests.support.records import cfg, make_record  # noqa: F401  (fixtures)
