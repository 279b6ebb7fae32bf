"""`llm-shim doctor` against a real install in a temp HOME, with fake real tools on PATH."""

import json
import os
import shutil
import sqlite3

import pytest

from shim import __version__, exitcodes, paths
from shim.install import rcfiles
from shim.telemetry import migrations, store

EVERY_CHECK = {"shims", "shims-current", "path", "rc-blocks", "tool:claude", "tool:codex",
               "tool:llm", "config", "telemetry", "prices", "cache", "zstd", "platform",
               "help:claude", "help:codex", "help:llm"}


def doctor_json(cli):
    code, out, err = cli("doctor", "--json")
    document = json.loads(out)
    return code, {r["name"]: r for r in document["checks"]}, document


def test_all_green_after_install(cli, installed, all_tools):
    code, out, err = cli("doctor")
    assert code == exitcodes.OK, out + err
    check_lines = [line for line in out.splitlines()[1:] if line and not line.startswith(" ")]
    check_lines = check_lines[:-1]  # the summary
    assert len(check_lines) == len(EVERY_CHECK)
    assert all(line.startswith("✓ ") for line in check_lines), out
    assert "fix:" not in out
    # Each real tool is shown with its path and the first line of its --version output.
    assert f"{all_tools['claude']} (2.1.197 (Claude Code))" in out
    assert f"{all_tools['codex']} (codex-cli 0.169.0)" in out
    assert out.rstrip().endswith(f"all {len(EVERY_CHECK)} checks passed")


def test_json_has_every_check_and_agrees_with_the_exit_code(cli, installed, all_tools):
    code, checks, document = doctor_json(cli)
    assert set(checks) == EVERY_CHECK
    for r in checks.values():
        assert set(r) >= {"name", "ok", "severity", "status", "detail", "hint"}
        assert r["ok"] is True and r["severity"] is None and r["status"] == "ok"
    assert document["ok"] is True and document["version"] == __version__ and code == 0

    os.unlink(all_tools["codex"])
    os.unlink(os.path.join(installed, "llm"))
    code, checks, document = doctor_json(cli)
    assert code == exitcodes.ERROR and document["ok"] is False
    assert checks["tool:codex"]["status"] == "warn"  # not installed is only a warning
    assert "npm install -g @openai/codex" in checks["tool:codex"]["hint"]
    assert checks["shims"]["status"] == "fail" and "llm" in checks["shims"]["detail"]


def test_missing_tools_only_warn(cli, installed, fake_tool):
    fake_tool("claude", "2.1.197 (Claude Code)")
    code, out, _ = cli("doctor")
    assert code == exitcodes.OK, out
    assert any(line.startswith("! tool:codex") for line in out.splitlines()), out
    assert "2 warnings" in out


@pytest.mark.parametrize("rc_name, line", [
    (".profile", 'PATH="$HOME/.local/bin:$PATH"'),      # Debian's own line, after our block
    (".bashrc", "export PATH=~/.local/bin:$PATH"),
])
def test_real_tool_dir_ahead_of_the_shims_fails_with_the_line_to_move(
        cli, installed, all_tools, fake_tool, isolated_env, set_path, rc_name, line):
    home = isolated_env["home"]
    local_bin = home / ".local" / "bin"
    fake_tool("claude", "2.1.197 (Claude Code)", where=local_bin)
    rc = home / rc_name
    data = rc.read_bytes()
    assert rcfiles.find_block(data)
    rc.write_bytes(data + b"\n# added later by some installer\n" + line.encode() + b"\n")
    line_number = rc.read_text().splitlines().index(line) + 1
    set_path(local_bin, installed, all_tools["claude"].parent)

    code, checks, _ = doctor_json(cli)
    assert code == exitcodes.ERROR
    path_check = checks["path"]
    assert path_check["status"] == "fail"
    assert "~/.local/bin (the real claude) comes before" in path_check["detail"]
    assert f"`{line}` (~/{rc_name}:{line_number})" in path_check["hint"]
    assert "exec $SHELL -l" in path_check["hint"]
    # The text form says the same with the ✗ mark.
    code, out, _ = cli("doctor")
    assert "✗ path" in out and f"~/{rc_name}:{line_number}" in out


def test_shims_after_the_real_tool_without_a_culprit_line_still_fails(
        cli, installed, all_tools, set_path):
    set_path(all_tools["claude"].parent, installed)
    code, checks, _ = doctor_json(cli)
    assert code == exitcodes.ERROR
    assert checks["path"]["status"] == "fail"
    assert "claude, codex, llm" in checks["path"]["detail"]
    assert "exec $SHELL -l" in checks["path"]["hint"]


def test_shims_not_on_path(cli, installed, all_tools, set_path):
    set_path(all_tools["claude"].parent)
    code, checks, _ = doctor_json(cli)
    assert code == exitcodes.ERROR
    assert checks["path"]["detail"].endswith("is not on PATH")
    # The blocks are in place, so a new login shell is the fix; the line for this shell too.
    assert "exec $SHELL -l" in checks["path"]["hint"]
    assert f'export PATH="{installed}:$PATH"' in checks["path"]["hint"]


def test_invalid_config_is_flagged_with_its_lines(cli, installed, all_tools):
    config = paths.user_config_file()
    with open(config, "w") as fh:
        fh.write("default_agent: default\ntools:\n  claude:\n    binary: 42\n")
    code, checks, _ = doctor_json(cli)
    assert code == exitcodes.ERROR
    assert checks["config"]["status"] == "fail"
    assert f"{config}:4: tools.claude.binary" in checks["config"]["detail"]
    assert "llm-shim config validate" in checks["config"]["hint"]
    # The other checks still ran (on the built-in tools).
    assert checks["tool:claude"]["status"] == "ok"


def test_a_project_file_shows_its_trust_state(cli, installed, all_tools, tmp_path,
                                             monkeypatch):
    from shim.config import trust

    project = tmp_path / "repo" / ".llm-shim.yaml"
    project.parent.mkdir()
    project.write_text("schema_version: 1\n")
    monkeypatch.chdir(project.parent)
    code, checks, _ = doctor_json(cli)
    assert code == exitcodes.OK  # a warning: ignoring it is the safe default
    assert checks["config"]["status"] == "warn"
    assert "(project, untrusted)" in checks["config"]["detail"]
    assert f"`llm-shim trust {project}`" in checks["config"]["hint"]
    trust.trust(str(project))
    code, checks, _ = doctor_json(cli)
    assert checks["config"]["status"] == "ok"
    assert "(project, trusted)" in checks["config"]["detail"]


def _rewrite_line(path, index, text):
    lines = open(path).read().split("\n")
    lines[index] = text
    with open(path, "w") as fh:
        fh.write("\n".join(lines))


def test_stale_shims_are_flagged(cli, installed, all_tools):
    shim = os.path.join(installed, "codex")
    _rewrite_line(shim, 1, "# llm-shim shim 0.0.1: generated by `llm-shim install`; do not edit")
    code, checks, _ = doctor_json(cli)
    assert code == exitcodes.ERROR
    stale = checks["shims-current"]
    assert stale["status"] == "fail"
    assert f"codex: from llm-shim 0.0.1, this is {__version__}" in stale["detail"]
    assert "llm-shim install" in stale["hint"]
    assert checks["shims"]["status"] == "ok"  # still recognised as our shim

    assert cli("install", "--shell", "bash")[0] == 0
    code, checks, _ = doctor_json(cli)
    assert checks["shims-current"]["status"] == "ok" and code == 0


def test_shim_whose_python_is_gone_is_flagged(cli, installed, all_tools):
    _rewrite_line(os.path.join(installed, "claude"), 0, "#!/nonexistent/python3.11 -IS")
    code, checks, _ = doctor_json(cli)
    assert code == exitcodes.ERROR
    assert "claude: their Python /nonexistent/python3.11 is gone" in \
        checks["shims-current"]["detail"]
    assert "with the Python you have now" in checks["shims-current"]["hint"]


@pytest.mark.parametrize("damage", ["removed", "other-dir"])
def test_rc_block_missing_or_pointing_elsewhere(cli, installed, all_tools, isolated_env,
                                                damage):
    bashrc = isolated_env["home"] / ".bashrc"
    data = bashrc.read_bytes()
    start, end = rcfiles.find_block(data)
    if damage == "removed":
        bashrc.write_bytes(data[:start] + data[end:])
        expected = "~/.bashrc: no llm-shim block"
    else:
        bashrc.write_bytes(data.replace(installed.encode(), b"/elsewhere/shims"))
        expected = "~/.bashrc: the block does not name"
    code, checks, _ = doctor_json(cli)
    assert code == exitcodes.ERROR
    assert checks["rc-blocks"]["status"] == "fail"
    assert expected in checks["rc-blocks"]["detail"]
    assert "~/.profile" not in checks["rc-blocks"]["detail"]  # that one is intact


def test_wrapper_that_calls_the_shim_back_is_a_recursion_failure(cli, installed, fake_tool):
    fake_tool("codex", "codex-cli 0.169.0")
    fake_tool("llm", "llm, version 0.36")
    wrapper = fake_tool("claude", script='#!/bin/sh\nexec claude "$@"\n')
    code, checks, _ = doctor_json(cli)
    assert code == exitcodes.ERROR
    result = checks["tool:claude"]
    assert result["status"] == "fail"
    assert str(wrapper) in result["detail"] and "calls the claude shim back" in result["detail"]
    assert "tools.claude.binary" in result["hint"]
    assert checks["tool:codex"]["status"] == "ok"


def test_reentry_chain_already_looping_is_a_failure(cli, installed, all_tools, monkeypatch):
    real = os.path.realpath(all_tools["llm"])
    monkeypatch.setenv("_LLM_SHIM_CHAIN", os.pathsep.join([real] * 5))
    code, checks, _ = doctor_json(cli)
    assert code == exitcodes.ERROR
    assert checks["tool:llm"]["status"] == "fail"
    assert "recursive shim invocation" in checks["tool:llm"]["detail"]


def test_telemetry_database_states(cli, installed, all_tools):
    db = paths.database_file()
    code, checks, _ = doctor_json(cli)
    assert "not created yet" in checks["telemetry"]["detail"] and code == 0

    conn = sqlite3.connect(db)  # an old, empty schema: migrated and reported
    conn.execute("CREATE TABLE leftovers (x)")
    conn.close()
    code, checks, _ = doctor_json(cli)
    assert code == 0
    assert f"schema {migrations.LATEST} (current, migrated just now from 0)" in \
        checks["telemetry"]["detail"]
    code, checks, _ = doctor_json(cli)
    assert checks["telemetry"]["detail"].endswith(f"schema {migrations.LATEST} (current)")

    conn = store.connect(db)
    conn.execute(f"PRAGMA user_version = {migrations.LATEST + 1}")
    conn.close()
    code, checks, _ = doctor_json(cli)
    assert checks["telemetry"]["status"] == "warn" and code == 0
    assert "newer than this llm-shim" in checks["telemetry"]["detail"]

    for suffix in ("-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.unlink(db + suffix)
    with open(db, "wb") as fh:
        fh.write(b"this is not a database at all" * 200)
    code, checks, _ = doctor_json(cli)
    assert code == exitcodes.ERROR
    assert checks["telemetry"]["status"] == "fail"
    assert "llm-shim logs repair" in checks["telemetry"]["hint"]


def test_symlinked_database_fails_and_its_target_is_untouched(cli, installed, all_tools,
                                                              tmp_path):
    victim = tmp_path / "victim.db"
    victim.write_bytes(b"precious")
    victim.chmod(0o644)
    os.makedirs(paths.data_dir(), exist_ok=True)
    os.symlink(victim, paths.database_file())
    code, checks, _ = doctor_json(cli)
    assert code == exitcodes.ERROR and checks["telemetry"]["status"] == "fail"
    assert "is a symlink" in checks["telemetry"]["detail"]
    assert victim.read_bytes() == b"precious" and victim.stat().st_mode & 0o777 == 0o644


def test_unwritable_cache_fails(cli, installed, all_tools):
    cache = paths.cache_dir()
    shutil.rmtree(cache, ignore_errors=True)
    with open(cache, "w") as fh:  # a file where the directory should be: nothing can go in it
        fh.write("in the way\n")
    code, checks, _ = doctor_json(cli)
    assert code == exitcodes.ERROR and checks["cache"]["status"] == "fail"
    assert "recompiles the config" in checks["cache"]["detail"]


def test_slow_tool_is_a_warning_and_is_killed(cli, installed, all_tools, fake_tool, tmp_path):
    pid_file = tmp_path / "slow.pid"
    sleep = shutil.which("sleep", path="/usr/bin:/bin")
    fake_tool("codex", script=f"#!/bin/sh\necho $$ > {pid_file}\nexec {sleep} 30\n")
    code, out, _ = cli("doctor", "--timeout", "0.5")
    assert code == exitcodes.OK, out
    assert "! tool:codex" in out and "did not answer `--version` in time" in out
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_crashing_check_is_a_failed_line_not_a_traceback(cli, installed, all_tools,
                                                           monkeypatch):
    from shim.doctor import checks

    def boom(ctx):
        raise RuntimeError("disk on fire")
    monkeypatch.setattr(checks, "check_cache", boom)
    code, checks_by_name, _ = doctor_json(cli)
    assert code == exitcodes.ERROR
    assert "RuntimeError: disk on fire" in checks_by_name["cache"]["detail"]
    assert checks_by_name["telemetry"]["status"] == "ok"


def test_not_installed_says_so(cli, isolated_env, fake_bin, all_tools, set_path):
    set_path(fake_bin)
    code, checks, _ = doctor_json(cli)
    assert code == exitcodes.ERROR
    assert "llm-shim is not installed" in checks["shims"]["detail"]
    assert checks["shims"]["hint"] == "run `llm-shim install`"
    assert checks["tool:claude"]["status"] == "ok"


def test_recorded_models_without_a_price_are_listed_with_the_fix(cli, installed, all_tools):
    code, checks, _ = doctor_json(cli)
    assert checks["prices"]["ok"] and checks["prices"]["detail"] == "no calls recorded yet"
    conn = store.connect()
    base = {"started_at": 1.8e9, "attempt": 1, "agent": "a", "tool": "claude",
            "exit_code": 0, "blocked": 0, "reasons": []}
    store.insert_attempts(conn, [
        dict(base, invocation_id="1" * 32, model="claude-sonnet-5", cost_usd=0.5),
        dict(base, invocation_id="2" * 32, model="claude-mystery-9", cost_usd=None),
        dict(base, invocation_id="3" * 32, model="claude-mystery-9", cost_usd=None),
        dict(base, invocation_id="4" * 32, model="claude-mystery-9", cost_usd=None, blocked=1),
    ])
    conn.close()
    code, checks, _ = doctor_json(cli)
    assert code == 0 and checks["prices"]["status"] == "warn"
    assert checks["prices"]["detail"] == \
        "recorded models with unpriced attempts: no price: claude-mystery-9 (2 attempts)"
    assert "models.<id>.prices" in checks["prices"]["hint"]
    assert "llm-shim prices update" in checks["prices"]["hint"]


def test_a_copied_home_is_checked_as_itself_not_mixed_with_the_old_one(
        cli, installed, all_tools, isolated_env, monkeypatch, set_path, fake_bin):
    old_home = paths.data_dir()
    new_home = str(isolated_env["tmp"] / "copied-home")
    shutil.copytree(old_home, new_home, symlinks=True)
    monkeypatch.setenv("LLM_SHIM_HOME", new_home)
    set_path(os.path.join(new_home, "shims"), fake_bin)
    code, checks, _ = doctor_json(cli)
    shims = checks["shims"]
    assert shims["status"] == "warn"
    assert shims["detail"].startswith(os.path.join(new_home, "shims") + ": this LLM_SHIM_HOME "
                                      f"is a copy of {old_home}")
    assert "llm-shim install" in shims["hint"]
    # the PATH check looks at the same (new) shims dir, not the old one
    assert checks["path"]["ok"], checks["path"]
