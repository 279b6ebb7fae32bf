"""`llm-shim statusline`: Claude Code's status line command (shim/plans/statusline.py).

`shim.entry` runs it before argparse is ever imported; this parser exists for `--help` and
completions, and for callers of `shim.cli.main.main` directly.
"""


def add_parser(subparsers, common):
    from shim.cli.common import add_command

    p = add_command(
        subparsers, common, "statusline",
        help="one status line for Claude Code's statusLine setting (reads its JSON on stdin)",
        description=(
            "Read the JSON Claude Code writes on stdin after each message and print one line:\n"
            "agent, model, session cost, today's spend and the tightest budget, the current\n"
            "5-hour block and its burn rate, the plan windows' used %. Records the plan\n"
            "snapshots quotas decide from. Always exits 0. See docs/plans.md."),
        examples=[
            "llm-shim install --statusline          # sets it in ~/.claude/settings.json",
            "echo '{\"model\": {\"display_name\": \"Opus\"}}' | llm-shim statusline",
        ])
    p.add_argument("--chain", metavar="CMD",
                   help="run another status line command first (same stdin), its line first")
    p.set_defaults(func=_run)


def _run(args):
    from shim.plans import statusline

    return statusline.main(["--chain", args.chain] if args.chain else [])
