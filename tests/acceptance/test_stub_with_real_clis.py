"""The acceptance infrastructure proves itself: the REAL claude, codex and llm (no shim) complete
prompts against our stub inside the private network namespace, see its failures as REAL_CLIS.md
describes, and an interactive claude answers under a pty. The shim scenarios build on this.
"""

import errno
import json
import stat
import subprocess
import sys

import pytest

import hermetic
from tests.support import pty_driver
from stub_server import DEFAULT_REPLY

pytestmark = pytest.mark.acceptance


def claude_json(result):
    """The one JSON result line claude -p --output-format json prints."""
    assert result.stdout.strip(), f"no stdout; rc={result.returncode} stderr={result.stderr!r}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def jsonl(text):
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_pinned_versions_are_what_runs(real_env):
    """Given the pins in install/versions.env, when each real CLI prints its version,
    then it is exactly the pinned one."""
    pins = real_env.clis.versions
    expected = {"claude": f"{pins['CLAUDE_CODE_VERSION']} (Claude Code)",
                "codex": f"codex-cli {pins['CODEX_VERSION']}",
                "llm": f"llm, version {pins['LLM_VERSION']}"}
    for tool, line in expected.items():
        result = real_env.run([tool, "--version"], timeout=30)
        assert (result.returncode, result.stdout.strip()) == (0, line), result.stderr


def test_namespace_has_only_loopback(stub_namespace):
    """Given the stub's network namespace, when a process inside connects to an outside
    address, then there is no route; and the stub is reachable on loopback there."""
    namespace, server = stub_namespace
    probe = ("import socket,sys\n"
             "try:\n socket.create_connection(('10.255.255.53', 53), timeout=3)\n"
             "except OSError as e:\n print('outside', e.errno)\n"
             "socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=3)\nprint('stub ok')\n")
    result = subprocess.run(namespace.command([sys.executable, "-c", probe, str(server.port)]),
                            capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert result.stdout.split("\n")[:2] == [f"outside {errno.ENETUNREACH}", "stub ok"], result.stderr


def test_claude_print_json_gets_stub_reply_and_usage(real_env, stub):
    """Given the stub, when the real `claude -p --output-format json` runs, then it prints the
    stub's reply with the stub's usage, and the stub saw exactly one streamed Messages call."""
    result = real_env.run(["claude", "-p", "say hi", "--output-format", "json", "--model", "sonnet"])
    out = claude_json(result)
    assert result.returncode == 0, result.stdout
    assert (out["is_error"], out["result"]) == (False, DEFAULT_REPLY)
    assert {k: out["usage"][k] for k in ("input_tokens", "output_tokens", "cache_creation_input_tokens",
                                         "cache_read_input_tokens")} == {
        "input_tokens": 11, "output_tokens": 7, "cache_creation_input_tokens": 5,
        "cache_read_input_tokens": 3}
    calls = stub.requests(model_calls=True)
    # claude 2.1.332 resolves the alias `sonnet` to claude-sonnet-5-5 (2.1.197: claude-sonnet-5).
    assert [(c["route"], c["model"], c["stream"], c["status"]) for c in calls] == [
        ("/v1/messages", "claude-sonnet-5-5", True, 200)]
    assert "say hi" in calls[0]["prompt"]
    assert calls[0]["headers"]["user-agent"].endswith("(external, sdk-cli)")


def test_codex_exec_json_gets_stub_reply_and_usage(real_env, stub):
    """Given the quiet codex config pointing at the stub, when the real `codex exec --json` runs,
    then the agent message is the stub's reply and turn.completed carries the stub's usage."""
    result = real_env.run(["codex", "exec", "--json", "--skip-git-repo-check", "say hi"])
    assert result.returncode == 0, result.stderr
    events = jsonl(result.stdout)
    messages = [e["item"]["text"] for e in events
                if e["type"] == "item.completed" and e["item"]["type"] == "agent_message"]
    assert messages == [DEFAULT_REPLY]
    usage = [e["usage"] for e in events if e["type"] == "turn.completed"]
    assert usage and {k: usage[0][k] for k in ("input_tokens", "cached_input_tokens", "output_tokens",
                                               "reasoning_output_tokens")} == {
        "input_tokens": 11, "cached_input_tokens": 4, "output_tokens": 7, "reasoning_output_tokens": 2}
    calls = stub.requests(model_calls=True)
    assert [(c["route"], c["model"], c["status"]) for c in calls] == [
        ("/v1/responses", hermetic.CODEX_MODEL, 200)]
    assert "say hi" in calls[0]["prompt"]


def test_llm_chat_model_gets_stub_reply_and_logs_usage(real_env, stub):
    """Given OPENAI_BASE_URL at the stub, when the real `llm -m gpt-4o-mini -u` runs, then it
    prints the reply, reports the stub's usage, and logs it in its own logs.db."""
    result = real_env.run(["llm", "-m", "gpt-4o-mini", "say hi", "-u"])
    assert (result.returncode, result.stdout.strip()) == (0, DEFAULT_REPLY), result.stderr
    assert "Token usage: 11 input, 7 output" in result.stderr
    calls = stub.requests(model_calls=True)
    assert [(c["route"], c["model"], c["stream"]) for c in calls] == [
        ("/v1/chat/completions", "gpt-4o-mini", True)]
    assert calls[0]["body"]["stream_options"] == {"include_usage": True}
    logs = json.loads(real_env.run(["llm", "logs", "--json", "-n", "1"]).stdout)
    assert [(r["model"], r["input_tokens"], r["output_tokens"]) for r in logs] == [("gpt-4o-mini", 11, 7)]


def test_llm_echo_model_needs_no_server(real_env, stub):
    """Given the llm-echo plugin, when `llm -m echo hi` runs, then it echoes the prompt as JSON
    and nothing reaches the stub."""
    result = real_env.run(["llm", "-m", "echo", "hi"])
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["prompt"] == "hi"
    assert stub.requests(model_calls=True) == []


def test_claude_reports_a_429_as_an_api_error(real_env, stub):
    """Given the stub answering 429, when claude -p --output-format json runs, then it exits 1
    with is_error and api_error_status 429, after a single request (retries are off)."""
    stub.set_mode("429")
    result = real_env.run(["claude", "-p", "say hi", "--output-format", "json"])
    out = claude_json(result)
    assert result.returncode == 1
    assert (out["is_error"], out["api_error_status"]) == (True, 429)
    assert [c["status"] for c in stub.requests(model_calls=True)] == [429]


def test_codex_reports_a_429_as_a_failed_turn(real_env, stub):
    """Given the stub answering 429 on the Responses API only, when codex exec --json runs, then
    it ends with turn.failed and exit 1 after one request."""
    stub.set_mode("429", api="responses")
    result = real_env.run(["codex", "exec", "--json", "--skip-git-repo-check", "say hi"])
    assert result.returncode == 1
    failed = [e for e in jsonl(result.stdout) if e["type"] == "turn.failed"]
    assert failed and "429" in failed[0]["error"]["message"]
    assert [c["status"] for c in stub.requests(model_calls=True)] == [429]


def test_modes_in_the_base_url_apply_per_cli(real_env, stub):
    """Given a /mode/529 prefix in claude's base URL only, when claude and then codex run, then
    claude sees 529 and codex, on the plain URL, succeeds: one stub, two behaviours."""
    claude = real_env.run(["claude", "-p", "say hi", "--output-format", "json"],
                          extra_env={"ANTHROPIC_BASE_URL": f"{stub.url}/mode/529"})
    codex = real_env.run(["codex", "exec", "--skip-git-repo-check", "say hi"])
    assert (claude.returncode, claude_json(claude)["api_error_status"]) == (1, 529)
    assert (codex.returncode, codex.stdout.strip()) == (0, DEFAULT_REPLY)
    assert [(c["api"], c["status"]) for c in stub.requests(model_calls=True)] == [
        ("anthropic", 529), ("responses", 200)]


def test_path_prefix_puts_a_wrapper_in_front_of_the_real_cli(real_env, tmp_path):
    """Given a wrapper named claude in a directory passed as path_prefix (what our shims dir
    will be), when `claude --version` runs, then the wrapper runs first and the real CLI after."""
    wrappers = tmp_path / "wrappers"
    wrappers.mkdir()
    wrapper = wrappers / "claude"
    wrapper.write_text(f'#!/bin/sh\necho "wrapper: $LLM_SHIM_HOME" >&2\nexec {real_env.claude} "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    result = real_env.run(["claude", "--version"], path_prefix=[wrappers], timeout=30)
    assert result.returncode == 0
    assert result.stdout.startswith(real_env.clis.versions["CLAUDE_CODE_VERSION"])
    assert result.stderr.strip() == f"wrapper: {real_env.shim_home}"


def test_interactive_claude_answers_under_a_pty(real_env, stub):
    """Given pre-seeded onboarding, when the real claude starts interactively under a pty and a
    prompt is typed, then the stub's reply appears on the screen, the request came from the
    interactive TUI (not -p), and /exit ends it with 0."""
    result = pty_driver.interactive_claude(real_env, real_env.claude)
    assert result.answered, result
    assert result.returncode == 0, result
    calls = stub.requests(model_calls=True)
    assert len(calls) == 1 and "Say hi" in calls[0]["prompt"]
    assert calls[0]["headers"]["user-agent"].endswith("(external, cli)")
