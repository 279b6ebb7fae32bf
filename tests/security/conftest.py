"""The security tests run real shims in front of the fakes of tests/policy (which answer like the
real CLIs) and tests/conftest.py (which record argv byte for byte)."""

from tests.policy.conftest import shim_env  # noqa: F401  (a fixture)
from tests.proxy.conftest import run_shim, shims  # noqa: F401  (fixtures)
