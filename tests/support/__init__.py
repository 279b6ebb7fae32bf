"""What more than one test folder needs: launchers shaped like installed shims, the compiled
config stand-in, fake CLIs' error texts, records, install fixtures (tests/README.md lists them).
A test folder imports shared helpers from here, never from another folder's conftest or test
module (tests/test_tree.py checks); nothing here imports from a test folder.
"""

import os

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
