"""doctor's `help:<tool>` results (version, pinned or not, learned when, unknown flags seen in
recent calls) and `shell:<shell>` results (how the tools resolve in each configured shell)."""

import os
import time

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
