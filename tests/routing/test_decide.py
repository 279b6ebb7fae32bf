"""The routing decision, rule by rule (docs/routing.md)."""

import copy

import pytest

from shim import adapters, routing

SIMPLE = "rename the variable x to count"
STANDARD = "Write unit tests for the slugify function in utils/text.py covering unicode input."
COMPLEX = ("Design the architecture for a multi-tenant job scheduler: persistence, leases, "
           "retries, exactly-once semantics and horizontal scaling. Compare two designs.")

DECISION_KEYS = {
    "agent", "agent_reason", "tool_requested", "tool", "model_requested", "model", "provider",
    "tier", "complexity", "features", "mode", "output_format", "prompt_chars", "argv", "changed",
    "reasons", "baseline_model", "fallbacks",
}


def route(cfg, tool, args, agent="default", budget_state=None):
    request = adapters.parse(tool, args, cfg)
    return routing.decide(request, cfg, agent, budget_state, agent_reason="test")


# --- out of the box nothing changes -------------------------------------------------------

@pytest.mark.parametrize("tool, args", [
    ("claude", ["-p", SIMPLE]), ("claude", ["-p", COMPLEX]), ("claude", []),
    ("codex", ["exec", SIMPLE]), ("codex", ["exec", "--json", COMPLEX]), ("llm", [SIMPLE]),
    ("llm", ["chat"]), ("claude", ["--version"]),
])
def test_default_agent_changes_nothing(cfg, tool, args):
    decision = route(cfg, tool, args)
    assert set(decision) >= DECISION_KEYS
    assert decision["argv"] == args
    assert decision["tool"] == tool
    assert decision["changed"] is False


# --- the embedded `auto` agent ------------------------------------------------------------

@pytest.mark.parametrize("tool, args, model, argv", [
    ("claude", ["-p", SIMPLE], "claude-haiku-4-5-20251001",
     ["--model", "claude-haiku-4-5-20251001", "-p", SIMPLE]),
    ("claude", ["-p", STANDARD], "claude-sonnet-5", ["--model", "claude-sonnet-5", "-p", STANDARD]),
    ("claude", ["-p", COMPLEX], "claude-opus-5-5", ["--model", "claude-opus-5-5", "-p", COMPLEX]),
    ("codex", ["exec", SIMPLE], "gpt-5-mini", ["exec", "-m", "gpt-5-mini", SIMPLE]),
    ("codex", ["exec", "--json", COMPLEX], "gpt-6.1-sol", ["exec", "-m", "gpt-6.1-sol", "--json", COMPLEX]),
    ("llm", [SIMPLE], "gpt-4o-mini", [SIMPLE, "-m", "gpt-4o-mini"]),
])
def test_auto_routes_by_complexity(cfg, tool, args, model, argv):
    decision = route(cfg, tool, args, "auto")
    assert decision["model"] == model
    assert decision["argv"] == argv
    assert decision["changed"] is True
    assert decision["tier"] == cfg["models"][model]["tier"]
    assert any("cost optimisation" in r for r in decision["reasons"])


def test_auto_reports_complexity_and_features(cfg):
    decision = route(cfg, "claude", ["-p", COMPLEX], "auto")
    assert decision["complexity"] == "complex"
    assert decision["features"]["chars"] == len(COMPLEX)
    assert "architecture" in decision["features"]["keywords"]
    assert decision["features"]["why"]
    assert decision["prompt_chars"] == len(COMPLEX)


def test_auto_leaves_interactive_sessions_alone(cfg):
    decision = route(cfg, "claude", ["fix the build"], "auto")
    assert decision["argv"] == ["fix the build"]
    assert any("one-shot prompts only" in r for r in decision["reasons"])


def test_auto_without_prompt_on_argv(cfg):
    decision = route(cfg, "claude", ["-p"], "auto")
    assert decision["argv"] == ["-p"]
    assert any("no prompt on argv" in r for r in decision["reasons"])


# --- explicit models ----------------------------------------------------------------------

def test_pinned_model_is_kept_byte_for_byte(cfg):
    decision = route(cfg, "claude", ["--model", "sonnet", "-p", SIMPLE], "auto")
    assert decision["argv"] == ["--model", "sonnet", "-p", SIMPLE]
    assert decision["model_requested"] == "sonnet"
    assert decision["model"] == "claude-sonnet-5"  # the alias resolved, for pricing
    assert decision["changed"] is False
    assert any("pinned" in r for r in decision["reasons"])


def test_override_explicit_model_in_policy(config):
    cfg = config({"policies": {"cost_optimization": {"override_explicit_model": True}}})
    decision = route(cfg, "claude", ["--model=opus", "-p", SIMPLE], "auto")
    assert decision["argv"] == ["--model=claude-haiku-4-5-20251001", "-p", SIMPLE]


def test_override_explicit_model_per_agent(config):
    cfg = config({"agents": {"saver": {"cost_optimization": True, "override_explicit_model": True}}})
    decision = route(cfg, "codex", ["exec", "-mgpt-5.5", SIMPLE], "saver")
    assert decision["argv"] == ["exec", "-mgpt-5-mini", SIMPLE]


def test_null_agent_settings_follow_the_policy(config):
    # The config loader fills schema defaults with null: null must mean "the policy's value".
    cfg = config({"policies": {"cost_optimization": {"override_explicit_model": True}},
                  "agents": {"a": {"cost_optimization": True, "override_explicit_model": None,
                                   "tier": None, "model": None, "tool": None, "fallback": None}}})
    decision = route(cfg, "claude", ["--model", "opus", "-p", SIMPLE], "a")
    assert decision["model"] == "claude-haiku-4-5-20251001"


def test_partial_thresholds(config):
    # The keyword thresholds decide only when the learned router is off (strong_share: null).
    cfg = config({"policies": {"cost_optimization": {"strong_share": None, "thresholds": {"complex": 99}}}})
    assert route(cfg, "claude", ["-p", STANDARD], "auto")["complexity"] == "standard"
    assert route(cfg, "claude", ["-p", COMPLEX], "auto")["complexity"] == "standard"


def test_same_model_under_another_name_changes_nothing(config):
    cfg = config({"agents": {"fixed": {"model": "claude-sonnet-5"}}})
    decision = route(cfg, "claude", ["-p", "hi", "--model", "sonnet"], "fixed")
    assert decision["argv"] == ["-p", "hi", "--model", "sonnet"]


# --- agent settings -----------------------------------------------------------------------

def test_agent_model_alias_is_resolved(config):
    cfg = config({"agents": {"quick": {"model": "fast"}}})
    decision = route(cfg, "claude", ["-p", COMPLEX], "quick")
    assert decision["argv"] == ["--model", "claude-haiku-4-5-20251001", "-p", COMPLEX]
    assert any("pins model fast" in r for r in decision["reasons"])


def test_agent_model_applies_to_interactive_sessions(config):
    cfg = config({"agents": {"quick": {"model": "haiku"}}})
    assert route(cfg, "claude", [], "quick")["argv"] == ["--model", "claude-haiku-4-5-20251001"]
    assert route(cfg, "llm", ["chat"], "quick")["argv"] == ["chat", "-m", "claude-haiku-4-5-20251001"]


def test_agent_model_wins_over_cost_optimisation(config):
    cfg = config({"agents": {"a": {"model": "sonnet", "cost_optimization": True}}})
    decision = route(cfg, "claude", ["-p", SIMPLE], "a")
    assert decision["model"] == "claude-sonnet-5"
    assert any("agent pins the model" in r for r in decision["reasons"])


def test_agent_model_of_another_provider_is_ignored(config):
    cfg = config({"agents": {"a": {"model": "gpt-5.5"}}})
    decision = route(cfg, "claude", ["-p", SIMPLE], "a")
    assert decision["argv"] == ["-p", SIMPLE]
    assert any("does not serve" in r for r in decision["reasons"])


def test_agent_tier(config):
    cfg = config({"agents": {"cheapskate": {"tier": "cheap"}}})
    assert route(cfg, "codex", ["exec", COMPLEX], "cheapskate")["model"] == "gpt-5-mini"


def test_policy_enables_cost_optimisation_for_everyone(config):
    cfg = config({"policies": {"cost_optimization": {"enabled": True}},
                  "agents": {"optout": {"cost_optimization": False}}})
    assert route(cfg, "claude", ["-p", SIMPLE])["model"] == "claude-haiku-4-5-20251001"
    assert route(cfg, "claude", ["-p", SIMPLE], "optout")["argv"] == ["-p", SIMPLE]


def test_agent_cost_optimisation_mapping(config):
    cfg = config({"agents": {"thrifty": {"cost_optimization": {
        "complexity_to_tier": {"complex": "standard", "standard": "cheap"}}}}})
    assert route(cfg, "claude", ["-p", COMPLEX], "thrifty")["model"] == "claude-sonnet-5"
    assert route(cfg, "claude", ["-p", STANDARD], "thrifty")["model"] == "claude-haiku-4-5-20251001"


def test_unknown_agent_has_no_settings(cfg):
    decision = route(cfg, "claude", ["-p", SIMPLE], "nobody")
    assert decision["argv"] == ["-p", SIMPLE]
    assert any("no settings" in r for r in decision["reasons"])


def test_continued_conversation_counts_as_harder(cfg):
    fresh = route(cfg, "claude", ["-p", SIMPLE], "auto")
    resumed = route(cfg, "claude", ["-c", "-p", SIMPLE], "auto")
    assert resumed["features"]["continued"] is True
    assert resumed["features"]["score"] == fresh["features"]["score"] + 1


# --- redirects ----------------------------------------------------------------------------

def test_redirect_to_another_tool(config):
    cfg = config({"agents": {"oa": {"tool": "codex", "model": "gpt-5.5"}}})
    decision = route(cfg, "claude", ["-p", SIMPLE], "oa")
    assert decision["tool_requested"] == "claude"
    assert decision["tool"] == "codex"
    assert decision["argv"] == ["exec", "--skip-git-repo-check", "-m", "gpt-5.5", SIMPLE]
    assert decision["provider"] == "openai"
    assert decision["changed"] is True


def test_redirect_with_cost_optimisation_uses_the_target_tiers(config):
    cfg = config({"agents": {"oa": {"tool": "codex", "cost_optimization": True}}})
    decision = route(cfg, "claude", ["-p", COMPLEX], "oa")
    assert (decision["tool"], decision["model"]) == ("codex", "gpt-6.1-sol")


@pytest.mark.parametrize("args, why", [
    (["fix the build"], "interactive"),
    (["-p", SIMPLE, "--allowedTools", "Bash"], "--allowedTools"),
    (["-p", SIMPLE, "--output-format", "json"], "output format"),
])
def test_untranslatable_stays_on_its_tool(config, args, why):
    cfg = config({"agents": {"oa": {"tool": "codex", "model": "gpt-5.5"}}})
    decision = route(cfg, "claude", args, "oa")
    assert decision["tool"] == "claude"
    assert decision["argv"] == args  # gpt-5.5 cannot run on claude, so nothing changes
    assert any("cannot move" in r and why in r for r in decision["reasons"])


def test_a_resumed_call_stays_untouched_under_a_redirecting_agent(config):
    cfg = config({"agents": {"oa": {"tool": "codex", "model": "gpt-5.5"}}})
    args = ["-c", "-p", SIMPLE]
    decision = route(cfg, "claude", args, "oa")
    assert (decision["tool"], decision["argv"]) == ("claude", args)
    assert "resume: passed through untouched" in decision["reasons"]


def test_untranslatable_keeps_cost_optimisation_on_the_original_tool(config):
    cfg = config({"agents": {"oa": {"tool": "codex", "cost_optimization": True}}})
    decision = route(cfg, "claude", ["-p", SIMPLE, "--max-turns", "2"], "oa")
    assert decision["tool"] == "claude"
    assert decision["model"] == "claude-haiku-4-5-20251001"


def test_pinned_model_blocks_a_redirect_its_tool_cannot_serve(config):
    cfg = config({"agents": {"oa": {"tool": "codex"}}})
    decision = route(cfg, "claude", ["--model", "sonnet", "-p", SIMPLE], "oa")
    assert decision["tool"] == "claude"
    assert decision["argv"] == ["--model", "sonnet", "-p", SIMPLE]


def test_pinned_model_moves_to_a_tool_that_serves_it(config):
    cfg = config({"agents": {"viallm": {"tool": "llm"}}})
    decision = route(cfg, "claude", ["--model", "sonnet", "-p", SIMPLE], "viallm")
    assert decision["tool"] == "llm"
    assert decision["argv"] == ["-m", "claude-sonnet-5", SIMPLE]


def test_agent_tool_not_configured(config):
    cfg = config({"agents": {"x": {"tool": "nosuch"}}})
    decision = route(cfg, "claude", ["-p", SIMPLE], "x")
    assert decision["tool"] == "claude"
    assert any("not configured" in r for r in decision["reasons"])


# --- budget downgrade ---------------------------------------------------------------------

def test_downgrade_one_tier_from_the_classified_tier(cfg):
    decision = route(cfg, "claude", ["-p", COMPLEX], "auto", {"downgrade": True, "reason": "daily budget 80%"})
    assert decision["model"] == "claude-sonnet-5"
    assert any("daily budget 80%" in r and "downgraded premium" in r for r in decision["reasons"])


def test_downgrade_without_cost_optimisation_starts_from_premium(cfg):
    decision = route(cfg, "codex", ["exec", SIMPLE], "default", {"downgrade": True})
    assert decision["argv"] == ["exec", "-m", "gpt-5.5", SIMPLE]


def test_downgrade_cannot_go_below_cheap(cfg):
    decision = route(cfg, "claude", ["-p", SIMPLE], "auto", {"downgrade": True})
    assert decision["model"] == "claude-haiku-4-5-20251001"
    assert any("nothing is cheaper" in r for r in decision["reasons"])


def test_downgrade_respects_a_pinned_model(cfg):
    decision = route(cfg, "claude", ["--model", "opus", "-p", COMPLEX], "auto", {"downgrade": True})
    assert decision["argv"] == ["--model", "opus", "-p", COMPLEX]


def test_downgrade_skips_interactive_without_agent_model(cfg):
    assert route(cfg, "claude", [], "default", {"downgrade": True})["argv"] == []


# --- meta, not understood, baseline, fallbacks ---------------------------------------------

@pytest.mark.parametrize("tool, args, why", [
    ("claude", ["mcp", "list"], "meta"), ("codex", ["--version"], "meta"), ("llm", ["logs"], "meta"),
    ("claude", ["-p", "a", "b"], "not understood"), ("nosuch", ["-p", "x"], "not understood"),
])
def test_meta_and_not_understood_pass_through(config, tool, args, why):
    cfg = config({"agents": {"all": {"model": "haiku", "tool": "codex", "cost_optimization": True}}})
    decision = route(cfg, tool, args, "all")
    assert decision["argv"] == args and decision["tool"] == tool
    assert decision["fallbacks"] == []
    assert any(why in r for r in decision["reasons"])


@pytest.mark.parametrize("tool, args, baseline", [
    ("claude", ["-p", "hi"], "claude-opus-5-5"),
    ("claude", ["-p", "hi", "--model", "haiku"], "claude-haiku-4-5-20251001"),
    ("codex", ["exec", "hi"], "gpt-6.1-sol"),
    ("llm", ["hi", "-m", "my-local-model"], "my-local-model"),
])
def test_baseline_model(cfg, tool, args, baseline):
    assert route(cfg, tool, args, "auto")["baseline_model"] == baseline


def test_fallbacks_from_the_policy_chain(config):
    cfg = config({"policies": {"fallback": {"chains": {"claude": [
        {"tool": "claude", "model": "sonnet"}, {"tool": "codex", "model": "gpt-5.5"},
        {"tool": "llm", "model": "gpt-4o"}]}}}})
    decision = route(cfg, "claude", ["-p", SIMPLE])
    assert decision["fallbacks"] == [
        {"tool": "claude", "model": "claude-sonnet-5", "argv": ["--model", "claude-sonnet-5", "-p", SIMPLE]},
        {"tool": "codex", "model": "gpt-5.5", "argv": ["exec", "--skip-git-repo-check", "-m", "gpt-5.5", SIMPLE]},
        {"tool": "llm", "model": "gpt-4o", "argv": ["-m", "gpt-4o", SIMPLE]},
    ]


def test_agent_fallback_wins_and_untranslatable_entries_are_skipped(config):
    cfg = config({"agents": {"a": {"fallback": [{"tool": "codex", "model": "gpt-5.5"},
                                                {"tool": "claude", "model": "haiku"}]}},
                  "policies": {"fallback": {"chains": {"claude": [{"tool": "llm"}]}}}})
    decision = route(cfg, "claude", ["-p", SIMPLE, "--output-format", "json"], "a")
    assert decision["fallbacks"] == [{
        "tool": "claude", "model": "claude-haiku-4-5-20251001",
        "argv": ["--model", "claude-haiku-4-5-20251001", "-p", SIMPLE, "--output-format", "json"],
    }]
    assert any("agent fallback 1" in r and "skipped" in r for r in decision["reasons"])


def test_fallbacks_only_for_one_shot_calls(config):
    cfg = config({"policies": {"fallback": {"chains": {"claude": [{"tool": "claude", "model": "sonnet"}]}}}})
    decision = route(cfg, "claude", [])
    assert decision["fallbacks"] == []
    assert any("one-shot only" in r for r in decision["reasons"])


def test_decide_is_pure(cfg):
    request = adapters.parse("claude", ["-p", COMPLEX], cfg)
    before_request, before_cfg = copy.deepcopy(request), copy.deepcopy(cfg)
    first = routing.decide(request, cfg, "auto")
    second = routing.decide(request, cfg, "auto")
    assert request == before_request and cfg == before_cfg
    assert first == second
