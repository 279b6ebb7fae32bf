"""llm-shim: route, budget and record every call to claude, codex and llm.

Nothing is imported here on purpose: the shims import this package on every call.
"""

__version__ = "0.1.0"
