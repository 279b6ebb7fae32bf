"""`llm-shim install`: shims + private code copy + PATH blocks, then say how to activate."""

import os

SHELL_CHOICES = ("bash", "zsh", "fish", "all")


def add_parser(subparsers, common):
    from shim.cli.common import add_command

    p = add_command(
        subparsers, common, "install",
        help="put the shims for claude, codex, llm and your tools first on PATH",
        description=(
            "Copy llm-shim into a private versioned directory, write one shim per tool (and\n"
            "`llm-shim` itself) into the shims dir, and add a marked PATH block at the end of\n"
            "your shell start-up files. Running it again changes nothing; `llm-shim uninstall`\n"
            "undoes it. See docs/install.md."),
        examples=[
            "llm-shim install",
            "llm-shim install --shell zsh --shell bash",
            "llm-shim install --no-modify-rc      # only print what to add",
            "llm-shim install --dir ~/.llm-shim/shims",
            "python3 dist/llm-shim.pyz install   # from the one-file distribution",
        ])
    p.add_argument("--dir", metavar="DIR",
                   help="shims directory (default: the data dir's shims/, $LLM_SHIM_HOME/shims)")
    p.add_argument("--shell", action="append", choices=SHELL_CHOICES, metavar="SHELL",
                   help="bash, zsh, fish or all; repeatable (default: bash, your $SHELL, and "
                        "every shell whose start-up files exist)")
    p.add_argument("--no-modify-rc", action="store_true",
                   help="change no start-up file; print the blocks to add instead")
    p.add_argument("--statusline", nargs="?", const="add", choices=("add", "chain"),
                   metavar="chain",
                   help="also set `llm-shim statusline` as Claude Code's status line in its "
                        "settings.json; =chain keeps a status line you already have, shown "
                        "first (docs/plans.md)")
    p.set_defaults(func=lambda args: cmd_install(
        shims_dir=args.dir, shell_names=args.shell, modify_rc=not args.no_modify_rc,
        statusline=args.statusline))


def cmd_install(shims_dir=None, shell_names=None, modify_rc=True, statusline=None):
    from shim.install import installer

    report = installer.install(shims_dir=shims_dir, shell_names=shell_names,
                               modify_rc=modify_rc)
    if statusline:
        report["statusline"] = install_statusline(report["shims_dir"], statusline)
    print(format_report(report))
    return 0


def install_statusline(shims_dir, mode):
    """Claude's statusLine, recorded in the install state so uninstall can undo it."""
    from shim.install import state, statusline

    recorded = state.load()
    result, record = statusline.install(shims_dir, mode, recorded=recorded.get("statusline"))
    if record is not None:
        state.save(dict(recorded, statusline=record))
    return result


def _tilde(path):
    home = os.path.expanduser("~")
    return "~" + path[len(home):] if home != "/" and path.startswith(home + os.sep) else path


def format_report(report):
    lib = report["lib"]
    shims = report["shims"]
    lines = [f"llm-shim {report['version']} installed (Python {report['python']})"]
    state = "copied" if lib["changed"] else "unchanged"
    lines.append(f"  code   {lib['path']} ({state}, {lib['bytes'] / 1e6:.1f} MB)")
    if report["pruned"]:
        lines.append(f"         removed old copies: {', '.join(report['pruned'])}")
    counts = ", ".join(f"{len(shims[k])} {k}" for k in ("created", "updated", "removed")
                       if shims[k]) or "all unchanged"
    names = sorted(shims["created"] + shims["updated"] + shims["unchanged"])
    lines.append(f"  shims  {report['shims_dir']}: {' '.join(names)} ({counts})")
    if report["moved_from"]:
        lines.append(f"         removed the shims from {report['moved_from']}")
    for item in report["rc"]:
        verb = {"created": "created with the PATH block", "appended": "PATH block appended",
                "replaced": "PATH block updated", "unchanged": "PATH block unchanged"}
        lines.append(f"  {item['shell']:<6} {_tilde(item['path'])}: {verb[item['action']]}")
    if report.get("grammar"):
        learned = ", ".join(f"{tool} {v}" for tool, v in sorted(report["grammar"].items()))
        lines.append(f"  help   grammar learned from --help: {learned}")
    from shim import completions

    lines += completions.report_lines(report.get("completions"), _tilde)
    if report.get("statusline"):
        item = report["statusline"]
        verb = {"added": "statusLine set to llm-shim statusline",
                "chained": f"statusLine runs yours ({item['previous']}), then llm-shim's",
                "unchanged": "statusLine already llm-shim's"}[item["action"]]
        lines.append(f"  claude {_tilde(item['path'])}: {verb}")
    if report["manual"]:
        lines.append("")
        lines.append("Start-up files left alone (--no-modify-rc). Add these blocks at the END:")
        for item in report["manual"]:
            lines.append(f"\n# {_tilde(item['path'])} ({item['shell']})")
            lines.append(item["text"].rstrip("\n"))
    lines.append("")
    if report["first_on_path"]:
        lines.append("The shims dir is already first on PATH in this shell; new shells pick it "
                     "up too.")
    else:
        lines.append("To use it in this shell now, run:")
        lines.append(f"  {report['activate']}")
        lines.append("New shells pick it up by themselves.")
    lines.append(f"Check with: command -v claude   (should print {report['shims_dir']}/claude)")
    return "\n".join(lines)
