"""Run the management CLI in process, the way every command test does."""

from shim.cli.main import main


def run(capsys, *argv):
    """`llm-shim ARGV...` through the real parser; returns (exit code, stdout, stderr)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err
