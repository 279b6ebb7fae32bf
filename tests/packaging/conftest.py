"""The zipapp fixture of the install tests, reused to check what the build bakes in."""

from tests.install.conftest import zipapp_factory  # noqa: F401  (fixture)
