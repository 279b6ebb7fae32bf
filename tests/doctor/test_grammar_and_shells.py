"""doctor's `help:<tool>` results (version, pinned or not, learned when, unknown flags seen in
recent calls) and `shell:<shell>` results (how the tools resolve in each configured shell)."""

import os
import shutil
import time

import pytest

from shim import paths
from shim.doctor import grammar, shells
from shim.telemetry import store


def _table(version="2.1.332"):
    return {"tool": "claude", "version": version, "learned_at": time.time(),
            "commands": {"": {"flags": {"-p": 0, "--model": 1}, "subcommands": ["mcp"]}}}


def test_pinned_versions_come_from_the_packaged_versions_env():
    pinned = grammar.pinned_versions()
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(repo, "install", "versions.env"), encoding="utf-8") as fh:
        text = fh.read()
    assert f"CLAUDE_CODE_VERSION={pinned['claude']}\n" in text
    assert f"CODEX_VERSION={pinned['codex']}\n" in text and f"LLM_VERSION={pinned['llm']}\n" in text


def test_a_pinned_version_is_said_and_the_learned_grammar_shown():
    r = grammar.check("claude", _table(), {"claude": "2.1.332"}, {})
    assert r["ok"] and "claude 2.1.332: the version the acceptance suite ran against" in r["detail"]
    assert "grammar learned " in r["detail"] and "(2 flags, 1 subcommands)" in r["detail"]
    r = grammar.check("claude", _table("2.1.400"), {"claude": "2.1.332"}, {})
    assert r["ok"] and "not the version the acceptance suite ran against (2.1.332)" in r["detail"]


def test_unknown_flags_in_recent_calls_are_named_with_the_version():
    conn = store.connect(paths.database_file())
    reason = ("arguments not understood (unknown flag --shiny (not in the --help of claude "
              "2.1.332 either)): passed through untouched")
    records = [{"invocation_id": "i%d" % n, "attempt": 1, "started_at": time.time() - age,
                "tool": "claude", "reasons": [reason]} for n, age in enumerate((10, 20, 30 * 86400))]
    with store.transaction(conn):
        store.insert_attempts(conn, records)
    conn.close()
    unknown = grammar.recent_unknown_flags()
    assert unknown == {"claude": {"--shiny": 2}}  # the month-old call is not recent
    r = grammar.check("claude", _table(), {"claude": "2.1.332"}, unknown)
    assert r["status"] == "warn"
    assert "--shiny (2 calls)" in r["detail"] and "recent calls of claude 2.1.332" in r["detail"]


def test_a_failed_learning_is_a_warning():
    r = grammar.check("claude", {"tool": "claude", "error": "ValueError: no options"}, {}, {})
    assert r["status"] == "warn" and "could not learn its grammar from --help" in r["detail"]


def _exe(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)


def test_shell_check_names_a_tool_the_shell_finds_outside_the_shims(isolated_env):
    home = isolated_env["home"]
    shims = isolated_env["tmp"] / "shims"
    for tool in ("claude", "codex", "llm"):
        _exe(shims / tool)
    _exe(home / ".local" / "bin" / "claude")
    bashrc = home / ".bashrc"
    # the shims first, then a user line that puts ~/.local/bin ahead again
    bashrc.write_text(f'PATH={shims}:$PATH\nPATH="$HOME/.local/bin:$PATH"\n')
    (home / ".bash_profile").write_text(". ~/.bashrc\n")
    environ = {"HOME": str(home), "PATH": "/usr/bin:/bin", "TERM": "dumb"}
    ctx = {"state": {"rc_files": {str(bashrc): {}}}, "environ": environ, "home": str(home),
           "shims_dir": str(shims)}
    [r] = shells.check(ctx)
    assert r["name"] == "shell:bash" and r["status"] == "fail"
    assert "claude runs the real tool, not the shim, in bash" in r["detail"] and "~/.local/bin" in r["hint"]
    bashrc.write_text(f'PATH="$HOME/.local/bin:$PATH"\nPATH={shims}:$PATH\n')
    [r] = shells.check(ctx)
    assert r["ok"], r


def _shell_ctx(isolated_env, rc_name):
    home = isolated_env["home"]
    shims = isolated_env["tmp"] / "shims"
    for tool in ("claude", "codex", "llm"):
        _exe(shims / tool)
    _exe(home / ".local" / "bin" / "claude")
    environ = {"HOME": str(home), "PATH": "/usr/bin:/bin", "TERM": "dumb"}
    ctx = {"state": {"rc_files": {str(home / rc_name): {}}}, "environ": environ,
           "home": str(home), "shims_dir": str(shims)}
    return home, shims, ctx


def test_bash_interactive_non_login_shell_is_checked_too(isolated_env):
    """A terminal tab on Linux runs `bash -i` (not a login shell): it reads only ~/.bashrc, where
    a line after the block wins, while the login shell's own block puts the shims back first."""
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    home, shims, ctx = _shell_ctx(isolated_env, ".bashrc")
    (home / ".bashrc").write_text(f'PATH={shims}:$PATH\nPATH="$HOME/.local/bin:$PATH"\n')
    (home / ".bash_profile").write_text(f". ~/.bashrc\nPATH={shims}:$PATH\n")
    [r] = shells.check(ctx)
    assert r["name"] == "shell:bash" and r["status"] == "fail", r
    assert r["detail"].startswith("claude runs the real tool, not the shim, in bash -ic (")
    assert "claude → ~/.local/bin/claude" in r["detail"] and "~/.local/bin" in r["hint"]
    (home / ".bashrc").write_text(f'PATH="$HOME/.local/bin:$PATH"\nPATH={shims}:$PATH\n')
    [r] = shells.check(ctx)
    assert r["ok"] and "bash -lic, bash -ic" in r["detail"], r


def test_zsh_interactive_non_login_shell_is_checked_too(isolated_env):
    """A line that runs only in non-login zsh (a terminal tab on Linux) is seen too."""
    if shutil.which("zsh") is None:
        pytest.skip("zsh is not installed")
    home, shims, ctx = _shell_ctx(isolated_env, ".zshrc")
    # ~/.zshrc: the user prepends ~/.local/bin after the block, only in non-login shells
    (home / ".zshrc").write_text(f'PATH={shims}:$PATH\n[[ -o login ]] || PATH="$HOME/.local/bin:$PATH"\n')
    (home / ".zprofile").write_text("")
    [r] = shells.check(ctx)
    assert r["name"] == "shell:zsh" and r["status"] == "fail", r
    assert r["detail"].startswith("claude runs the real tool, not the shim, in zsh -ic (")
    (home / ".zshrc").write_text(f'PATH="$HOME/.local/bin:$PATH"\nPATH={shims}:$PATH\n')
    [r] = shells.check(ctx)
    assert r["ok"] and "zsh -lic, zsh -ic" in r["detail"], r


def test_unknown_flag_line_names_the_flag_exactly():
    """Both forms the reason takes (with and without a learned version) give the bare flag; the
    line once read `--brand-new-flag): (1 call)`."""
    conn = store.connect(paths.database_file())
    plain = "arguments not understood (unknown flag --brand-new-flag): passed through untouched"
    learned_ = ("arguments not understood (unknown flag --other (not in the --help of claude "
                "2.1.332 either)): passed through untouched")
    records = [{"invocation_id": "u%d" % n, "attempt": 1, "started_at": time.time() - 5,
                "tool": "claude", "reasons": [reason]}
               for n, reason in enumerate((plain, learned_, learned_))]
    with store.transaction(conn):
        store.insert_attempts(conn, records)
    conn.close()
    unknown = grammar.recent_unknown_flags()
    assert unknown == {"claude": {"--brand-new-flag": 1, "--other": 2}}
    r = grammar.check("claude", _table(), {"claude": "2.1.332"}, unknown)
    assert r["detail"].split("\n")[0] == (
        "unknown flags in recent calls of claude 2.1.332, passed through unrouted: "
        "--brand-new-flag (1 call), --other (2 calls)")
