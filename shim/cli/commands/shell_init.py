"""`llm-shim shell-init SHELL`: the PATH snippet for `eval` users (like `pyenv init -`)."""

import sys

SHELLS = ("bash", "zsh", "fish")


def add_parser(subparsers, common):
    from shim.cli.main import add_command

    p = add_command(
        subparsers, common, "shell-init",
        help="print the snippet that puts the shims first on PATH, for eval",
        description=(
            "Print shell code that moves the shims dir to the front of PATH (unless it already\n"
            "is there). For users who keep their own start-up files: `llm-shim install\n"
            "--no-modify-rc`, then one of the lines below."),
        examples=[
            'eval "$(llm-shim shell-init bash)"      # in ~/.bashrc',
            'eval "$(llm-shim shell-init zsh)"       # in ~/.zshrc',
            "llm-shim shell-init fish | source       # in ~/.config/fish/config.fish",
        ])
    p.add_argument("shell", choices=SHELLS, help="bash, zsh or fish")
    p.add_argument("--dir", metavar="DIR",
                   help="shims directory (default: the one install used)")
    p.set_defaults(func=lambda args: cmd_shell_init(args.shell, shims_dir=args.dir))


def cmd_shell_init(shell, shims_dir=None):
    from shim.install import installer

    sys.stdout.write(installer.shell_init(shell, shims_dir=shims_dir))
    return 0
