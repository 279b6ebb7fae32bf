"""One entry point, two modes (as mise does it): the basename of argv[0] picks the mode.

`claude`, `codex`, `llm` and every tool named under `tools:` run the proxy; anything else
(`llm-shim`, `python -m shim`, the zipapp) runs the management CLI. This module is on the hot
path: it imports nothing heavy.
"""

import os
import sys

CLI_NAMES = ("llm-shim", "__main__.py", "shim", "llm-shim.pyz")
# Loaded by a call that ran more than a shim's own work, which then exits the usual way: the
# management CLI (argv0 named no tool; its commands may leave cleanup to the interpreter's
# exit) and team mode (a PostgreSQL connection is closed politely, not dropped).
NORMAL_EXIT_AFTER = ("shim.cli.main", "shim.team")


def tool_name(argv0):
    """The tool a shim was invoked as, or None for the management CLI."""
    name = os.path.basename(argv0 or "")
    if not name or name in CLI_NAMES or name.endswith((".pyz", ".py")):
        return None
    return name


def end_process(code):
    """End a shim's process now with `code`, skipping the interpreter's teardown (freeing every
    module: ~3 ms of CPU) and, when the policy gate opened the telemetry database, the WAL
    checkpoint of its close (~9 ms; shim.policy.state.may_skip_close says when).

    Everything of ours is written by then: spool lines by single unbuffered os.write calls,
    SQLite transactions committed; stdout and stderr are flushed here. Returns (and the
    launcher's sys.exit ends the process as usual) when a flush fails, the gate's WAL wants
    its checkpoint, a module of NORMAL_EXIT_AFTER was loaded, or `code` is no exit status.

    First, when the launcher served our modules from the archive (shim.hotcode) and this call
    imported one it did not hold or could not vouch for, the archive is rewritten: the tool
    has finished, so only the shim's own exit waits for it, once after each change."""
    hotcode = sys.modules.get("shim.hotcode")
    if hotcode is not None:
        hotcode.refresh()
    if _may_end_now(code):
        os._exit(code)
    # The usual exit: its last collection must see the objects frozen while the call was
    # decided (shim.proxy), among them the gate's connection, whose close checkpoints the WAL.
    import gc

    gc.unfreeze()


def _may_end_now(code):
    if not isinstance(code, int) or not 0 <= code <= 255:
        return False
    if any(name in sys.modules for name in NORMAL_EXIT_AFTER):
        return False
    gate = sys.modules.get("shim.policy.state")
    if gate is not None and not gate.may_skip_close():
        return False
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        return False
    return True


def main(argv=None):
    """A shim's whole process (`argv` None: the launcher's sys.exit(main())), or a call."""
    process_entry = argv is None
    argv = list(sys.argv if argv is None else argv)
    tool = tool_name(argv[0] if argv else "")
    if tool is not None:
        from shim import proxy

        code = proxy.main(tool, argv[1:], own_process=process_entry)
        if code is not proxy.NOT_A_TOOL:
            if process_entry:
                end_process(code)
            return code
        # argv0 was no tool after all: the management CLI, as argv is
    elif argv[1:2] == ["statusline"]:  # runs after every Claude message: no argparse (docs/plans.md)
        from shim.plans import statusline

        return statusline.main(argv[2:])
    from shim.cli.main import main as cli_main

    return cli_main(argv[1:])
