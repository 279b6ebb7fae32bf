"""The screenshots in docs/report.md, from generated data.

Generates 40 days of realistic calls (tests/bench/report_1m.py's generator) plus a few on a
local model no price list knows (`llm` with an Ollama model) and a few recorded on
claude-opus-5-5 before its price was known, which `llm-shim prices reprice` then prices (as
`prices update` would), into a temporary LLM_SHIM_HOME, writes
`report --by model --html`, starts the dashboard on a free loopback port, and photographs both
with headless Chromium (Debian's package; see install/test-deps.sh):

    .venv/bin/python tests/bench/screenshots.py            # writes docs/img/*.png
    .venv/bin/python tests/bench/screenshots.py --out /tmp/shots
"""

import argparse
import os
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.join(REPO, "tests", "bench"))
sys.path.insert(0, os.path.join(REPO, "tests", "report"))


UNPRICED_MODEL = "ollama/qwen3-coder:30b"  # a local model: no price list has it


def unpriced_rows(now, count=40, seed=3, model=UNPRICED_MODEL, tool="llm", provider="ollama"):
    """Calls recorded with no price for their model: their cost is unknown, not $0."""
    import random

    rnd = random.Random(seed)
    for i in range(count):
        started = now - rnd.random() * 9 * 86400
        yield {"invocation_id": f"{rnd.getrandbits(128):032x}", "attempt": 1,
               "started_at": started, "ended_at": started + 20, "duration_ms": 20000.0,
               "host": "demo", "agent": "alice", "tool_requested": tool, "tool": tool,
               "model": model, "provider": provider, "tier": "premium",
               "mode": "oneshot", "reasons": "[]", "exit_code": 0,
               "input_tokens": 3000, "output_tokens": 900, "cache_read_tokens": 40000,
               "cache_write_tokens": 5000, "cost_usd": None, "cost_source": "unknown",
               "project": "/home/alice/src/api", "blocked": 0, "budget_override": 0,
               "shim_version": "demo"}


BUDGETS = """schema_version: 1
policies:
  budgets:
    team-month: {scope: global, period: month, limit: {usd: 250, type: soft}}
    codex-day:  {scope: tool, match: codex, period: day, limit: {usd: 5, type: hard}}
    anthropic-week: {scope: provider, match: anthropic, period: week, limit: {usd: 60}}
"""


def fill(home, rows=6000, days=40):
    os.environ["LLM_SHIM_HOME"] = home
    import report_1m

    from shim import paths
    from shim.telemetry import store

    os.makedirs(paths.config_dir(), exist_ok=True)
    with open(paths.user_config_file(), "w", encoding="utf-8") as fh:
        fh.write(BUDGETS)

    now = time.time()
    conn = store.connect()
    report_1m.generate(conn, rows, days=days, end=now)
    store.insert_attempts(conn, list(unpriced_rows(now)))
    # recorded before the snapshot priced claude's default model; re-priced below
    store.insert_attempts(conn, list(unpriced_rows(now, 20, seed=4, model="claude-opus-5-5",
                                                   tool="claude", provider="anthropic")))
    conn.close()
    from shim.cli.commands import prices

    prices.reprice_recorded()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(REPO, "docs", "img"))
    parser.add_argument("--rows", type=int, default=6000)
    args = parser.parse_args()
    import chromium

    if not chromium.find():
        sys.exit("screenshots: chromium is not installed (install/test-deps.sh installs it)")
    os.makedirs(args.out, exist_ok=True)
    os.environ.setdefault("TZ", "UTC")
    with tempfile.TemporaryDirectory(prefix="llm-shim-shots-") as home:
        fill(home, args.rows)
        from shim.cli.main import main as cli
        from shim.report import dashboard

        page = os.path.join(home, "report.html")
        cli(["report", "--by", "model", "--since", "30d", "--html", page, "--output",
             os.devnull])
        shot = chromium.screenshot("file://" + page, os.path.join(args.out, "report-html.png"),
                                   1280, 1700)
        print(f"wrote {shot}")
        server = dashboard.make_server(0)  # the config above: its budgets
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            url = dashboard.url_for(server, period="day", by="agent")
            shot = chromium.screenshot(url, os.path.join(args.out, "dashboard.png"), 1280, 1400)
            print(f"wrote {shot}")
        finally:
            server.shutdown()
            server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
