"""The acceptance scenarios of llm-shim: the REAL claude, codex and llm, called through the shims
`llm-shim install` writes, against the loopback stub in a private network namespace.

Each test is one scenario of docs/acceptance.md ("Scenarios"), with Given / When / Then in its
docstring. What a test checks comes from three independent witnesses: what the stub received
(the model, the prompt, how many calls), what the user saw (stdout, stderr, exit code), and what
llm-shim recorded (`llm-shim logs --json`, `llm-shim report --json`).
"""

import json
from pathlib import Path

import pytest

from tests.support import pty_driver
import scenario_kit as kit
from stub_server import DEFAULT_REPLY, DEFAULT_USAGE

pytestmark = pytest.mark.acceptance

CHEAP, STANDARD, PREMIUM = "claude-haiku-4-5-20251001", "claude-sonnet-5", "claude-opus-5-5"
SIMPLE_PROMPT = "say hi"
COMPLEX_PROMPT = ("Prove that the scheduler's lock ordering invariant rules out a deadlock, then "
                  "analyse the time complexity step by step and design a distributed "
                  "architecture that keeps p99 latency flat while we refactor src/sched.py.")
CLAUDE_JSON = ["--output-format", "json"]


def model_calls(stub):
    return stub.requests(model_calls=True)


# --- 1 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("tool", ["claude", "codex", "llm"])
def test_1_version_passes_through_unchanged(real_env, shims_dir, tool):
    """Given our shims installed first on PATH, with the real CLIs behind them,
    when `<tool> --version` runs through the shim and directly,
    then stdout, stderr and the exit code are the same, byte for byte, and the shim did run:
    it recorded the call as a meta invocation, passed through untouched."""
    direct = real_env.run([tool, "--version"], timeout=30, text=False)
    shimmed = real_env.run([tool, "--version"], timeout=30, text=False, path_prefix=[shims_dir])
    assert direct.returncode == 0, direct.stderr
    assert (shimmed.returncode, shimmed.stdout, shimmed.stderr) == (
        direct.returncode, direct.stdout, direct.stderr)
    (row,) = kit.attempts(real_env, shims_dir)
    assert (row["tool"], row["mode"], row["exit_code"]) == (tool, "meta", 0)
    assert model_calls(real_env.stub) == []


# --- 2 ------------------------------------------------------------------------------------------
def test_2_agent_routes_to_its_model_and_is_recorded_with_claudes_usage(real_env, stub, shims_dir):
    """Given a config with an agent `reviewer: {tool: claude, model: claude-sonnet-5}`,
    when `LLM_SHIM_AGENT=reviewer claude -p ... --output-format json` runs through the shim,
    then the stub receives claude-sonnet-5, the user gets Claude's own JSON answer, and the
    telemetry row names the agent and the model with the tokens (11 in, 7 out, 3 cache read,
    5 cache write) and the cost (total_cost_usd) from that JSON."""
    env = kit.write_config(real_env, shims_dir, {"agents": {"reviewer": {
        "description": "code review bot", "tool": "claude", "model": STANDARD}}})
    env["LLM_SHIM_AGENT"] = "reviewer"
    result = real_env.run(["claude", "-p", "review this change", *CLAUDE_JSON],
                          path_prefix=[shims_dir], extra_env=env)
    assert result.returncode == 0, result.stderr
    answer = kit.claude_result(result)
    assert (answer["is_error"], answer["result"]) == (False, DEFAULT_REPLY)
    calls = model_calls(stub)
    assert [(c["model"], c["status"]) for c in calls] == [(STANDARD, 200)]
    assert "review this change" in calls[0]["prompt"]
    (row,) = kit.attempts(real_env, shims_dir)
    assert (row["agent"], row["tool"], row["model"], row["mode"]) == (
        "reviewer", "claude", STANDARD, "oneshot")
    assert (row["exit_code"], row["failure_class"], row["blocked"]) == (0, None, 0)
    assert {k: row[k] for k in ("input_tokens", "output_tokens", "cache_read_tokens",
                                "cache_write_tokens")} == {
        "input_tokens": 11, "output_tokens": 7, "cache_read_tokens": 3, "cache_write_tokens": 5}
    assert answer["total_cost_usd"] > 0
    assert row["cost_usd"] == pytest.approx(answer["total_cost_usd"], abs=1e-12)
    assert row["reported_cost_usd"] == pytest.approx(answer["total_cost_usd"], abs=1e-12)
    assert row["cost_source"] == "reported"


# --- 3 ------------------------------------------------------------------------------------------
def test_3_auto_agent_sends_simple_prompts_cheap_and_complex_ones_premium(real_env, stub,
                                                                          shims_dir):
    """Given the embedded default config (its `auto` agent turns cost optimisation on),
    when `LLM_SHIM_AGENT=auto claude -p PROMPT --output-format json` runs through the shim with
    a simple prompt and then with a complex one,
    then the stub receives the cheap model for the first and the premium model for the second,
    and both rows record the complexity, the tier and the model that ran."""
    env = {"LLM_SHIM_AGENT": "auto"}
    for prompt in (SIMPLE_PROMPT, COMPLEX_PROMPT):
        result = real_env.run(["claude", "-p", prompt, *CLAUDE_JSON], path_prefix=[shims_dir],
                              extra_env=env)
        assert result.returncode == 0, result.stderr
        assert kit.claude_result(result)["result"] == DEFAULT_REPLY
    calls = model_calls(stub)
    assert [(c["model"], c["status"]) for c in calls] == [(CHEAP, 200), (PREMIUM, 200)]
    assert SIMPLE_PROMPT in calls[0]["prompt"] and COMPLEX_PROMPT in calls[1]["prompt"]
    rows = kit.attempts(real_env, shims_dir)
    assert [(r["agent"], r["complexity"], r["tier"], r["model"]) for r in rows] == [
        ("auto", "simple", "cheap", CHEAP), ("auto", "complex", "premium", PREMIUM)]
    # Savings are measured against the premium default the CLI would have used.
    assert [r["baseline_model"] for r in rows] == [PREMIUM, PREMIUM]
    assert rows[0]["baseline_cost_usd"] > rows[0]["cost_usd"] > 0


# --- 4 ------------------------------------------------------------------------------------------
def test_4_rate_limited_claude_falls_back_to_codex_with_one_answer(real_env, stub, shims_dir):
    """Given an agent whose calls fall back to codex (gpt-5.5), and the stub answering 429 on
    the Anthropic route only,
    when `LLM_SHIM_AGENT=pipeline claude -p PROMPT` runs through the shim,
    then the same prompt goes to codex, stdout holds codex's answer exactly once, the exit code
    is 0, stderr says why it fell back, and two attempts are recorded under one invocation:
    claude rate_limited, then codex ok."""
    env = kit.write_config(real_env, shims_dir, {"agents": {"pipeline": {
        "description": "a CI job", "tool": "claude",
        "fallback": [{"tool": "codex", "model": "gpt-5.5"}]}}})
    env["LLM_SHIM_AGENT"] = "pipeline"
    stub.set_mode("429", api="anthropic")
    prompt = "summarise the release notes"
    result = real_env.run(["claude", "-p", prompt], path_prefix=[shims_dir], extra_env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == DEFAULT_REPLY + "\n"
    assert result.stdout.count(DEFAULT_REPLY) == 1
    assert "llm-shim: fallback: claude failed (rate_limited); trying codex (gpt-5.5)" \
        in result.stderr
    calls = model_calls(stub)
    assert [(c["api"], c["status"]) for c in calls] == [("anthropic", 429), ("responses", 200)]
    assert calls[1]["model"] == "gpt-5.5"
    assert prompt in calls[0]["prompt"] and prompt in calls[1]["prompt"]
    rows = kit.attempts(real_env, shims_dir)
    assert len({r["invocation_id"] for r in rows}) == 1, rows
    assert [(r["attempt"], r["tool_requested"], r["tool"], r["failure_class"], r["exit_code"])
            for r in rows] == [(1, "claude", "claude", "rate_limited", 1),
                               (2, "claude", "codex", None, 0)]
    assert rows[1]["model"] == "gpt-5.5" and rows[1]["agent"] == "pipeline"
    # codex's usage is harvested from its own rollout (text mode): the stub's numbers.
    assert {k: rows[1][k] for k in ("input_tokens", "output_tokens", "cache_read_tokens")} == {
        "input_tokens": DEFAULT_USAGE["input"] - DEFAULT_USAGE["cached"],
        "output_tokens": DEFAULT_USAGE["output"], "cache_read_tokens": DEFAULT_USAGE["cached"]}


# --- 5, 6 ---------------------------------------------------------------------------------------
# The first call of each budget scenario is priced by Claude itself from the stub's usage: 10k
# output tokens of claude-sonnet-5 are $0.15, three times the $0.05 limit, while the shim's
# estimate before the call (about 1000 output tokens, $0.015) is well under it. So the first
# call is admitted and the second one finds the budget spent.
BUDGET_USD = 0.05
EXPENSIVE_USAGE = {"output": 10_000}


def budget_config(real_env, shims_dir, kind):
    return kit.write_config(real_env, shims_dir, {
        "agents": {"reviewer": {"description": "code review bot", "tool": "claude",
                                "model": STANDARD}},
        "policies": {"budgets": {"team-day": {"scope": "global", "period": "day",
                                              "limit": {"usd": BUDGET_USD, "type": kind}}}}},
        name=f"budget-{kind}.yaml")


def test_5_over_a_soft_budget_the_call_runs_with_a_warning(real_env, stub, shims_dir):
    """Given a soft global day budget of $0.05 and a first call that spent $0.15,
    when the next `claude -p` runs through the shim,
    then stderr carries one llm-shim budget warning naming the soft limit, the call still
    reaches the stub and answers (exit 0), and it is recorded as not blocked."""
    env = dict(budget_config(real_env, shims_dir, "soft"), LLM_SHIM_AGENT="reviewer")
    stub.set_usage(**EXPENSIVE_USAGE)
    first = real_env.run(["claude", "-p", "first review", *CLAUDE_JSON],
                         path_prefix=[shims_dir], extra_env=env)
    assert first.returncode == 0, first.stderr
    spent = kit.claude_result(first)["total_cost_usd"]
    assert spent > BUDGET_USD
    assert "llm-shim" not in first.stderr  # under the limit when it started: no warning
    second = real_env.run(["claude", "-p", "second review", *CLAUDE_JSON],
                          path_prefix=[shims_dir], extra_env=env)
    assert second.returncode == 0, second.stderr
    assert kit.claude_result(second)["result"] == DEFAULT_REPLY
    warnings = [line for line in second.stderr.splitlines() if line.startswith("llm-shim")]
    assert len(warnings) == 1, second.stderr
    assert warnings[0].startswith("llm-shim: warning: budget: budget 'team-day'"), warnings
    assert "soft limit" in warnings[0], warnings
    calls = model_calls(stub)
    assert [(c["model"], c["status"]) for c in calls] == [(STANDARD, 200), (STANDARD, 200)]
    assert "second review" in calls[1]["prompt"]
    rows = kit.attempts(real_env, shims_dir)
    assert [(r["exit_code"], r["blocked"]) for r in rows] == [(0, 0), (0, 0)]
    assert rows[0]["cost_usd"] == pytest.approx(spent, abs=1e-12)


def test_6_over_a_hard_budget_the_call_is_refused_before_it_starts(real_env, stub, shims_dir):
    """Given a hard global day budget of $0.05 and a first call that spent $0.15 (one request,
    more than its reservation: claude ran it under `--max-budget-usd` = that reservation and
    stopped after it with `error_max_budget_usd`, exit 1),
    when the next `claude -p` runs through the shim,
    then the stub receives nothing more, the exit code is 75 with one llm-shim line on stderr
    and nothing on stdout, and the refused call is recorded as blocked."""
    env = dict(budget_config(real_env, shims_dir, "hard"), LLM_SHIM_AGENT="reviewer")
    stub.set_usage(**EXPENSIVE_USAGE)
    first = real_env.run(["claude", "-p", "first review", *CLAUDE_JSON],
                         path_prefix=[shims_dir], extra_env=env)
    assert first.returncode == 1, first.stderr
    assert kit.claude_result(first)["subtype"] == "error_max_budget_usd"
    assert kit.claude_result(first)["total_cost_usd"] > BUDGET_USD
    second = real_env.run(["claude", "-p", "second review", *CLAUDE_JSON],
                          path_prefix=[shims_dir], extra_env=env)
    assert second.returncode == 75, (second.stdout, second.stderr)
    assert second.stdout == ""
    lines = second.stderr.splitlines()
    assert len(lines) == 1, second.stderr
    assert lines[0].startswith("llm-shim: budget: budget 'team-day'"), lines
    calls = model_calls(stub)
    assert len(calls) == 1 and "first review" in calls[0]["prompt"], calls
    rows = kit.attempts(real_env, shims_dir)
    assert [(r["exit_code"], r["blocked"]) for r in rows] == [(1, 0), (75, 1)]
    assert rows[0]["failure_class"] == "max_budget"
    blocked = rows[1]
    assert (blocked["agent"], blocked["tool"]) == ("reviewer", "claude")
    assert blocked["block_reason"] and "budget" in blocked["block_reason"]
    assert not blocked["input_tokens"] and not blocked["cost_usd"]


# --- 7 ------------------------------------------------------------------------------------------
def test_7_report_sums_equal_what_the_stub_reported(real_env, stub, shims_dir):
    """Given four calls through the shims with known stub usage (claude JSON, claude text,
    codex exec --json, llm), two of them with other usage numbers than the rest,
    when `llm-shim report --json` runs,
    then its totals count 4 calls, and its token sums equal the stub's usage times the replies
    it sent (in llm-shim's convention: OpenAI cached tokens are cache reads, not input), and
    its cost equals the sum of the recorded costs, which is Claude's own total_cost_usd plus
    the other calls' tokens at the configured prices."""
    runs = [  # (argv, usage overrides, model for pricing; None = Claude prices it itself,
        # "as sent" = the model the stub received: claude's default changes between releases)
        (["claude", "-p", "first", *CLAUDE_JSON], {}, None),
        (["claude", "-p", "second"], {"input": 120, "output": 45, "cache_creation": 9,
                                      "cache_read": 30}, "as sent"),  # the CLI's default model
        (["codex", "exec", "--json", "--skip-git-repo-check", "-m", "gpt-5.5", "third"],
         {"input": 64, "output": 21, "cached": 16}, "gpt-5.5"),
        (["llm", "-m", "gpt-4o-mini", "fourth"], {}, "gpt-4o-mini"),
    ]
    expected = {"input": 0, "output": 0, "cache_read": 0, "cache_write": 0}
    expected_cost = 0.0
    for argv, usage, model in runs:
        stub.reset()
        stub.set_usage(**usage)
        result = real_env.run(argv, path_prefix=[shims_dir])
        assert result.returncode == 0, (argv, result.stdout, result.stderr)
        ok = [c for c in model_calls(stub) if c["status"] == 200]
        assert len(ok) == 1, (argv, ok)
        tokens = kit.tokens_the_stub_reported(ok[0]["api"], stub.usage)
        for kind in expected:
            expected[kind] += tokens[kind]
        if model == "as sent":  # priced as the model the CLI asked the API for
            model = ok[0]["model"]
        expected_cost += (kit.claude_result(result)["total_cost_usd"] if model is None
                          else kit.priced(tokens, kit.model_prices(model)))
    rows = kit.attempts(real_env, shims_dir)
    assert len(rows) == len(runs)
    totals = kit.report(real_env, shims_dir)["totals"]
    assert (totals["invocations"], totals["attempts"], totals["failures"], totals["blocked"]) \
        == (4, 4, 0, 0)
    assert {k: totals[f"{k}_tokens"] for k in expected} == expected
    assert totals["unknown_cost_attempts"] == 0
    assert totals["cost_usd"] == pytest.approx(sum(r["cost_usd"] for r in rows), abs=1e-8)
    assert totals["cost_usd"] == pytest.approx(expected_cost, rel=1e-6)



@pytest.mark.parametrize("argv", [["claude", "-p"], ["codex", "exec", "--skip-git-repo-check"],
                                  ["llm", "-m", "gpt-4o-mini"]], ids=["claude", "codex", "llm"])
def test_7_back_to_back_calls_are_each_counted_once(real_env, stub, shims_dir, argv):
    """Given a script that makes two text-mode calls of one tool right after each other in the
    same directory (usage harvested from the tool's own logs afterwards), the stub reporting
    different usage for each,
    when the spool is ingested,
    then each attempt carries exactly its own call's tokens: neither borrows the other's, so
    the report's sums are the stub's."""
    usages = [dict(DEFAULT_USAGE), dict(DEFAULT_USAGE, input=1000, output=500, cached=100,
                                        cache_read=100, cache_creation=100)]
    expected = []
    for n, usage in enumerate(usages):
        stub.reset()
        stub.set_usage(**usage)
        result = real_env.run(argv + [f"call {n}"], path_prefix=[shims_dir])
        assert result.returncode == 0, result.stderr
        (call,) = model_calls(stub)
        expected.append(kit.tokens_the_stub_reported(call["api"], usage))
    rows = kit.attempts(real_env, shims_dir)
    assert [{k: r[f"{k}_tokens"] for k in ("input", "output", "cache_read", "cache_write")}
            for r in rows] == expected

@pytest.mark.parametrize("json_mode", [True, False], ids=["exec-json", "rollout"])
def test_7_codex_cache_writes_are_split_exactly_and_priced(real_env, stub, shims_dir,
                                                           json_mode):
    """Given the Responses API reporting 100 input tokens of which 40 are cache reads and 30
    cache writes (`input_tokens_details.cache_write_tokens`, codex >= 0.145),
    when `codex exec` runs through the shim (its --json usage, or its rollout in text mode),
    then the row holds 30 fresh input, 40 cache read, 30 cache write and 10 output tokens, and
    its cost prices the cache writes at gpt-5-mini's input rate (it has no cache-write rate):
    no token is billed twice."""
    stub.reset()
    stub.set_usage(input=100, cached=40, cache_write=30, output=10)
    argv = ["codex", "exec", *(["--json"] if json_mode else []), "--skip-git-repo-check",
            "-m", "gpt-5-mini", "cache me"]
    result = real_env.run(argv, path_prefix=[shims_dir])
    assert result.returncode == 0, result.stderr
    (call,) = model_calls(stub)
    assert call["api"] == "responses"
    (row,) = kit.attempts(real_env, shims_dir)
    tokens = {k: row[f"{k}_tokens"] for k in ("input", "output", "cache_read", "cache_write")}
    assert tokens == {"input": 30, "output": 10, "cache_read": 40, "cache_write": 30}
    assert tokens == kit.tokens_the_stub_reported("responses", stub.usage)
    assert row["cost_usd"] == pytest.approx(kit.priced(tokens, kit.model_prices("gpt-5-mini"))), {k: row[k] for k in ("model", "price_version", "cost_source", "computed_cost_usd", "reported_cost_usd")}
    assert row["cost_usd"] == pytest.approx((30 * 0.25 + 40 * 0.025 + 30 * 0.25 + 10 * 2) / 1e6)


# --- 8 ------------------------------------------------------------------------------------------
RC_FILES = (".profile", ".bashrc", ".bash_profile", ".bash_login", ".zshrc", ".zprofile",
            ".config/fish/conf.d/llm-shim.fish")


def login_shell(real_env, script, env):
    """`bash -l -c SCRIPT` as the user would run it: /etc/profile, then ~/.profile."""
    return real_env.run(["bash", "-l", "-c", script], extra_env=env, include_real=False)


def test_8_install_and_uninstall_in_a_login_shell(real_env, stub):
    """Given a temp HOME whose ~/.profile puts ~/.local/bin (holding the real claude, codex and
    llm) on PATH, and a ~/.bashrc without a final newline,
    when `llm-shim install` runs (default places, rc files modified) and then a login shell
    looks for `claude` and runs it,
    then the login shell finds the shim first, `claude --version` prints what the real one
    prints, and a prompt goes through the shim to the real claude and is recorded;
    and when `llm-shim uninstall` runs from that login shell,
    then a new login shell finds the real claude directly, the shims are gone, and every
    start-up file is byte-identical to before (or still absent)."""
    home = real_env.home
    local_bin = home / ".local" / "bin"
    local_bin.mkdir(parents=True)
    for tool in ("claude", "codex", "llm"):
        (local_bin / tool).symlink_to(getattr(real_env, tool))
    (home / ".profile").write_text(
        '# ~/.profile: executed by the command interpreter for login shells.\n'
        'if [ -d "$HOME/.local/bin" ] ; then\n    PATH="$HOME/.local/bin:$PATH"\nfi\n')
    (home / ".bashrc").write_text("alias ll='ls -l'\nexport EDITOR=vi")  # no final newline
    before = kit.rc_snapshot(home, RC_FILES)
    # A user's environment: no LLM_SHIM_HOME, so everything goes to the default places in HOME.
    env = {"LLM_SHIM_HOME": None, "SHELL": "/bin/bash"}
    probe = "command -v claude; claude --version"

    plain = login_shell(real_env, probe, env)
    assert plain.returncode == 0, plain.stderr
    real_version = plain.stdout.splitlines()[1]
    assert plain.stdout.splitlines()[0] == str(local_bin / "claude")

    install = real_env.run(kit.install_command("install"), extra_env=env, include_real=False,
                           timeout=120)
    assert install.returncode == 0, install.stdout + install.stderr
    assert kit.rc_snapshot(home, RC_FILES) != before
    shimmed = login_shell(real_env, probe, env)
    assert shimmed.returncode == 0, shimmed.stderr
    found, version = shimmed.stdout.splitlines()
    shim = Path(found)
    assert shim.is_relative_to(home) and shim.parent != local_bin, found
    assert shim.read_text().splitlines()[1].startswith(kit.SHIM_MARKER)
    assert version == real_version
    asked = login_shell(real_env, "claude -p 'say hi' --output-format json", env)
    assert asked.returncode == 0, asked.stderr
    assert kit.claude_result(asked)["result"] == DEFAULT_REPLY
    assert [c["status"] for c in model_calls(stub)] == [200]
    logs = login_shell(real_env, "llm-shim logs --json", env)
    assert logs.returncode == 0, logs.stderr
    assert [(r["tool"], r["mode"], r["exit_code"]) for r in json.loads(logs.stdout)
            if r["mode"] == "oneshot"] == [("claude", "oneshot", 0)]

    uninstall = login_shell(real_env, "llm-shim uninstall", env)
    assert uninstall.returncode == 0, uninstall.stdout + uninstall.stderr
    after = login_shell(real_env, probe, env)
    assert after.returncode == 0, after.stderr
    assert after.stdout.splitlines() == [str(local_bin / "claude"), real_version]
    assert not shim.exists()
    assert kit.rc_snapshot(home, RC_FILES) == before


# --- interactive --------------------------------------------------------------------------------
def test_interactive_claude_through_the_shim_keeps_its_tty_and_is_recorded(real_env, stub,
                                                                         shims_dir):
    """Given our shims first on PATH and Claude Code's onboarding pre-seeded,
    when `claude` (the shim) starts with no arguments under a pty and a prompt is typed,
    then the real TUI renders (it saw a TTY), the stub's answer appears on the screen, /exit
    ends it with 0, the request came from the interactive TUI, and one interactive attempt is
    recorded with the usage harvested from Claude's transcript."""
    result = pty_driver.interactive_claude(real_env, shims_dir / "claude",
                                           path_prefix=[shims_dir])
    assert result.answered, result
    assert result.returncode == 0, result
    calls = model_calls(stub)
    assert len(calls) == 1 and "Say hi" in calls[0]["prompt"]
    assert calls[0]["headers"]["user-agent"].endswith("(external, cli)")
    (row,) = kit.attempts(real_env, shims_dir)
    assert (row["tool"], row["mode"], row["exit_code"], row["failure_class"]) == (
        "claude", "interactive", 0, None)
    assert (row["input_tokens"], row["output_tokens"], row["cache_read_tokens"],
            row["cache_write_tokens"]) == (11, 7, 3, 5)


def test_two_text_mode_calls_at_once_in_one_directory_are_each_counted_once(real_env, stub,
                                                                           shims_dir):
    """Given two `claude -p` calls in text mode started together in one directory (an agent
    pipeline's parallel workers), whose usage only Claude's own transcripts know,
    when both finished and the report is read,
    then it counts each reply once: the stub's usage twice, not each call's window twice."""
    from concurrent.futures import ThreadPoolExecutor

    stub.reset()
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda n: real_env.run(["claude", "-p", f"worker {n}"],
                                                        path_prefix=[shims_dir]), (1, 2)))
    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    ok = [c for c in model_calls(stub) if c["status"] == 200]
    assert len(ok) == 2
    one = kit.tokens_the_stub_reported("anthropic", stub.usage)
    rows = kit.attempts(real_env, shims_dir)
    assert [r["usage_source"] for r in rows] == ["harvest", "harvest"]
    assert len({r["session_id"] for r in rows}) == 2
    totals = kit.report(real_env, shims_dir)["totals"]
    assert {k: totals[f"{k}_tokens"] for k in one} == {k: 2 * v for k, v in one.items()}
