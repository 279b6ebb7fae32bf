"""Fixtures for the policy tests: real shims in front of fake CLIs that answer or fail like the
real ones, and a user config per test (tests/support/shim_env.py; `shim_env` is registered for
the whole tree by tests/conftest.py).
"""

from tests.support.shim_env import TEN_CENTS_MODEL, ShimEnv  # noqa: F401
