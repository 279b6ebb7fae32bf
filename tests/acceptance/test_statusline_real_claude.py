"""Issue 20: the real Claude Code TUI runs `llm-shim statusline` as its status line command
(the `statusLine` setting `llm-shim install --statusline` writes) and shows our line under
its input box: Claude Code feeds it the session's JSON on stdin, and the line names the agent
and the model Claude reported."""

import json
import re

import pytest

from tests.support import pty_driver

pytestmark = pytest.mark.acceptance
# Our line: "<agent> · <model display name> · session $x · today $y" (docs/plans.md).
OUR_LINE = re.compile(r"default · [^\n·]+ · session \$[0-9.]+ · today \$")


def _rendered(session):
    return "\n".join(session._terminal.display)


def test_the_real_claude_tui_shows_the_llm_shim_status_line(real_env, stub, shims_dir):
    env = real_env.env({"TERM": "xterm-256color"}, [shims_dir])
    with open(f"{env['CLAUDE_CONFIG_DIR']}/settings.json", "w", encoding="utf-8") as fh:
        json.dump({"statusLine": {"type": "command",
                                  "command": f"{shims_dir / 'llm-shim'} statusline"}}, fh)
    pty_driver.seed_claude_onboarding(env["CLAUDE_CONFIG_DIR"], env["ANTHROPIC_API_KEY"],
                                      real_env.work_dir)
    session = pty_driver.PtySession(real_env.command([str(shims_dir / "claude")]), env,
                                    str(real_env.work_dir))
    try:
        # Our line stands where the TUI's "? for shortcuts" hint would: wait for it, rendered.
        shown = False
        for _ in range(150):
            if OUR_LINE.search(_rendered(session)):
                shown = True
                break
            session.settle(quiet=0.2, timeout=0.4)
        assert shown, session.screen()
        session.settle(quiet=0.5, timeout=5)
        session.send("/exit", pause=0.3)
        session.send("\r")
        session.wait(10)
    finally:
        session.close()
