"""Fixtures for the routing tests: the compiled-config stand-in of tests/support/configs.py."""

from tests.support.configs import cfg, config, gemini_cfg  # noqa: F401  (fixtures)
