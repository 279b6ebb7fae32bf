"""Putting llm-shim on PATH and taking it off again: `llm-shim install`, `uninstall`, `shell-init`.

`shimscript` owns the text of a shim (and reading one back), `shimdir` the shims directory
(which tools get a shim, writing and removing exactly ours), `libcopy` the private code copy
the shims run, `shells` the PATH snippets per shell, `rcfiles` the marked blocks in shell start-up files,
`state` the record of what install created, and `installer` ties them together for the CLI.
None of this is on the hot path.
"""
