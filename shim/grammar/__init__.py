"""The grammar of each real CLI, learned from its own `--help` (docs/adapters.md, "Learned
grammar"). `helpparse` reads help text, `learn` runs the binary and writes the cache that the
hot path (`shim.adapters.learned`) reads. Not on the hot path itself.
"""
