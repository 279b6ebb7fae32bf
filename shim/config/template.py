"""The commented user configuration `llm-shim config init` writes.

Everything but `schema_version` is commented out: the file changes nothing until you uncomment
a line, and every example in it is valid (a test uncomments them all and validates the result).
"""

USER_CONFIG = """\
# yaml-language-server: $schema={schema_uri}
# llm-shim user configuration. It is merged over the embedded default
# (`llm-shim config show` prints the result, `--origin` says which file set what):
# mappings merge key by key, lists replace the list below them.
# A `.llm-shim.yaml` in a project directory (or an ancestor) is merged over this file, and
# $LLM_SHIM_CONFIG over that. Check your edits with `llm-shim config validate`.
# Reference: docs/configuration.md
schema_version: 1

# ---- Tools: the CLIs that get a shim --------------------------------------------------
#tools:
#  claude:
#    binary: /opt/claude/bin/claude    # pin the real binary instead of searching PATH

# ---- Models: prices in USD per million tokens, aliases unique across models -------------
#models:
#  claude-sonnet-5:
#    prices: {{input: 3.0, output: 15.0, cache_read: 0.3, cache_write: 3.75}}
#  my-local-model:
#    provider: local
#    tier: cheap
#    prices: {{input: 0.0, output: 0.0}}
#    aliases: [mine]

# ---- Agents: who is calling, and what their calls may do ----------------------------------
#agents:
#  reviewer:
#    description: "The review bot."
#    tool: claude
#    model: sonnet
#    fallback: [{{tool: codex, model: gpt-5.5}}]
#    budget: {{period: day, limit: {{usd: 5.0, type: hard}}, action: downgrade, downgrade_at: 0.8}}
#    privacy: metadata

# How a call is matched to an agent when $LLM_SHIM_AGENT is not set (first match wins):
#identify:
#  - {{agent: reviewer, parent: {{cmdline: "*review-bot*"}}}}
#  - {{agent: auto, cwd: "~/scratch/**"}}
#default_agent: default

# ---- Policies -----------------------------------------------------------------------------
#policies:
#  on_error: passthrough          # or block
#  privacy: metadata              # metadata | full | off
#  project: full                  # full | hash | omit
#  cost_optimization:
#    enabled: false
#  budgets:
#    monthly: {{scope: global, period: month, limit: {{usd: 50.0, type: soft}}}}
#    claude-5h: {{scope: tool, match: claude, period: rolling, window: 5h, limit: {{usd: 10.0}}}}
#  rate_limits:
#    codex-burst: {{scope: tool, match: codex, calls_per_minute: 10, on_limit: wait, max_wait: 30}}
#  fallback:
#    max_attempts: 3
#    chains:
#      claude: [{{tool: codex, model: gpt-5.5}}]

# ---- Telemetry ----------------------------------------------------------------------------
#telemetry:
#  enabled: true
#  retention_days: 90
"""


def render(schema_uri):
    return USER_CONFIG.format(schema_uri=schema_uri)
