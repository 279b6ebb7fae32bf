"""LLM_SHIM_DRY_RUN=1 never runs the real tool, on any path, and what llm-shim prints to a
closed, full or broken stdout never ends in a traceback or `Exception ignored` (exit 120)."""

import json
import os
import subprocess

import pytest

from tests.support.launchers import write_launcher

DRY = {"LLM_SHIM_DRY_RUN": "1"}
BROKEN = "schema_version: 1\nagents: {x: {tool: nope}}\n"


@pytest.fixture
def claude(fake_cli):
    return fake_cli("claude")


def _view(proc):
    out = proc.stdout.decode()
    assert out.startswith("llm-shim dry run (nothing was run):\n"), out
    return json.loads(out.split("\n", 1)[1])


def _clean(proc):
    err = proc.stderr.decode()
    assert "Traceback" not in err and "Exception ignored" not in err, err
    return err


def test_dry_run_with_a_bad_config_runs_nothing(run_shim, claude, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("tools: [unclosed\n")
    proc = run_shim(["claude", "-p", "hi"], env={**DRY, "LLM_SHIM_CONFIG": str(bad)})
    assert proc.returncode == 0, proc.stderr
    assert claude.calls() == []  # failed open to... nothing: it is a dry run
    view = _view(proc)
    assert view["would_run"] is True
    assert view["real_binary"] == str(claude.path)
    assert view["argv"] == ["claude", "-p", "hi"]
    assert "YAML syntax error" in view["because"]
    err = _clean(proc).splitlines()
    assert len(err) == 1 and err[0].startswith("llm-shim: warning: config: ")
    assert "dry run: the real claude would run unchanged; nothing was run" in err[0]


def test_dry_run_with_llm_shim_disable_runs_nothing(run_shim, claude):
    proc = run_shim(["claude", "-p", "hi"], env={**DRY, "LLM_SHIM_DISABLE": "1"})
    assert proc.returncode == 0, proc.stderr
    assert claude.calls() == []
    view = _view(proc)
    assert view["because"].startswith("LLM_SHIM_DISABLE=1")
    assert view["argv"] == ["claude", "-p", "hi"] and view["real_binary"] == str(claude.path)


def test_dry_run_with_on_error_block_and_a_broken_config_says_it_would_refuse(
        run_shim, claude, tmp_path, isolated_env):
    user = isolated_env["shim_home"] / "config.yaml"
    user.parent.mkdir(parents=True, exist_ok=True)
    user.write_text("schema_version: 1\npolicies:\n  on_error: block\n")
    broken = tmp_path / "env.yaml"
    broken.write_text(BROKEN)
    proc = run_shim(["claude", "-p", "hi"], env={**DRY, "LLM_SHIM_CONFIG": str(broken)})
    assert proc.returncode == 0, proc.stderr
    assert claude.calls() == []
    view = _view(proc)
    assert view["would_run"] is False and view["refused"] == "policies.on_error is block"
    assert "policies.on_error is block, so claude was not run" in _clean(proc)


@pytest.mark.parametrize("disable", ["0", "1"])
def test_dry_run_with_no_real_binary_says_so_and_runs_nothing(run_shim, shims, disable):
    proc = run_shim(["claude", "-p", "hi"], path=[shims, "/usr/bin", "/bin"],
                    env={**DRY, "LLM_SHIM_DISABLE": disable})
    assert proc.returncode == 0, proc.stderr
    view = _view(proc)
    assert view["would_run"] is False and view["real_binary"] is None
    assert "the real claude is not on PATH" in _clean(proc)


def test_dry_run_of_an_unconfigured_tool_runs_nothing(run_shim, shims, fake_cli):
    aider = fake_cli("aider")
    write_launcher(shims / "aider")
    proc = run_shim(["aider", "--yes"], env=DRY)
    assert proc.returncode == 0, proc.stderr
    assert aider.calls() == []
    assert _view(proc)["argv"] == ["aider", "--yes"]


def test_dry_run_with_argv_that_is_not_utf8(run_shim, claude):
    proc = run_shim([b"claude", b"-p", b"caf\xff"], env={**DRY, "LC_ALL": "en_US.UTF-8"})
    assert proc.returncode == 0, proc.stderr
    assert claude.calls() == []
    _clean(proc)
    assert "dry run" in proc.stdout.decode("utf-8", "replace")


# ---- stdout closed, full, or a pipe nobody reads -------------------------------------------

def _closed_pipe():
    """A pipe whose reader is already gone: the first write fails with EPIPE."""
    r, w = os.pipe()
    os.close(r)
    return w


SHIM_CALL = ["claude", "-p", "hi"]


@pytest.mark.parametrize("argv,env", [(SHIM_CALL, DRY), (["llm-shim", "version"], {})])
def test_stdout_closed_is_not_a_traceback(run_shim, claude, argv, env):
    # `>&-`: Python starts with sys.stdout None.
    proc = run_shim(["sh", "-c", 'exec "$@" >&-', "sh"] + argv, env=env)
    assert proc.returncode == 0, proc.stderr
    assert _clean(proc) == ""
    assert claude.calls() == []


@pytest.mark.parametrize("argv,env,what", [
    (SHIM_CALL, DRY, "llm-shim: dry run: cannot write the decision to stdout: "),
    (["llm-shim", "version"], {}, "llm-shim: stdout: cannot write: "),
])
def test_stdout_full_is_one_line_and_exit_1(run_shim, claude, argv, env, what):
    with open("/dev/full", "wb") as full:
        proc = run_shim(argv, env=env, stdout=full, stderr=subprocess.PIPE, capture_output=False)
    assert proc.returncode == 1, proc.stderr
    lines = _clean(proc).splitlines()
    assert len(lines) == 1 and lines[0].startswith(what + "No space left on device"), lines
    assert claude.calls() == []


@pytest.mark.parametrize("argv,env", [(SHIM_CALL, DRY), (["llm-shim", "version"], {})])
def test_stdout_pipe_with_no_reader_is_quiet(run_shim, claude, argv, env):
    w = _closed_pipe()
    try:
        proc = run_shim(argv, env=env, stdout=w, stderr=subprocess.PIPE, capture_output=False)
    finally:
        os.close(w)
    assert proc.returncode == 0, proc.stderr
    assert _clean(proc) == ""
    assert claude.calls() == []


def test_stderr_closed_still_fails_open_and_runs_the_tool(run_shim, fake_cli, tmp_path):
    # The warning has nowhere to go (sys.stderr is None); the call must still run.
    ran = tmp_path / "ran"
    fake_cli("claude", script=f'#!/bin/sh\necho "$@" > {ran}\nexit 3\n')
    bad = tmp_path / "bad.yaml"
    bad.write_text("tools: [unclosed\n")
    proc = run_shim(["sh", "-c", 'exec "$@" 2>&-', "sh", "claude", "-p", "hi"],
                    env={"LLM_SHIM_CONFIG": str(bad)})
    assert ran.read_text() == "-p hi\n"
    assert proc.returncode == 3


def test_stderr_closed_with_a_missing_binary_keeps_the_exit_code(run_shim, shims):
    proc = run_shim(["sh", "-c", 'exec "$@" 2>&-', "sh", "claude", "-p", "hi"],
                    path=[shims, "/usr/bin", "/bin"])
    assert proc.returncode == 127
