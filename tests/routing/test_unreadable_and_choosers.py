"""Argv the adapters cannot read passes through untouched, and a model chosen indirectly (a
profile, template, agent or local provider) or forbidden by the call (claude's
--fallback-model) is never rewritten, even by the `auto` agent."""

import pytest

from shim import adapters, routing

SIMPLE = "rename the variable x to count"


def route(cfg, tool, args, agent="auto"):
    request = adapters.parse(tool, args, cfg)
    return request, routing.decide(request, cfg, agent, None, agent_reason="test")


@pytest.mark.parametrize("tool, args, why", [
    ("claude", ["--bogus-flag", "-p", SIMPLE], "unknown flag --bogus-flag"),
    ("claude", ["-p", SIMPLE, "--model"], "flag --model has no value"),
    ("claude", ["-pZ", SIMPLE], "unknown flag -Z"),
    ("codex", ["exec", "--frobnicate", SIMPLE], "unknown flag --frobnicate"),
    ("codex", ["--nope", SIMPLE], "unknown flag --nope"),
    ("llm", ["-x", "-Q", SIMPLE], "unknown flag -Q"),
    ("llm", ["chat", "--unknown"], "unknown flag --unknown"),
])
def test_unknown_or_incomplete_flags_pass_through_untouched(cfg, tool, args, why):
    request, decision = route(cfg, tool, args)
    assert request["understood"] is False
    assert why in request["untranslatable"]
    assert decision["argv"] == args and decision["changed"] is False


@pytest.mark.parametrize("tool, args", [
    ("claude", ["-p", SIMPLE, "--plugin-url", "https://example.invalid/p"]),
    ("claude", ["--remote-control", "-p", SIMPLE]),
    ("codex", ["exec", "--thread-source", "ci", SIMPLE]),
    ("codex", ["--remote", "ws://127.0.0.1:9", "exec", SIMPLE]),
    ("llm", ["--xl", "-u", SIMPLE]),
])
def test_value_flags_of_the_real_clis_do_not_eat_the_prompt(cfg, tool, args):
    request, decision = route(cfg, tool, args)
    assert request["understood"] is True
    assert request["prompt"] == SIMPLE
    assert decision["complexity"] == "simple" and decision["changed"] is True


@pytest.mark.parametrize("tool, args, chooser", [
    ("codex", ["exec", "--oss", SIMPLE], "--oss"),
    ("codex", ["exec", "--local-provider", "ollama", SIMPLE], "--local-provider ollama"),
    ("codex", ["exec", "-c", "model_provider=ollama", SIMPLE], "-c model_provider=ollama"),
    ("codex", ["--profile", "fast", "exec", SIMPLE], "--profile fast"),
    ("codex", ["exec", "-p", "fast", "-m", "gpt-5.5", SIMPLE], "-p fast"),
    ("llm", ["-t", "summarize", SIMPLE], "-t summarize"),
    ("llm", ["-q", "haiku", SIMPLE], "-q haiku"),
    ("claude", ["--agent", "reviewer", "-p", SIMPLE], "--agent reviewer"),
])
def test_a_model_chosen_indirectly_is_kept(cfg, tool, args, chooser):
    request, decision = route(cfg, tool, args)
    assert request["model_chooser"] == chooser
    assert decision["argv"] == args and decision["changed"] is False
    assert "%s on argv chooses the model: kept" % chooser in decision["reasons"]


def test_a_model_chosen_indirectly_is_kept_even_with_override(cfg):
    cfg["agents"]["auto"]["override_explicit_model"] = True
    args = ["exec", "--oss", "-m", "llama3", SIMPLE]
    _, decision = route(cfg, "codex", args)
    assert decision["argv"] == args


def test_the_rewrite_never_picks_claudes_fallback_model(cfg):
    cheap = cfg["policies"]["cost_optimization"]["tiers"]["claude"]["cheap"]
    args = ["-p", SIMPLE, "--fallback-model", cheap]
    _, decision = route(cfg, "claude", args)
    assert decision["argv"] == args
    assert any("also the call's fallback model" in r for r in decision["reasons"])
    other = ["-p", SIMPLE, "--fallback-model", "claude-opus-4-8"]
    _, routed = route(cfg, "claude", other)
    assert routed["argv"][:2] == ["--model", routed["model"]] and routed["model"] != "claude-opus-4-8"


def test_an_overridden_pinned_model_says_so(cfg):
    cfg["agents"]["auto"]["override_explicit_model"] = True
    _, decision = route(cfg, "claude", ["-p", SIMPLE, "--model", "opus"])
    assert decision["model"] != "opus" and decision["changed"] is True
    assert any(r.startswith("model opus pinned on argv: overridden by") for r in decision["reasons"])
