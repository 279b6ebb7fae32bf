"""`llm-shim completion SHELL`: print the tab-completion script (generated from the parser)."""

import sys

SHELLS = ("bash", "zsh", "fish")


def add_parser(subparsers, common):
    from shim.cli.common import add_command

    p = add_command(
        subparsers, common, "completion",
        help="print the tab-completion script for bash, zsh or fish",
        description=(
            "Print a completion script for commands, subcommands, flags and their choices.\n"
            "`llm-shim install` already writes it where each shell finds it (bash-completion's\n"
            "user dir, ~/.zfunc for zsh, loaded by the ~/.zshrc block, fish's completions dir);\n"
            "use this to load it by hand.\n"
            "See docs/troubleshooting.md if completion does not work."),
        examples=[
            "source <(llm-shim completion bash)                     # in ~/.bashrc",
            "llm-shim completion zsh > ~/.zfunc/_llm-shim           # fpath+=(~/.zfunc) before compinit",
            "llm-shim completion fish > ~/.config/fish/completions/llm-shim.fish",
        ])
    p.add_argument("shell", choices=SHELLS, help="bash, zsh or fish")
    p.set_defaults(func=lambda args: cmd_completion(args.shell))


def cmd_completion(shell, stream=None):
    from shim import completions

    (stream or sys.stdout).write(completions.script(shell))
    return 0
