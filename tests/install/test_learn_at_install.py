"""`llm-shim install` learns each real tool's grammar from its --help (once: a second install
with the same binaries runs nothing and changes nothing)."""

import os
import stat

from shim.adapters import learned

FAKE = """#!/bin/sh
echo "$*" >> "{log}"
case "$*" in
  --version) echo "2.1.332 (Claude Code)" ;;
  --help) printf 'Options:\\n  -p, --print  Print\\n  --fresh <x>  New\\n\\nCommands:\\n  gateway  Run\\n' ;;
esac
"""


def test_install_learns_the_grammar_once(cli, prebuilt_lib, isolated_env, monkeypatch, tmp_path):
    monkeypatch.delenv("LLM_SHIM_LEARN")
    bin_dir = tmp_path / "real-bin"
    bin_dir.mkdir()
    log = tmp_path / "claude.log"
    claude = bin_dir / "claude"
    claude.write_text(FAKE.format(log=log))
    claude.chmod(claude.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    code, out, err = cli("install", "--shell", "bash")
    assert code == 0, err
    assert "grammar learned from --help: claude 2.1.332" in out
    table, status = learned.lookup("claude", str(claude))
    assert status == "hit" and table["commands"][""]["subcommands"] == ["gateway"]
    assert table["commands"][""]["flags"]["--fresh"] == 1
    assert log.read_text().splitlines() == ["--version", "--help"]
    assert cli("install", "--shell", "bash")[0] == 0
    assert log.read_text().splitlines() == ["--version", "--help"]
    assert os.path.exists(learned.cache_file("claude", os.path.realpath(claude)))
