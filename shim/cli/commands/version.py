"""`llm-shim version`."""

from shim import __version__


def add_parser(subparsers, common):
    from shim.cli.main import add_command

    p = add_command(subparsers, common, "version", help="print the llm-shim version",
                    examples=["llm-shim version"])
    p.set_defaults(func=lambda args: cmd_version())


def cmd_version():
    print(f"llm-shim {__version__}")
    return 0
