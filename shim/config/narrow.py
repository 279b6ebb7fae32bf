"""What a trusted project `.llm-shim.yaml` may change: it can only narrow your configuration.

`refusals(base, project)` compares a project file's value with `base`, the merge of the layers
below it (the embedded default and your user file), and returns `[(key path, message)]` for
every key it may not set; the builder drops those keys (`without`) and applies the rest.
Allowed, and nothing else (deny by default, so a key added later is refused until a rule
here allows it):

- `agents`: define or change agents whose `tool` and `fallback` tools are tools of the base,
  pin a model (or alias) the base defines; an agent's `budget` may be added or lowered, never
  raised, softened or removed; an agent's privacy may only become stricter;
- `default_agent`, `identify`: only while no agent they could move calls away from carries a
  limit (an agent budget, or a budget or rate limit of scope agent) in the base;
- `policies.budgets`, `policies.rate_limits`: add new ones; lower an existing one (same
  scope, match, period and window; a lower `usd`, hard stays hard; lower rates);
- `policies.privacy`: from `full` to `metadata` only;
- `policies.cost_optimization`, `policies.fallback` (chains of base tools): routing choices;
- `schema_version`.

Refused: `tools` (a program, adapter or argv template), `models` (prices count against your
budgets), `team`, `telemetry`, `policies.on_error`, `policies.project`, `policies.timezone`,
`policies.week_starts` (they move a budget's period), `policies.estimate`,
`policies.trust_project_files`, and anything not listed above.
"""

import copy

from shim import paths
from shim.config.yamlload import dotted

ALLOWED_TOP = ("schema_version", "agents", "default_agent", "identify", "policies")
ALLOWED_POLICIES = ("privacy", "cost_optimization", "budgets", "rate_limits", "fallback")
AGENT_KEYS = ("description", "tool", "model", "tier", "cost_optimization",
              "override_explicit_model", "fallback", "budget", "privacy")
# Budget and rate-limit fields that must stay as the base has them (moving a limit is
# removing it), the defaults the schema fills in, and the fields that may change freely.
SAME_BUDGET = ("scope", "match", "period", "window")
SAME_RATE = ("scope", "match")
FREE_BUDGET = ("action", "downgrade_at")
FREE_RATE = ("on_limit", "max_wait")
RATES = ("calls_per_minute", "calls_per_hour", "tokens_per_hour")
DEFAULTS = {"match": None, "window": None, "type": "hard"}
# Privacy modes a project may move to from each base mode (`off` drops the rows from your
# logs, as `telemetry.enabled: false` would, so it is not "stricter" here).
PRIVACY_ALLOWED = {"full": ("full", "metadata"), "metadata": ("metadata",), "off": ("off",)}


def _elsewhere():
    return (f"set it in your user config ({paths.user_config_file()}) or $LLM_SHIM_CONFIG")


def not_allowed():
    """The message of a key a project file may not set at all."""
    return f"not allowed in a project file; {_elsewhere()}"


class Refusals:
    """Collects `(path, message)`; named and shaped like the validator's `problems`."""

    def __init__(self):
        self.items = []

    def add(self, path, message):
        self.items.append((tuple(path), message))


def _map(value):
    return value if isinstance(value, dict) else {}


def refusals(base, project):
    """[(path tuple, message)] of the keys of `project` that would widen `base`."""
    problems = Refusals()
    for key in project:
        if key not in ALLOWED_TOP:
            problems.add((key,), not_allowed())
    tools = set(_map(base.get("tools")))
    models = _model_names(base)
    if "agents" in project:
        _agents(base, project["agents"], tools, models, problems)
    _routing(base, project, problems)
    if "policies" in project:
        _policies(base, project["policies"], tools, problems)
    return problems.items


def without(value, paths_):
    """A copy of `value` with each key path in `paths_` removed."""
    value = copy.deepcopy(value)
    for path in sorted(paths_, key=len, reverse=True):
        node = value
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(path[-1], None)
    return value


def lines(file, marks, found):
    """`FILE:LINE: key.path: message` for each refusal, in the file's order."""
    ordered = sorted(found, key=lambda item: marks.get(item[0], 1))
    return [f"{file}:{marks.get(path, 1)}: {dotted(path)}: {message}" for path, message in ordered]


def _model_names(base):
    names = set()
    for model_id, model in _map(base.get("models")).items():
        names.add(model_id)
        aliases = _map(model).get("aliases")
        if isinstance(aliases, list):
            names.update(a for a in aliases if isinstance(a, str))
    return names


def _tool_refusal(name, tools):
    return (f"tool '{name}' is not defined in your user config or the default; a project file "
            "may only use those tools" if isinstance(name, str) and name not in tools else None)


def _chain(chain, path, tools, problems):
    if not isinstance(chain, list):
        return
    for index, entry in enumerate(chain):
        why = _tool_refusal(_map(entry).get("tool"), tools)
        if why:
            problems.add(path + (index, "tool"), why)


def _agents(base, agents, tools, models, problems):
    if not isinstance(agents, dict):
        problems.add(("agents",), "a project file may add or change agents, not replace the "
                                  "agents section")
        return
    base_agents = _map(base.get("agents"))
    base_privacy = _map(base.get("policies")).get("privacy", "metadata")
    for name, agent in agents.items():
        path = ("agents", name)
        old = base_agents.get(name)
        if not isinstance(agent, dict):
            if isinstance(old, dict):
                problems.add(path, f"removes agent '{name}' of your config; a project file may "
                                  "only add or narrow agents")
            continue
        why = _tool_refusal(agent.get("tool"), tools)
        if why:
            problems.add(path + ("tool",), why)
        model = agent.get("model")
        if isinstance(model, str) and model not in models:
            problems.add(path + ("model",), f"model '{model}' is not defined in your user config "
                                           "or the default; a project file may only pin those")
        _chain(agent.get("fallback"), path + ("fallback",), tools, problems)
        old = _map(old)
        if "budget" in agent:
            _budget(old.get("budget"), agent["budget"], path + ("budget",), f"agent '{name}'",
                    SAME_BUDGET[2:], problems)
        if "privacy" in agent:
            before = old.get("privacy") or base_privacy
            after = agent["privacy"] or base_privacy
            if before in PRIVACY_ALLOWED and after not in PRIVACY_ALLOWED[before]:
                problems.add(path + ("privacy",), f"privacy {after} is not stricter than "
                                                 f"{before}; a project file may only go from "
                                                 "full to metadata")


def limited_agents(base):
    """Agents the base gives a limit: an agent budget, or a budget/rate limit of scope agent."""
    names = {name for name, agent in _map(base.get("agents")).items()
             if _map(agent).get("budget")}
    policies = _map(base.get("policies"))
    for section in ("budgets", "rate_limits"):
        for entry in _map(policies.get(section)).values():
            entry = _map(entry)
            if entry.get("scope") == "agent" and isinstance(entry.get("match"), str):
                names.add(entry["match"])
    return names


def _routing(base, project, problems):
    """default_agent and identify decide whose limits a call counts against: a project may
    change them only while no agent they route to in the base has a limit."""
    routed = {base.get("default_agent", "default")}
    rules = base.get("identify")
    if isinstance(rules, list):
        routed.update(_map(rule).get("agent") for rule in rules)
    limited = sorted(n for n in routed & limited_agents(base) if isinstance(n, str))
    if not limited:
        return
    for key in ("default_agent", "identify"):
        if key in project and project[key] != base.get(key, [] if key == "identify" else None):
            problems.add((key,), f"would move calls away from agent '{limited[0]}', whose limits "
                                f"your config sets; {_elsewhere()}")


def _policies(base, policies, tools, problems):
    if not isinstance(policies, dict):
        problems.add(("policies",), not_allowed())
        return
    base_policies = _map(base.get("policies"))
    for key in policies:
        if key not in ALLOWED_POLICIES:
            problems.add(("policies", key), not_allowed())
    if "privacy" in policies:
        before = base_policies.get("privacy", "metadata")
        if before in PRIVACY_ALLOWED and policies["privacy"] not in PRIVACY_ALLOWED[before]:
            problems.add(("policies", "privacy"), f"privacy {policies['privacy']} is not stricter "
                                                 f"than {before}; a project file may only go "
                                                 "from full to metadata")
    for section, check in (("budgets", _budget), ("rate_limits", _rate_limit)):
        if section not in policies:
            continue
        mine = policies[section]
        path = ("policies", section)
        if not isinstance(mine, dict):
            problems.add(path, f"a project file may add {section.replace('_', ' ')}, not "
                              "replace the section")
            continue
        old = _map(base_policies.get(section))
        for name, entry in mine.items():
            if name in old:
                what = ("budget" if section == "budgets" else "rate limit") + f" '{name}'"
                check(old[name], entry, path + (name,), what, None, problems)
    fallback = policies.get("fallback")
    if isinstance(fallback, dict):
        for tool, chain in _map(fallback.get("chains")).items():
            _chain(chain, ("policies", "fallback", "chains", tool), tools, problems)


def _merged(old, new):
    """`new` deep-merged over `old`, as the layer merge would do."""
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return copy.deepcopy(new)
    out = copy.deepcopy(old)
    for key, value in new.items():
        out[key] = _merged(out.get(key), value)
    return out


def _culprit(new, rel):
    """The longest prefix of `rel` present in the project's node `new`: the key to refuse."""
    taken = ()
    for key in rel:
        if not isinstance(new, dict) or key not in new:
            break
        taken += (key,)
        new = new[key]
    return taken


def _field(value, *keys):
    for key in keys:
        value = _map(value).get(key, DEFAULTS.get(key))
    return value


def _lower(after, before):
    number = (int, float)
    return (isinstance(after, number) and not isinstance(after, bool)
            and isinstance(before, number) and after <= before)


def _budget(old, new, path, what, same, problems):
    """Refuse what would raise, soften, move or remove the limit of budget `old`."""
    if not isinstance(old, dict):
        return  # a new budget: adding a limit only narrows
    same = SAME_BUDGET if same is None else same
    if not isinstance(new, dict):
        problems.add(path, f"removes {what} of your config; a project file may only lower it")
        return
    merged = _merged(old, new)
    for key in same:
        if _field(merged, key) != _field(old, key):
            _refuse(problems, new, path, (key,),
                    f"changes the {key} of {what}; a project file may only lower its limit")
    before, after = _field(old, "limit", "usd"), _field(merged, "limit", "usd")
    if not _lower(after, before):
        _refuse(problems, new, path, ("limit", "usd"),
                f"raises {what} from {before} to {after}; a project file may only lower it")
    if _field(old, "limit", "type") == "hard" and _field(merged, "limit", "type") != "hard":
        _refuse(problems, new, path, ("limit", "type"),
                f"softens {what} (hard to {_field(merged, 'limit', 'type')}); a project file "
                "may not soften a hard limit")
    for key in set(merged) - set(same) - {"limit"} - set(FREE_BUDGET):
        if merged.get(key) != old.get(key):
            _refuse(problems, new, path, (key,),
                    f"changes {key} of {what}; not allowed in a project file")
    for key in set(_map(merged.get("limit"))) - {"usd", "type"}:
        if _map(merged["limit"]).get(key) != _map(old.get("limit")).get(key):
            _refuse(problems, new, path, ("limit", key),
                    f"changes limit.{key} of {what}; not allowed in a project file")


def _rate_limit(old, new, path, what, _same, problems):
    """Refuse what would raise, move or remove a rate of rate limit `old`."""
    if not isinstance(old, dict):
        return
    if not isinstance(new, dict):
        problems.add(path, f"removes {what} of your config; a project file may only lower it")
        return
    merged = _merged(old, new)
    for key in SAME_RATE:
        if _field(merged, key) != _field(old, key):
            _refuse(problems, new, path, (key,),
                    f"changes the {key} of {what}; a project file may only lower its limits")
    for key in RATES:
        if old.get(key) is not None and not _lower(merged.get(key), old[key]):
            _refuse(problems, new, path, (key,),
                    f"raises or removes {key} of {what} ({old[key]}); a project file may only "
                    "lower it")
    for key in set(merged) - set(SAME_RATE) - set(RATES) - set(FREE_RATE):
        if merged.get(key) != old.get(key):
            _refuse(problems, new, path, (key,),
                    f"changes {key} of {what}; not allowed in a project file")


def _refuse(problems, new, path, rel, message):
    """Refuse the project's key that causes `message` (the longest prefix of `rel` it sets),
    once per key."""
    where = path + _culprit(new, rel)
    if all(known != where for known, _ in problems.items):
        problems.add(where, message)
