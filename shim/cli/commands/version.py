"""`llm-shim version`: the version; `--json` adds the commit it was built from and Python."""

from shim import __version__


def add_parser(subparsers, common):
    from shim.cli.common import add_command

    p = add_command(subparsers, common, "version", help="print the llm-shim version",
                    examples=["llm-shim version",
                              "llm-shim version --json   # version, commit, Python"])
    p.add_argument("--json", action="store_true",
                   help="print version, commit (null when unknown) and Python as JSON")
    p.set_defaults(func=lambda args: cmd_version(args.json))


def cmd_version(as_json=False):
    if not as_json:
        print(f"llm-shim {__version__}")
        return 0
    import json

    from shim import buildinfo

    print(json.dumps(buildinfo.info(), indent=2, sort_keys=True))
    return 0
