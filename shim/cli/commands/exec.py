"""`llm-shim exec`: one routed, recorded one-shot call for agents that call no particular CLI.

It builds the request a person would have typed (`claude -p PROMPT`, `codex exec PROMPT`,
`llm PROMPT`) and hands it to the same planner and runner the shims use, so routing, budgets,
fallbacks and telemetry are exactly those of a shim call.
"""

import os
import sys

from shim import errors, exitcodes

EXAMPLES = [
    'llm-shim exec --agent reviewer "summarise the diff in three bullets"',
    'git diff | llm-shim exec --agent reviewer --json',
    'llm-shim exec --agent auto --tool codex --model gpt-5.5 "write a unit test for parse()"',
]


def add_parser(subparsers, common):
    from shim.cli.common import add_command

    p = add_command(subparsers, common, "exec",
                    help="run one routed one-shot prompt as an agent and print the answer",
                    description="Route a one-shot prompt exactly as a shim call would (agent, "
                                "tool, model, budgets, fallbacks), run it, print the answer and "
                                "record it. The prompt comes from the argument or from stdin.",
                    examples=EXAMPLES)
    p.add_argument("--agent", required=True, help="the agent making the call (as LLM_SHIM_AGENT)")
    p.add_argument("--tool", help="the tool to start from (default: the agent's tool, else claude)")
    p.add_argument("--model", help="pin a model (routing keeps it unless the policy overrides "
                                   "explicit models)")
    p.add_argument("--json", action="store_true",
                   help="ask the tool for its machine-readable output (claude --output-format "
                        "json, codex --json)")
    p.add_argument("prompt", nargs="?", help="the prompt (default: read from stdin)")
    p.set_defaults(func=lambda a: cmd_exec(a.agent, a.prompt, tool=a.tool, model=a.model,
                                           as_json=a.json))


def _read_prompt(prompt):
    if prompt is not None:
        return prompt
    if sys.stdin is None or sys.stdin.isatty():
        raise errors.UsageError("exec", "no prompt given",
                                "pass it as an argument or pipe it on stdin")
    return sys.stdin.read()


# Above this many bytes an argument prompt goes on stdin too (Linux caps one argument at
# 128 KiB: `Argument list too long`).
ARGV_PROMPT_LIMIT = 100 * 1024


def cmd_exec(agent, prompt, *, tool=None, model=None, as_json=False):
    """A prompt read from stdin (or longer than ARGV_PROMPT_LIMIT) reaches the tool on its
    stdin, as `git diff | claude -p` would: never on argv, where it could exceed the kernel's
    limit and where `ps` shows it to every user."""
    from shim import adapters, proxy
    from shim.config import compiled

    via_stdin = prompt is None
    text = _read_prompt(prompt)
    via_stdin = via_stdin or len(text.encode("utf-8", "surrogateescape")) > ARGV_PROMPT_LIMIT
    if not text.strip():
        raise errors.UsageError("exec", "the prompt is empty", "give the prompt to run")
    cfg = compiled.load()
    agents = cfg.get("agents") or {}
    tool = tool or (agents.get(agent) or {}).get("tool") or "claude"
    if tool not in (cfg.get("tools") or {}):
        raise errors.UsageError("exec", f"unknown tool {tool!r}",
                                "choose one of: " + ", ".join(sorted(cfg.get("tools") or {})))
    request, why = adapters.oneshot_request(tool, text, cfg, model=model,
                                            output_format="json" if as_json else None,
                                            prompt_on_stdin=via_stdin)
    if request is None:
        raise errors.ShimError("exec", f"cannot build a one-shot {tool} call: {why}",
                               "choose another --tool")
    environ = dict(os.environ)
    environ["LLM_SHIM_AGENT"] = agent
    plan = proxy.plan_call(tool, request["args"], cfg, environ, request=request)
    if environ.get(proxy.DRY_RUN_ENV) == "1":
        return proxy.print_dry_run(plan)
    if via_stdin:  # fd 0 holds the prompt for the child (seekable: a fallback reads it again)
        from shim import paths
        from shim.policy import stdin

        stdin.hold(text.encode("utf-8", "surrogateescape"), paths.ensure_dir(paths.cache_dir()))
    sys.stdout.flush()
    code = proxy.execute(plan, cfg, environ)
    return code if code is not None else exitcodes.OK
