"""Issue 20: quota-aware routing with the real CLIs. The plan window's used share reaches
llm-shim the way it does for a Claude subscriber: Claude Code pipes its status line document
(with `rate_limits`) into `llm-shim statusline`, which records the snapshot; the next one-shot
`claude -p` call finds the 5-hour window past the quota's `at` and runs on the real codex
instead, with one answer and the reason recorded."""

import json
import time

import pytest

import scenario_kit as kit
from stub_server import DEFAULT_REPLY

pytestmark = pytest.mark.acceptance


def status_line_document(used_pct, resets_in=3600):
    """What Claude Code writes on a status line command's stdin (tests/plans/samples)."""
    return json.dumps({
        "session_id": "quota-acceptance", "cwd": "/work/app",
        "model": {"id": "claude-opus-5-5", "display_name": "Opus 5.5"},
        "workspace": {"current_dir": "/work/app", "project_dir": "/work/app"},
        "cost": {"total_cost_usd": 0.01},
        "rate_limits": {"five_hour": {"used_percentage": used_pct,
                                      "resets_at": int(time.time()) + resets_in}}})


@pytest.mark.parametrize("used, moved", [(87.0, True), (60.0, False)],
                         ids=["over-85-redirected", "under-85-stays"])
def test_claude_at_its_5h_quota_is_redirected_to_codex(real_env, stub, shims_dir, used, moved):
    env = kit.write_config(real_env, shims_dir, {"policies": {"quotas": {"claude-5h": {
        "tool": "claude", "window": "five_hour", "at": 0.85, "action": "redirect",
        "to": {"tool": "codex", "model": "gpt-5.5"}}}}})
    line = real_env.run([shims_dir / "llm-shim", "statusline"], extra_env=env,
                        path_prefix=[shims_dir], input=status_line_document(used))
    assert line.returncode == 0 and f"5h {used:.0f}%" in line.stdout, line.stdout + line.stderr
    stub.reset()
    prompt = "summarise the release notes"
    result = real_env.run(["claude", "-p", prompt], extra_env=env, path_prefix=[shims_dir])
    assert result.returncode == 0, result.stderr
    assert result.stdout == DEFAULT_REPLY + "\n"
    calls = stub.requests(model_calls=True)
    assert [c["api"] for c in calls] == (["responses"] if moved else ["anthropic"])
    assert prompt in calls[0]["prompt"]
    (row,) = kit.attempts(real_env, shims_dir)
    assert (row["tool_requested"], row["tool"]) == ("claude", "codex" if moved else "claude")
    if moved:
        assert calls[0]["model"] == "gpt-5.5"
        assert "llm-shim: warning: quota: quota 'claude-5h'" in result.stderr
        assert any(r.startswith("quota 'claude-5h'") for r in row["reasons"]), row["reasons"]
    else:
        assert "quota" not in result.stderr
