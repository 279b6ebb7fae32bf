"""Fixtures for the docs tests: the checkout, the docs' text, and the install fixtures reused.

`prebuilt_lib` and `cli` come from tests/support/install.py so that the completion-install
tests skip the ~0.3 s private-copy build, like the install tests do.
"""

import glob
import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCS = os.path.join(REPO, "docs")


def read_doc(name):
    with open(os.path.join(DOCS, name), encoding="utf-8") as fh:
        return fh.read()


def markdown_files():
    """Every Markdown file a user reads: docs/**/*.md and the README."""
    files = sorted(glob.glob(os.path.join(DOCS, "**", "*.md"), recursive=True))
    readme = os.path.join(REPO, "README.md")
    return files + ([readme] if os.path.exists(readme) else [])


@pytest.fixture(scope="session")
def repo():
    return REPO
