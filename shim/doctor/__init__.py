"""`llm-shim doctor`: check that the shims are installed, first on PATH and working.

`context.gather` collects what every check needs once (install state, shims dir, config, the
tool list); each function in `checks` looks at one thing and returns a plain dict; `render`
prints them. Nothing here runs on a shim call.
"""


def run(environ=None, cwd=None, timeout=None):
    """Every check's result, in display order (see `checks.run_all`)."""
    from shim.doctor import checks

    return checks.run_all(environ=environ, cwd=cwd, timeout=timeout)
