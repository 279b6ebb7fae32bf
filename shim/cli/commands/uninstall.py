"""`llm-shim uninstall`: remove the shims, the private code and the PATH blocks.

The handler loads everything it needs before acting: when run through an installed shim, the
code it runs from is among what it deletes.
"""

import os


def add_parser(subparsers, common):
    from shim.cli.common import add_command

    p = add_command(
        subparsers, common, "uninstall",
        help="remove the shims, the private code copy and the PATH blocks",
        description=(
            "Undo `llm-shim install`: delete the shims, the private code copy and the marked\n"
            "blocks in your shell start-up files (which get their original bytes back). Config\n"
            "and telemetry stay unless --purge. The real claude, codex and llm are never\n"
            "touched."),
        examples=[
            "llm-shim uninstall",
            "llm-shim uninstall --purge     # also delete config, telemetry and cache",
            "llm-shim uninstall --dir ~/.llm-shim/shims",
        ])
    p.add_argument("--dir", metavar="DIR",
                   help="the shims directory to clear (default: the one install used)")
    p.add_argument("--purge", action="store_true",
                   help="also delete llm-shim's config, telemetry database and cache")
    p.set_defaults(func=lambda args: cmd_uninstall(shims_dir=args.dir, purge=args.purge))


def cmd_uninstall(shims_dir=None, purge=False):
    from shim.install import installer

    report = installer.uninstall(shims_dir=shims_dir, purge=purge)
    print(format_report(report, purge))
    return 0


def format_report(report, purge):
    lines = ["llm-shim uninstalled"]
    for directory, names in report["shims"].items():
        if names:
            lines.append(f"  shims  removed from {directory}: {' '.join(names)}")
    if not any(report["shims"].values()):
        lines.append("  shims  none found")
    for path in report.get("completions") or ():
        lines.append(f"  compl  removed {path}")
    for lib in report["lib"]:
        lines.append(f"  code   removed {lib}")
    for item in report["rc"]:
        verb = "deleted (install had created it)" if item["action"] == "deleted" \
            else "PATH block removed"
        lines.append(f"  rc     {item['path']}: {verb}")
    if report.get("statusline"):
        lines.append(f"  claude {report['statusline']['path']}: {report['statusline']['action']}")
    for directory in report["purged"]:
        lines.append(f"  purge  removed {directory}")
    for directory in report["refused"]:
        lines.append(f"  purge  refused to remove {directory}: it holds your home directory")
    if not purge:
        lines.append("Config and telemetry were kept; `llm-shim uninstall --purge` removes them.")
    if report["still_on_path"]:
        dirs = os.pathsep.join(report["still_on_path"])
        lines.append(f"This shell still has {dirs} on PATH: open a new shell, or run `hash -r`.")
    return "\n".join(lines)
