"""`llm-shim route`: the whole path (real config loader, adapter, agent, decision); runs nothing."""

import json
import os
import subprocess
import sys

import pytest
import yaml

from shim.cli.main import main
from tests.support.configs import GEMINI, GEMINI_MODELS, REPO

SIMPLE = "rename the variable x to count"
COMPLEX = ("Design the architecture for a multi-tenant job scheduler: persistence, leases, "
           "retries, exactly-once semantics and horizontal scaling. Compare two designs.")


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def route_json(argv, capsys):
    code, out, err = run(["route", "--json", "--"] + argv, capsys)
    assert code == 0, err
    return json.loads(out)


@pytest.mark.parametrize("argv", [
    ["claude", "-p", SIMPLE], ["codex", "exec", SIMPLE], ["llm", SIMPLE], ["claude", "--version"],
])
def test_out_of_the_box_nothing_changes(capsys, argv):
    result = route_json(argv, capsys)
    assert result["argv"] == argv
    assert result["args"] == argv[1:]
    assert result["agent"] == "default"
    assert result["changed"] is False
    for key in ("agent", "tool", "model", "tier", "complexity", "features", "argv", "reasons"):
        assert key in result


@pytest.mark.parametrize("argv, model", [
    (["claude", "-p", SIMPLE], "claude-haiku-4-5-20251001"),
    (["claude", "-p", COMPLEX], "claude-opus-5-5"),
    (["codex", "exec", SIMPLE], "gpt-5-mini"),
    (["codex", "exec", COMPLEX], "gpt-6.1-sol"),
    (["llm", SIMPLE], "gpt-4o-mini"),
])
def test_auto_agent_from_the_environment(capsys, monkeypatch, argv, model):
    monkeypatch.setenv("LLM_SHIM_AGENT", "auto")
    result = route_json(argv, capsys)
    assert result["agent"] == "auto"
    assert result["model"] == model
    assert model in result["argv"]
    assert result["argv"][0] == argv[0]


def test_agent_option(capsys):
    code, out, _ = run(["route", "--json", "--agent", "auto", "--", "claude", "-p", COMPLEX], capsys)
    assert code == 0
    assert json.loads(out)["complexity"] == "complex"


def test_explain_for_people(capsys, monkeypatch):
    monkeypatch.setenv("LLM_SHIM_AGENT", "auto")
    code, out, _ = run(["route", "--explain", "--", "claude", "-p", SIMPLE], capsys)
    assert code == 0
    assert "agent:      auto" in out
    assert "claude-haiku-4-5-20251001" in out
    assert "cost optimisation" in out
    # The default output is the explanation too.
    assert run(["route", "--", "claude", "-p", SIMPLE], capsys)[1] == out


@pytest.mark.parametrize("argv", [["route"], ["route", "--json"], ["route", "--json", "--"]])
def test_no_tool_is_a_usage_error(capsys, argv):
    code, out, err = run(argv, capsys)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("llm-shim: route: no tool given")


def test_non_utf8_argv(capsys):
    weird = b"fix caf\xe9".decode("utf-8", "surrogateescape")
    result = route_json(["claude", "-p", weird], capsys)
    assert result["argv"] == ["claude", "-p", weird]


def test_yaml_only_tool_through_llm_shim_config(tmp_path, capsys, monkeypatch):
    config_file = tmp_path / "gemini.yaml"
    config_file.write_text(yaml.safe_dump({
        "tools": {"gemini": GEMINI},
        "models": GEMINI_MODELS,
        "agents": {"g": {"cost_optimization": True}},
        "policies": {"cost_optimization": {"tiers": {
            "gemini": {"cheap": "gemini-3-flash", "standard": "gemini-3-pro", "premium": "gemini-3-pro"}}}},
    }))
    monkeypatch.setenv("LLM_SHIM_CONFIG", str(config_file))
    plain = route_json(["gemini", "-p", SIMPLE], capsys)
    assert plain["understood"] is True and plain["mode"] == "oneshot"
    assert plain["argv"] == ["gemini", "-p", SIMPLE]
    monkeypatch.setenv("LLM_SHIM_AGENT", "g")
    routed = route_json(["gemini", "-p", SIMPLE], capsys)
    assert routed["argv"] == ["gemini", "-m", "gemini-3-flash", "-p", SIMPLE]
    assert routed["provider"] == "google"
    meta = route_json(["gemini", "mcp", "list"], capsys)
    assert meta["mode"] == "meta" and meta["argv"] == ["gemini", "mcp", "list"]


def test_route_as_a_subprocess_runs_nothing(tmp_path, fake_cli):
    fake = fake_cli("claude")
    env = dict(os.environ, PATH=str(fake_cli.bin_dir) + os.pathsep + os.environ["PATH"],
               LLM_SHIM_AGENT="auto")
    proc = subprocess.run([sys.executable, "-m", "shim", "route", "--json", "--", "claude", "-p", SIMPLE],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["model"] == "claude-haiku-4-5-20251001"
    assert fake.calls() == []


def test_route_output_redacts_secret_values(capsys):
    argv = ["llm", "--key", "mysecretvalue123", "-m", "gpt-4o-mini", "hi"]
    shown = route_json(argv, capsys)
    assert shown["argv"] == ["llm", "--key", "[REDACTED]", "-m", "gpt-4o-mini", "hi"]
    assert "mysecretvalue123" not in json.dumps(shown)
    from shim.cli.commands import route as route_cmd

    assert route_cmd.route(argv) == 0
    assert "mysecretvalue123" not in capsys.readouterr().out
