"""One entry point, two modes (as mise does it): the basename of argv[0] picks the mode.

`claude`, `codex`, `llm` and every tool named under `tools:` run the proxy; anything else
(`llm-shim`, `python -m shim`, the zipapp) runs the management CLI. This module is on the hot
path: it imports nothing heavy.
"""

import os
import sys

CLI_NAMES = ("llm-shim", "__main__.py", "shim", "llm-shim.pyz")


def tool_name(argv0):
    """The tool a shim was invoked as, or None for the management CLI."""
    name = os.path.basename(argv0 or "")
    if not name or name in CLI_NAMES or name.endswith((".pyz", ".py")):
        return None
    return name


def main(argv=None):
    """A shim's whole process (`argv` None: the launcher's sys.exit(main())), or a call."""
    process_entry = argv is None
    argv = list(sys.argv if argv is None else argv)
    tool = tool_name(argv[0] if argv else "")
    if tool is not None:
        from shim import proxy

        code = proxy.main(tool, argv[1:])
        gate = sys.modules.get("shim.policy.connection")
        if gate is not None and process_entry:  # the gate's connection: skip its checkpoint
            gate.exit_open(code)
        return code
    if argv[1:2] == ["statusline"]:  # runs after every Claude message: no argparse (docs/plans.md)
        from shim.plans import statusline

        return statusline.main(argv[2:])
    from shim.cli.main import main as cli_main

    return cli_main(argv[1:])
