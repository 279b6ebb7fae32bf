"""Putting llm-shim on PATH and taking it off again: `llm-shim install`, `uninstall`, `shell-init`.

`layout` owns the files next to the shims (the private code copy and the shim scripts),
`shells` the PATH snippets per shell, `rcfiles` the marked blocks in shell start-up files,
`state` the record of what install created, and `installer` ties them together for the CLI.
None of this is on the hot path.
"""
