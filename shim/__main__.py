"""`python -m shim` and the zipapp's entry point."""

import sys

from shim.entry import main

sys.exit(main())
