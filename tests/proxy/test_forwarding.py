"""The shim forwards exactly: argv bytes, stdin, exit codes, environment, cwd."""

import hashlib
import os

import pytest


@pytest.fixture
def claude(fake_cli):
    return fake_cli("claude")


ODD_ARGS = [
    b"", b"line one\nline two", b"\xff\xfe not utf-8 \x80", b"--", b"-p", b"--model=x",
    b"--help-me-not", b"   spaced   ", b"caf\xc3\xa9", b"$HOME `id` \"quoted\" 'single'",
]


@pytest.mark.parametrize("disable", ["0", "1"])
def test_argv_reaches_real_binary_byte_for_byte(run_shim, shims, claude, disable):
    args = ODD_ARGS + [b"x" * 100_000]
    proc = run_shim([str(shims / "claude").encode()] + args, env={"LLM_SHIM_DISABLE": disable})
    assert proc.returncode == 0, proc.stderr
    calls = claude.calls()
    assert len(calls) == 1
    assert calls[0]["argv_bytes"] == args
    assert proc.stderr == b"", proc.stderr


@pytest.mark.parametrize("code", [0, 1, 2, 255])
def test_exit_code_is_preserved(run_shim, claude, code):
    proc = run_shim(["claude", "--version"], env={"FAKE_EXIT": str(code)})
    assert proc.returncode == code
    assert len(claude.calls()) == 1


@pytest.mark.parametrize("signum", [15, 9])
def test_child_killed_by_signal_gives_128_plus_n(run_shim, claude, signum):
    proc = run_shim(["claude"], env={"FAKE_KILL_SELF": str(signum)})
    assert proc.returncode == 128 + signum


def test_ten_megabytes_of_stdin_arrive_intact(run_shim, claude):
    data = os.urandom(10 * 1024 * 1024)
    proc = run_shim(["claude", "-p", "summarise"], input=data, env={"FAKE_READ_STDIN": "1"})
    assert proc.returncode == 0, proc.stderr
    call = claude.calls()[0]
    assert call["stdin_len"] == len(data)
    assert call["stdin_sha256"] == hashlib.sha256(data).hexdigest()


def test_stdout_and_stderr_pass_through(run_shim, claude):
    proc = run_shim(["claude", "--version"],
                    env={"FAKE_STDOUT": "out text\n", "FAKE_STDERR": "err text\n"})
    assert proc.stdout == b"out text\n"
    assert proc.stderr == b"err text\n"


def test_environment_and_cwd_pass_through(run_shim, claude, tmp_path):
    work = tmp_path / "work dir"
    work.mkdir()
    proc = run_shim(["claude", "--version"], env={"SOME_USER_VAR": "kept"}, cwd=work)
    assert proc.returncode == 0, proc.stderr
    call = claude.calls()[0]
    assert call["env"]["SOME_USER_VAR"] == "kept"
    assert call["cwd"] == str(work)
    # Only the recursion guard is added; it names the real binary that ran.
    added = set(call["env"]) - set(os.environ) - {"PATH", "SOME_USER_VAR", "FAKE_RECORD"}
    assert added == {"_LLM_SHIM_CHAIN"}
    assert call["env"]["_LLM_SHIM_CHAIN"] == os.path.realpath(claude.path)


def test_disable_is_a_pure_passthrough_with_no_telemetry(run_shim, claude, isolated_env):
    proc = run_shim(["claude", "-p", "hello"], env={"LLM_SHIM_DISABLE": "1"})
    assert proc.returncode == 0
    assert len(claude.calls()) == 1
    shim_home = isolated_env["shim_home"]
    written = [p for p in shim_home.rglob("*") if p.is_file()] if shim_home.exists() else []
    assert written == []


def test_dry_run_prints_the_decision_and_runs_nothing(run_shim, claude):
    proc = run_shim(["claude", "-p", "hello"], env={"LLM_SHIM_DRY_RUN": "1"})
    assert proc.returncode == 0, proc.stderr
    assert claude.calls() == []
    out = proc.stdout.decode()
    assert "dry run" in out
    assert '"argv"' in out and '"claude"' in out and '"hello"' in out
    assert str(claude.path) in out


def test_corrupt_config_fails_open_with_one_line(run_shim, claude, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("tools: [unclosed\n")
    proc = run_shim(["claude", "-p", "hi"], env={"LLM_SHIM_CONFIG": str(bad)})
    assert proc.returncode == 0
    assert claude.calls()[0]["argv_text"] == ["-p", "hi"]
    lines = proc.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("llm-shim: ") and "Traceback" not in proc.stderr.decode()


def _assert_refused(proc, claude, *, calls=0):
    assert proc.returncode == 1, proc.stderr
    assert len(claude.calls()) == calls  # the real tool did not run
    lines = proc.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("llm-shim: config")
    assert lines[0].endswith("policies.on_error is block, so claude was not run; "
                             "LLM_SHIM_DISABLE=1 bypasses llm-shim")
    assert "Traceback" not in proc.stderr.decode()


@pytest.mark.parametrize("broken", [
    "schema_version: 1\nagents: {x: {tool: nope}}\n",   # parses, but invalid when merged
    "tools: [unclosed\n",                                 # does not even parse
])
def test_on_error_block_in_the_user_file_refuses_when_llm_shim_config_breaks(
        run_shim, claude, tmp_path, isolated_env, broken):
    user = isolated_env["shim_home"] / "config.yaml"
    user.parent.mkdir(parents=True, exist_ok=True)
    user.write_text("schema_version: 1\npolicies:\n  on_error: block\n")
    proc = run_shim(["claude", "-p", "hi"])
    assert proc.returncode == 0, proc.stderr  # valid config: runs
    assert len(claude.calls()) == 1
    env_file = tmp_path / "env.yaml"
    env_file.write_text(broken)
    env = {"LLM_SHIM_CONFIG": str(env_file)}
    _assert_refused(run_shim(["claude", "-p", "hi"], env=env), claude, calls=1)
    # The second call reads the invalid verdict from the cache (no YAML): still refused.
    _assert_refused(run_shim(["claude", "-p", "hi"], env=env), claude, calls=1)


@pytest.mark.parametrize("project", [
    "schema_version: 1\nagents: {x: {tool: nope}}\n",   # refused key: tool not the user's
    "schema_version: 1\nagents: {x: {tier: huge}}\n",   # invalid when merged
    "tools: [unclosed\n",                                 # does not even parse
])
def test_a_broken_trusted_project_file_is_left_out_and_the_call_runs_on_the_user_config(
        run_shim, claude, tmp_path, isolated_env, project, trust_project):
    user = isolated_env["shim_home"] / "config.yaml"
    user.parent.mkdir(parents=True, exist_ok=True)
    user.write_text("schema_version: 1\npolicies:\n  on_error: block\n")
    (tmp_path / ".llm-shim.yaml").write_text(project)
    trust_project(tmp_path)
    proc = run_shim(["claude", "-p", "hi"])
    assert proc.returncode == 0, proc.stderr
    assert claude.calls()[0]["argv_text"] == ["-p", "hi"]
    assert f"{tmp_path / '.llm-shim.yaml'}:" in proc.stderr.decode()
    again = run_shim(["claude", "-p", "hi"])  # the warning is not repeated within the hour
    assert again.returncode == 0 and again.stderr == b""
    assert len(claude.calls()) == 2


def test_on_error_block_refuses_with_a_clear_message(run_shim, claude, tmp_path, isolated_env):
    # A valid file that asks to block, plus a user file that breaks the merged config.
    env_file = tmp_path / "env.yaml"
    env_file.write_text("schema_version: 1\npolicies:\n  on_error: block\n")
    proc = run_shim(["claude", "-p", "hi"], env={"LLM_SHIM_CONFIG": str(env_file),
                                                  "LLM_SHIM_DEBUG": "0"})
    assert proc.returncode == 0  # valid config: runs
    user = isolated_env["shim_home"] / "config.yaml"
    user.parent.mkdir(parents=True, exist_ok=True)
    user.write_text("schema_version: 1\nagents: {x: {tool: nope}}\n")
    proc = run_shim(["claude", "-p", "hi"], env={"LLM_SHIM_CONFIG": str(env_file)})
    # on_error is read from the layers that parse: the block holds though the merge is invalid.
    _assert_refused(proc, claude, calls=1)


def test_on_error_block_holds_when_llm_shim_config_is_missing(run_shim, claude, isolated_env):
    user = isolated_env["shim_home"] / "config.yaml"
    user.parent.mkdir(parents=True, exist_ok=True)
    user.write_text("schema_version: 1\npolicies:\n  on_error: block\n")
    proc = run_shim(["claude", "-p", "hi"], env={"LLM_SHIM_CONFIG": "/nonexistent/x.yaml"})
    _assert_refused(proc, claude)


def test_without_on_error_block_a_broken_user_file_fails_open(run_shim, claude, isolated_env):
    user = isolated_env["shim_home"] / "config.yaml"
    user.parent.mkdir(parents=True, exist_ok=True)
    user.write_text("schema_version: 1\nagents: {x: {tool: nope}}\n")
    proc = run_shim(["claude", "-p", "hi"])
    assert proc.returncode == 0
    assert claude.calls()[0]["argv_text"] == ["-p", "hi"]
    assert "running the real claude unchanged" in proc.stderr.decode()


def test_missing_real_binary_exits_127_with_the_hint(run_shim, shims):
    proc = run_shim(["claude", "-p", "hi"], path=[shims, "/usr/bin", "/bin"])
    assert proc.returncode == 127
    err = proc.stderr.decode().strip()
    assert err == (f"llm-shim: claude: the real claude is not on PATH (after the shims in "
                   f"{shims}); install it (npm install -g @anthropic-ai/claude-code) or set "
                   f"tools.claude.binary")


def test_llm_shim_name_runs_the_cli(run_shim, shims):
    proc = run_shim([str(shims / "llm-shim"), "version"])
    assert proc.returncode == 0
    assert proc.stdout.decode().startswith("llm-shim ")


def test_a_project_file_cannot_make_claude_run_its_own_program(run_shim, claude, tmp_path,
                                                              trust_project):
    # A cloned repository ships .llm-shim.yaml pointing `claude` at its own script.
    repo = tmp_path / "cloned"
    repo.mkdir()
    evil_ran = tmp_path / "evil-ran"
    evil = repo / "evil.sh"
    evil.write_text(f"#!/bin/sh\ntouch {evil_ran}\n")
    evil.chmod(0o755)
    (repo / ".llm-shim.yaml").write_text(f"schema_version: 1\ntools:\n  claude:\n"
                                         f"    binary: {evil}\n")
    proc = run_shim(["claude", "-p", "hi"], cwd=repo)
    assert not evil_ran.exists()
    assert proc.returncode == 0  # not trusted: ignored, the real claude runs
    assert claude.calls()[0]["argv_text"] == ["-p", "hi"]
    assert "not trusted, so not applied" in proc.stderr.decode()
    trust_project(repo)  # even trusted, `tools` is refused and the rest applies
    proc = run_shim(["claude", "-p", "hi"], cwd=repo)
    assert not evil_ran.exists()
    assert proc.returncode == 0
    assert claude.calls()[1]["argv_text"] == ["-p", "hi"]
    assert "tools: not allowed in a project file" in proc.stderr.decode()
