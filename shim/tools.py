"""The tools llm-shim knows without any config: one definition for every module that asks.

Hot path: imports nothing. A tool named under `tools:` in the config joins these at run time.
"""

BUILTIN_TOOLS = ("claude", "codex", "llm")
