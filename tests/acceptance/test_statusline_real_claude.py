"""Issue 20: the real Claude Code TUI runs `llm-shim statusline` as its status line command
(the `statusLine` setting `llm-shim install --statusline` writes) and shows our line under
its input box: Claude Code feeds it the session's JSON on stdin, and the line names the agent
and the model Claude reported."""

import json

import pytest

import pty_driver

pytestmark = pytest.mark.acceptance


def test_the_real_claude_tui_shows_the_llm_shim_status_line(real_env, stub, shims_dir):
    env = real_env.env(path_prefix=[shims_dir])
    config_dir = env["CLAUDE_CONFIG_DIR"]
    with open(f"{config_dir}/settings.json", "w", encoding="utf-8") as fh:
        json.dump({"statusLine": {"type": "command",
                                  "command": f"{shims_dir / 'llm-shim'} statusline"}}, fh)
    result = pty_driver.interactive_claude(real_env, shims_dir / "claude",
                                           path_prefix=[shims_dir])
    assert result.answered, result
    assert result.returncode == 0, result
    seen = result.raw.decode("utf-8", "replace")
    # Our line: "<agent> · <model display name> · session $x · today $y" (docs/plans.md).
    assert "default ·" in seen and "· today $" in seen, result.screen
