"""The classic failure in a real bash login shell: a line appended to ~/.profile after the
llm-shim block puts ~/.local/bin (holding the real claude) ahead of the shims. doctor names
that line; doing what its hint says fixes it."""

import os

import pytest

from shim import paths
from shim.install import rcfiles

# What installers such as pipx's `ensurepath` append to ~/.profile.
LATER_LINE = 'export PATH="$HOME/.local/bin:$PATH"'


@pytest.fixture
def debian_home(isolated_env, monkeypatch):
    home = isolated_env["home"]
    skel = "/etc/skel/.profile"
    text = open(skel).read() if os.path.exists(skel) else (
        'if [ -n "$BASH_VERSION" ] && [ -f "$HOME/.bashrc" ]; then . "$HOME/.bashrc"; fi\n'
        'if [ -d "$HOME/.local/bin" ] ; then\n    PATH="$HOME/.local/bin:$PATH"\nfi\n')
    (home / ".profile").write_text(text)
    monkeypatch.setenv("SHELL", "/bin/bash")
    return home


def test_doctor_names_the_line_and_its_fix_works(cli, prebuilt_lib, debian_home, fake_tool,
                                                 require_shell, run_shell):
    bash = require_shell("bash")
    assert cli("install", "--shell", "bash")[0] == 0
    profile = debian_home / ".profile"
    with open(profile, "a") as fh:
        fh.write(LATER_LINE + "\n")
    real = fake_tool("claude", "2.1.197 (Claude Code)", where=debian_home / ".local" / "bin")
    env = {"LLM_SHIM_HOME": os.environ["LLM_SHIM_HOME"]}
    shims = paths.shims_dir()

    found = run_shell([bash, "-l", "-c", "command -v claude"], debian_home, env)
    assert found.stdout.strip() == str(real)  # the failure is real: the shim is bypassed
    out = run_shell([bash, "-l", "-c", "llm-shim doctor"], debian_home, env)
    assert out.returncode == 1, out.stdout + out.stderr
    line_number = profile.read_text().splitlines().index(LATER_LINE) + 1
    path_line = next(line for line in out.stdout.splitlines() if line.startswith("✗ path"))
    assert "~/.local/bin (the real claude) comes before" in path_line
    assert f"`{LATER_LINE}` (~/.profile:{line_number})" in out.stdout
    assert "exec $SHELL -l" in out.stdout

    # The fix: move that line above the block.
    data = profile.read_bytes().replace(LATER_LINE.encode() + b"\n", b"")
    start, _ = rcfiles.find_block(data)
    profile.write_bytes(data[:start] + LATER_LINE.encode() + b"\n" + data[start:])
    found = run_shell([bash, "-l", "-c", "command -v claude"], debian_home, env)
    assert found.stdout.strip() == os.path.join(shims, "claude")
    out = run_shell([bash, "-l", "-c", "llm-shim doctor"], debian_home, env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "✓ path" in out.stdout
    assert f"✓ tool:claude    ~/.local/bin/claude (2.1.197 (Claude Code))" in out.stdout
