"""`llm-shim which [--json] TOOL [ARGS...]`: the real binary and the route, nothing run."""

import json

from shim import exitcodes, paths


def test_prints_the_real_path_first_then_the_route(cli, fake_tool, set_path, fake_bin, tmp_path):
    claude = fake_tool("claude", script="#!/bin/sh\necho ran >> %s\n" % (tmp_path / "ran"))
    set_path(fake_bin)
    code, out, err = cli("which", "claude", "-p", "rename x to y")
    assert code == exitcodes.OK, err
    lines = out.splitlines()
    assert lines[0] == str(claude)
    assert any(line.strip().startswith("agent:") for line in lines)
    assert "claude -p 'rename x to y'" in out
    assert not (tmp_path / "ran").exists()  # nothing was run
    # No shim in front of it on this PATH: which says calls bypass llm-shim.
    assert "not the shim" in out


def test_json_route_follows_the_agent(cli, fake_tool, set_path, fake_bin, tmp_path):
    fake_tool("claude")
    fake_tool("codex")
    set_path(fake_bin)
    code, out, _ = cli("which", "--json", "--agent", "auto", "claude", "-p", "rename x to y")
    assert code == 0
    info = json.loads(out)
    route = info["route"]
    assert route["agent"] == "auto"
    assert route["tool_requested"] == "claude"
    assert info["real_binary"] == str(fake_bin / route["tool"])
    assert route["argv"][0] == route["tool"] and route["reasons"]
    assert info["shimmed"] is False


def test_tool_options_after_the_tool_belong_to_it(cli, fake_tool, set_path, fake_bin):
    fake_tool("codex")
    set_path(fake_bin)
    code, out, _ = cli("which", "--json", "codex", "exec", "--json", "fix the test")
    assert code == 0
    route = json.loads(out)["route"]
    assert route["argv"] == ["codex", "exec", "--json", "fix the test"]
    assert route["output_format"] == "jsonl"


def test_missing_tool_exits_127_with_the_not_found_message(cli, set_path, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    set_path(empty)
    code, out, err = cli("which", "codex", "exec", "fix the test")
    assert code == exitcodes.NOT_FOUND == 127
    assert out == ""  # no path for `$(llm-shim which codex | head -n1)` to pick up
    assert err.startswith("llm-shim: codex: the real codex is not on PATH; install it")
    assert "npm install -g @openai/codex" in err
    # the route it would take is still shown, as `llm-shim route` shows it
    assert "agent:" in err and "codex exec 'fix the test'" in err
    # the shims dir is not blamed on the directory llm-shim runs from (a venv's bin)
    assert "after the shims in" not in err
    code, out, err = cli("which", "--json", "codex")
    assert code == 127 and json.loads(out)["real_binary"] is None
    assert json.loads(out)["route"]["tool"] == "codex"


def test_behind_an_installed_shim(cli, installed, fake_tool):
    real = fake_tool("llm")
    code, out, _ = cli("which", "--json", "llm", "-m", "4o", "hello")
    assert code == 0
    info = json.loads(out)
    assert info["real_binary"] == str(real)
    assert info["first_on_path"] == str(paths.shims_dir()) + "/llm" and info["shimmed"] is True
    code, out, _ = cli("which", "llm")
    assert "note:" not in out


def test_unconfigured_tool_has_no_route(cli, fake_tool, set_path, fake_bin):
    gemini = fake_tool("gemini")
    set_path(fake_bin)
    code, out, _ = cli("which", "gemini", "--help")
    assert code == 0
    assert out.splitlines()[0] == str(gemini)
    assert "not a configured tool" in out
    code, out, _ = cli("which", "--json", "gemini")
    assert json.loads(out)["route"] is None


def test_usage_errors(cli):
    code, _, err = cli("which")
    assert code == exitcodes.USAGE and "no tool given" in err
    code, _, err = cli("which", "../claude")
    assert code == exitcodes.USAGE and "not a tool name" in err
