"""`llm-shim shell-init SHELL`: the PATH snippet for `eval` users (like `pyenv init -`)."""

import os
import sys

SHELLS = ("bash", "zsh", "fish")


def llm_shim_path():
    """The llm-shim to name in a start-up file: the one running (an installed shim, a pip
    console script), else the installed shim's default place."""
    argv0 = sys.argv[0] if sys.argv else ""
    if os.path.basename(argv0) == "llm-shim":
        return os.path.abspath(argv0)
    from shim import paths

    return os.path.join(paths.shims_dir(), "llm-shim")


def add_parser(subparsers, common):
    from shim.cli.common import add_command
    from shim.install import shells

    command, home = llm_shim_path(), os.path.expanduser("~")
    p = add_command(
        subparsers, common, "shell-init",
        help="print the snippet that puts the shims first on PATH, for eval",
        description=(
            "Print shell code that moves the shims dir to the front of PATH (unless it already\n"
            "is there). For users who keep their own start-up files: `llm-shim install\n"
            "--no-modify-rc`, then one of the lines below. They run llm-shim by its path: it\n"
            "lives in the shims dir, which is not on PATH yet where the line runs."),
        examples=[
            shells.init_line("bash", command, home) + "      # in ~/.bashrc",
            shells.init_line("zsh", command, home) + "       # in ~/.zshrc",
            shells.init_line("fish", command, home) + "       # in ~/.config/fish/config.fish",
        ])
    p.add_argument("shell", choices=SHELLS, help="bash, zsh or fish")
    p.add_argument("--dir", metavar="DIR",
                   help="shims directory (default: the one install used)")
    p.set_defaults(func=lambda args: cmd_shell_init(args.shell, shims_dir=args.dir))


def cmd_shell_init(shell, shims_dir=None):
    from shim.install import installer

    sys.stdout.write(installer.shell_init(shell, shims_dir=shims_dir))
    return 0
