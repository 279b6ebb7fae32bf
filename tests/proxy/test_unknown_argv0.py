"""An argv0 that names no configured tool and no real binary runs the management CLI: the
proxy says so (proxy.NOT_A_TOOL) and shim.entry hands off, so the proxy never imports the CLI."""

import pytest

from shim import entry, proxy


def test_an_unknown_argv0_without_a_binary_is_the_management_cli(monkeypatch, tmp_path, capsys):
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert proxy.main("no-such-tool-here", ["--version"]) is proxy.NOT_A_TOOL
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:  # argparse's --version exits
        entry.main(["/somewhere/no-such-tool-here", "--version"])
    assert exited.value.code == 0 and capsys.readouterr().out.startswith("llm-shim ")
