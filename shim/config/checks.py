"""Cross-checks over the whole merged config that JSON Schema cannot express.

Each check is `check(config, refs, problems)`: `refs` are the `(kind, name, path)` the schema
walk collected from `x-ref`/`x-key-ref` nodes, `problems.add(path, message)` reports at the
line the node at `path` was written. Checks run even when the schema walk found problems, so
they must not trust types: look before you index. To add a rule, write a function and append
it to `CHECKS`.
"""

import difflib

from shim.config.merge import origin_of


def _mapping(value):
    return value if isinstance(value, dict) else {}


def _get(config, *keys):
    for key in keys:
        config = _mapping(config).get(key)
    return config


def known_names(config):
    """{kind: set of names} that references may use; models by id and by alias.

    A kind whose section is not a mapping (already reported as a type error) maps to None:
    references to it are not checked, instead of all being reported as unknown.
    """
    models = _mapping(config.get("models"))
    model_names = set(models)
    providers = set()
    for model in models.values():
        model = _mapping(model)
        aliases = model.get("aliases")
        if isinstance(aliases, list):
            model_names.update(a for a in aliases if isinstance(a, str))
        if isinstance(model.get("provider"), str):
            providers.add(model["provider"])
    for tool in _mapping(config.get("tools")).values():
        listed = _mapping(tool).get("providers")
        if isinstance(listed, list):
            providers.update(p for p in listed if isinstance(p, str))
    usable = {kind: isinstance(config.get(section), dict)
              for kind, section in (("tool", "tools"), ("model", "models"), ("agent", "agents"))}
    return {
        "tool": set(config["tools"]) if usable["tool"] else None,
        "model": model_names if usable["model"] else None,
        "agent": set(config["agents"]) if usable["agent"] else None,
        "provider": providers if usable["model"] and usable["tool"] else None,
    }


def _unknown(kind, name, known):

    where = {"tool": "tools", "model": "models (ids and aliases)", "agent": "agents",
             "provider": "the providers of models and tools"}[kind]
    return f"unknown {kind} '{name}': not defined under {where}" + suggestion(name, sorted(known))


def check_references(config, refs, problems):
    known = known_names(config)
    for kind, name, path in refs:
        if known[kind] is not None and name not in known[kind]:
            problems.add(path, _unknown(kind, name, known[kind]))


def check_duplicate_aliases(config, refs, problems):
    """An alias names exactly one model, and is never another model's id."""
    models = _mapping(config.get("models"))
    owner = {model_id: model_id for model_id in models}
    for model_id, model in models.items():
        aliases = _mapping(model).get("aliases")
        if not isinstance(aliases, list):
            continue
        for index, alias in enumerate(aliases):
            if not isinstance(alias, str) or alias == model_id:
                continue
            other = owner.get(alias)
            if other is None:
                owner[alias] = model_id
            elif other != model_id:
                what = "is the id of model" if alias in models else "is already an alias of model"
                file, line = origin_of(problems.origins, ("models", other))
                problems.add(("models", model_id, "aliases", index),
                             f"duplicate alias '{alias}': {what} '{other}' ({file}:{line})")


def _entries(chain):
    """(index, tool, model) of the well-formed entries of a fallback chain."""
    if not isinstance(chain, list):
        return []
    out = []
    for index, entry in enumerate(chain):
        entry = _mapping(entry)
        if isinstance(entry.get("tool"), str):
            out.append((index, entry["tool"], entry.get("model")))
    return out


def _check_repeats(chain_path, entries, problems):
    seen = {}
    for index, tool, model in entries:
        key = (tool, model if isinstance(model, str) else None)
        if key in seen:
            problems.add(chain_path + (index,), f"repeats entry [{seen[key]}] ({tool}"
                         + (f", {model}" if key[1] else "") + "): a chain visits each step once")
        else:
            seen[key] = index


def check_fallback_loops(config, refs, problems):
    """A tool's chain must not lead back to the tool (claude -> codex -> claude)."""
    chains = _mapping(_get(config, "policies", "fallback", "chains"))
    edges = {}
    for tool, chain in chains.items():
        path = ("policies", "fallback", "chains", tool)
        entries = _entries(chain)
        _check_repeats(path, entries, problems)
        edges[tool] = []
        for index, target, model in entries:
            if target == tool and model is None:
                problems.add(path + (index,), f"fallback chain loops: {tool} falls back to itself "
                             "(name a different model, or remove the entry)")
            elif target != tool:
                edges[tool].append((index, target))
    reported = set()
    for start in edges:
        for index, cycle in _cycles_from(start, edges):
            canonical = frozenset(cycle)
            if canonical in reported:
                continue
            reported.add(canonical)
            problems.add(("policies", "fallback", "chains", start, index),
                         "fallback chain loops: " + " -> ".join(cycle + [start]))
    for name, agent in _mapping(config.get("agents")).items():
        chain = _mapping(agent).get("fallback")
        path = ("agents", name, "fallback")
        entries = _entries(chain)
        _check_repeats(path, entries, problems)
        own = (_mapping(agent).get("tool"), _mapping(agent).get("model"))
        for index, tool, model in entries:
            if own[0] is not None and (tool, model) == own:
                problems.add(path + (index,), f"fallback chain loops: agent '{name}' falls back to "
                             f"its own tool and model ({tool}, {model})")


def _cycles_from(start, edges):
    """(index of the first entry in start's chain, [start, ..., last]) for each way back to start."""
    found = []
    for index, first in edges.get(start, []):
        stack = [(first, [start, first])]
        seen = set()
        while stack:
            node, trail = stack.pop()
            if node == start:
                found.append((index, trail[:-1]))
                break
            if node in seen:
                continue
            seen.add(node)
            for _, nxt in edges.get(node, []):
                stack.append((nxt, trail + [nxt]))
    return found


_SCOPE_KINDS = {"agent": "agent", "tool": "tool", "model": "model", "provider": "provider"}


def _check_scope_match(entry, path, problems, known):
    scope = entry.get("scope")
    match = entry.get("match")
    if scope in ("global", "team"):
        if match is not None:
            problems.add(path + ("match",), f"scope {scope} counts every call; remove match")
    elif scope in _SCOPE_KINDS:
        if match is None:
            problems.add(path, f"scope {scope} needs a match (the {scope}'s name)")
        elif isinstance(match, str) and known[_SCOPE_KINDS[scope]] is not None \
                and match not in known[_SCOPE_KINDS[scope]]:
            problems.add(path + ("match",), _unknown(_SCOPE_KINDS[scope], match, known[_SCOPE_KINDS[scope]]))


def _check_period_window(budget, path, problems):
    period, window = budget.get("period"), budget.get("window")
    if period == "rolling" and window is None:
        problems.add(path, "period rolling needs a window (e.g. window: 5h)")
    elif period in ("day", "week", "month") and window is not None:
        problems.add(path + ("window",), f"window only applies to period rolling, not {period}")


def check_budgets_and_rate_limits(config, refs, problems):
    known = known_names(config)
    for name, budget in _mapping(_get(config, "policies", "budgets")).items():
        if isinstance(budget, dict):
            path = ("policies", "budgets", name)
            _check_scope_match(budget, path, problems, known)
            if budget.get("scope") == "team" and not config.get("team"):
                problems.add(path + ("scope",), "scope team needs a team: section (the shared "
                             "store, docs/team.md)")
            _check_period_window(budget, path, problems)
    for name, agent in _mapping(config.get("agents")).items():
        budget = _mapping(agent).get("budget")
        if isinstance(budget, dict):
            _check_period_window(budget, ("agents", name, "budget"), problems)
    for name, limit in _mapping(_get(config, "policies", "rate_limits")).items():
        if isinstance(limit, dict):
            path = ("policies", "rate_limits", name)
            _check_scope_match(limit, path, problems, known)
            counted = ("calls_per_minute", "calls_per_hour", "tokens_per_hour")
            if all(limit.get(k) is None for k in counted):
                problems.add(path, "needs at least one of " + ", ".join(counted))


def check_quotas(config, refs, problems):
    for name, quota in _mapping(_get(config, "policies", "quotas")).items():
        if not isinstance(quota, dict):
            continue
        path = ("policies", "quotas", name)
        to = quota.get("to")
        if quota.get("action") == "redirect" and not isinstance(to, dict):
            problems.add(path, "action redirect needs to: {tool: ...} (where the call goes)")
        elif isinstance(to, dict) and to.get("tool") == quota.get("tool"):
            problems.add(path + ("to", "tool"), "redirects to the tool it watches")


def check_identify_rules(config, refs, problems):
    rules = config.get("identify")
    if not isinstance(rules, list):
        return
    for index, rule in enumerate(rules):
        if not isinstance(rule, dict):
            continue
        path = ("identify", index)
        if all(rule.get(k) is None for k in ("parent", "cwd", "tool")):
            problems.add(path, "a rule needs at least one of parent, cwd, tool (or it matches every call)")
        parent = rule.get("parent")
        if isinstance(parent, dict) and parent.get("name") is None and parent.get("cmdline") is None:
            problems.add(path + ("parent",), "parent needs name or cmdline")


# Placeholders that carry text from the call (the prompt, the system prompt): each must be a
# whole argv element of a `render` template, never part of a longer string, so no template can
# hand it to a shell (`["-c", "echo {prompt}"]`). `{model}` may also close a `--flag=` element
# (`--model={model}`), the one form a model id needs.
TEXT_PLACEHOLDERS = ("{prompt}", "{system}")
MODEL_PLACEHOLDER = "{model}"


def template_problem(part):
    """Why one template string may not be used, or None."""
    if not isinstance(part, str):
        return None
    for mark in TEXT_PLACEHOLDERS + (MODEL_PLACEHOLDER,):
        if mark in part and part != mark:
            if mark == MODEL_PLACEHOLDER and part.endswith("=" + mark) \
                    and part.startswith("-") and part.count("{") == 1 and " " not in part:
                continue
            return (f"{mark} must be a whole argument of its own, not part of {part!r} (a "
                    "program reading it as a script would run what the call carries)")
    return None


def check_render_templates(config, refs, problems):
    for name, tool in _mapping(config.get("tools")).items():
        render = _get(tool, "generic", "render")
        if not isinstance(render, list):
            continue
        for index, item in enumerate(render):
            group = item if isinstance(item, list) else [item]
            for inner, part in enumerate(group):
                why = template_problem(part)
                if why:
                    where = ("tools", name, "generic", "render", index)
                    problems.add(where + ((inner,) if isinstance(item, list) else ()), why)


CHECKS = [
    check_render_templates,
    check_references,
    check_duplicate_aliases,
    check_fallback_loops,
    check_budgets_and_rate_limits,
    check_quotas,
    check_identify_rules,
]


def suggestion(word, candidates):
    """`; did you mean 'x'?` for the closest candidate, or ''."""
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, [c for c in candidates if isinstance(c, str)], n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""
