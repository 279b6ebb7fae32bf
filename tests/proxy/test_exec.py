"""`llm-shim exec` routes and records a one-shot call exactly like a shim call."""

import ast


def _spool_records(shim_home):
    spool = shim_home / "spool" / "spool.log"
    records = [ast.literal_eval(line) for line in spool.read_text().splitlines()] \
        if spool.exists() else []
    return [r for r in records if r.get("kind") != "start"]  # the end records


def test_exec_routes_a_simple_prompt_to_the_cheap_model(run_shim, shims, fake_cli, isolated_env):
    claude = fake_cli("claude")
    proc = run_shim([str(shims / "llm-shim"), "exec", "--agent", "auto", "fix the typo in README"],
                    env={"FAKE_STDOUT": "done\n"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b"done\n"
    argv = claude.calls()[0]["argv_text"]
    assert argv[argv.index("--model") + 1] == "claude-haiku-4-5-20251001"
    assert argv[argv.index("-p") + 1] == "fix the typo in README"
    records = _spool_records(isolated_env["shim_home"])
    assert [(r["agent"], r["tool"], r["model"], r["tier"]) for r in records] == [
        ("auto", "claude", "claude-haiku-4-5-20251001", "cheap")]


def test_exec_reads_the_prompt_from_stdin_and_honours_tool_and_model(run_shim, shims, fake_cli):
    """A prompt piped in reaches the tool on its stdin, as `git diff | codex exec` would."""
    codex = fake_cli("codex")
    proc = run_shim([str(shims / "llm-shim"), "exec", "--agent", "default", "--tool", "codex",
                     "--model", "gpt-5.5"], input=b"explain this diff\n",
                    env={"FAKE_READ_STDIN": "1"})
    assert proc.returncode == 0, proc.stderr
    call = codex.calls()[0]
    assert call["argv_text"][0] == "exec"
    assert "gpt-5.5" in call["argv_text"]
    assert "explain this diff\n" not in call["argv_text"]
    assert call["stdin_len"] == len(b"explain this diff\n")


def test_exec_a_prompt_larger_than_an_argument_can_be(run_shim, shims, fake_cli, isolated_env):
    """200 KB piped in (Linux caps one argument at 128 KiB): it reaches claude on stdin,
    whole, and is still classified and recorded."""
    import hashlib

    claude = fake_cli("claude")
    prompt = ("Refactor this module step by step and explain the architecture. " * 3200).encode()
    assert len(prompt) > 200_000
    proc = run_shim([str(shims / "llm-shim"), "exec", "--agent", "auto"], input=prompt,
                    env={"FAKE_READ_STDIN": "1", "FAKE_STDOUT": "ok\n"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b"ok\n"
    call = claude.calls()[0]
    assert call["stdin_len"] == len(prompt)
    assert call["stdin_sha256"] == hashlib.sha256(prompt).hexdigest()
    assert "-p" in call["argv_text"] and max(len(a) for a in call["argv_text"]) < 1000
    (record,) = _spool_records(isolated_env["shim_home"])
    assert record["complexity"] == "complex" and record["prompt_chars"] == len(prompt)


def test_exec_without_a_prompt_is_a_usage_error(run_shim, shims, fake_cli):
    fake_cli("claude")
    proc = run_shim([str(shims / "llm-shim"), "exec", "--agent", "auto"], input=b"")
    assert proc.returncode == 2
    assert proc.stderr.decode().startswith("llm-shim: exec: the prompt is empty")


def test_exec_exit_code_is_the_tools(run_shim, shims, fake_cli):
    fake_cli("claude")
    proc = run_shim([str(shims / "llm-shim"), "exec", "--agent", "default", "hi"],
                    env={"FAKE_EXIT": "3"})
    assert proc.returncode == 3
