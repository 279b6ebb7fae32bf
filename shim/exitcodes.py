"""Exit codes as plain ints, importable from the hot path (no enum import there)."""

OK = 0
ERROR = 1
USAGE = 2
# EX_TEMPFAIL from sysexits.h: the call was refused for now (budget, rate limit); retrying later can work.
BLOCKED = 75
# The shim re-entered itself for the same real binary too many times (a wrapper calling the shim back).
RECURSION = 126
# The real tool is not installed (pyenv exits 127 for the same reason).
NOT_FOUND = 127
# 128 + SIGINT.
CTRL_C = 130

NAMES = ("OK", "ERROR", "USAGE", "BLOCKED", "RECURSION", "NOT_FOUND", "CTRL_C")
