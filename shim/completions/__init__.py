"""Shell completion for `llm-shim`: bash, zsh and fish scripts generated from the argparse parser.

Nothing is listed by hand: `tree.command_tree` walks `shim.cli.main.build_parser()` (commands,
aliases, nested subcommands such as `config validate`, flags, which flags take a value, and
`choices`), so a new command or flag is completed as soon as it is in the parser.
`scripts.script(shell)` renders a script; `files` installs them for `llm-shim install`.
"""

from shim.completions.files import completion_file, install_files, is_ours, remove_files, \
    report_lines
from shim.completions.scripts import MARKER, SHELLS, script
from shim.completions.tree import command_tree, flatten

__all__ = ["MARKER", "SHELLS", "command_tree", "completion_file", "flatten", "install_files",
           "is_ours", "remove_files", "report_lines", "script"]
