"""Launchers shaped like the installed shims, for any test that runs a shim.

The launcher runs Python with `-IS` like an installed shim; the repo and the venv's
site-packages go on sys.path explicitly (an installed shim has its private copy instead).
"""

import os
import site
import sys

from tests.support import REPO

SITE = [p for p in site.getsitepackages() if p.endswith("site-packages")]

LAUNCHER = """#!{python} -IS
# llm-shim shim (test launcher)
import sys
sys.path[:0] = {paths!r}
from shim.entry import main
sys.exit(main())
"""


def write_launcher(path):
    path.write_text(LAUNCHER.format(python=os.path.realpath(sys.executable),
                                    paths=[REPO] + SITE))
    path.chmod(0o755)
    return path
