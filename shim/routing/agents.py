"""Who is calling: `$LLM_SHIM_AGENT`, else the first matching `identify:` rule, else
`default_agent`. A `$LLM_SHIM_AGENT` that names no agent is a typo until proven otherwise:
`policies.unknown_agent` maps it to `default_agent` (warn, default) or refuses the call (block).

Rules (config `identify:`, first match wins; every condition in a rule must hold):

    - {agent: reviewer, parent: {cmdline: "*review-bot*"}}   # anywhere up the parent chain
    - {agent: ci, parent: "github-runner*"}                  # a string matches the name
    - {agent: work, cwd: "~/work/**"}
    - {agent: scripts, tool: llm}

Hot path: psutil is imported only when a `parent` rule is reached, fnmatch only when a glob
rule is.
"""

import os

from shim import errors

ENV_VAR = "LLM_SHIM_AGENT"
MAX_PARENTS = 32


def identify(tool, cfg, environ=None, cwd=None, parents=None):
    """(agent, reason). `parents` ([{"name", "cmdline"}], nearest first) replaces the psutil
    walk, for tests and callers that already know the chain."""
    environ = os.environ if environ is None else environ
    agents = (cfg or {}).get("agents") or {}
    named = (environ.get(ENV_VAR) or "").strip()
    if named:
        if named in agents:
            return named, "$%s=%s" % (ENV_VAR, named)
        return unknown_agent(named, cfg)
    chain = parents
    for number, rule in enumerate((cfg or {}).get("identify") or (), 1):
        agent = rule.get("agent")
        if not agent:
            continue
        matched = []
        ok = True
        if rule.get("tool"):
            ok = rule["tool"] == tool
            matched.append("tool %s" % tool)
        if ok and rule.get("cwd"):
            where = cwd if cwd is not None else _getcwd()
            ok = where is not None and _cwd_matches(where, rule["cwd"], environ)
            matched.append("cwd %s matches %s" % (where, rule["cwd"]))
        if ok and rule.get("parent"):
            if chain is None:
                chain = _parent_chain()
            hit = _parent_matches(chain, rule["parent"])
            ok = hit is not None
            matched.append("parent process %s" % hit)
        if ok and matched:
            return agent, "identify rule %d: %s" % (number, "; ".join(matched))
    default = (cfg or {}).get("default_agent") or "default"
    return default, "default_agent"


def unknown_agent(named, cfg):
    """(agent, reason) for a `$LLM_SHIM_AGENT` that names no agent: a typo must never escape a
    budget, so the default agent (its settings and budgets) applies, after one line naming the
    closest agent (`policies.unknown_agent: warn`), silently (`default`), or the call is
    refused (`block`: errors.Blocked, exit 75)."""
    cfg = cfg or {}
    policy = (cfg.get("policies") or {}).get("unknown_agent") or "warn"
    default = cfg.get("default_agent") or "default"
    guess = closest(named, cfg.get("agents") or {})
    meant = f" (did you mean {guess}?)" if guess is not None else ""
    if policy == "block":
        raise errors.Blocked(
            "agent", f"$LLM_SHIM_AGENT={named} names no configured agent{meant}",
            "set it to an agent under `agents:` (`llm-shim config show agents`); "
            "policies.unknown_agent is block, so nothing ran")
    if policy != "default":
        errors.warn("agent", f"$LLM_SHIM_AGENT={named} names no configured agent{meant}",
                    f"the default agent {default} applies, with its budgets "
                    "(policies.unknown_agent: default silences this line)")
    return default, "%s%s: default_agent %s applies" % (UNKNOWN_MARK, named, default)


# The start of the agent reason of a mapped unknown name: decide() copies that reason into the
# recorded reasons, so the name that was asked for is kept.
UNKNOWN_MARK = "unknown agent $%s=" % ENV_VAR


def closest(name, known):
    """The known agent `name` most likely meant: same name ignoring case, else the nearest by
    edit distance (at most a third of the name's length, 1 at least), else None."""
    lowered = name.lower()
    for candidate in sorted(known):
        if candidate.lower() == lowered:
            return candidate
    best, best_distance = None, max(1, len(name) // 3) + 1
    for candidate in sorted(known):
        distance = _edit_distance(lowered, candidate.lower())
        if distance < best_distance:
            best, best_distance = candidate, distance
    return best


NEAR_DISTANCE = 2


def near(name, known):
    """The known agents `name` may have meant: the same name ignoring case, or at most
    NEAR_DISTANCE edits away (every one of them, sorted). Their budgets gate a call made
    under the typo."""
    lowered = name.lower()
    return [c for c in sorted(known) if _edit_distance(lowered, c.lower()) <= NEAR_DISTANCE]


def mapped_from(reason):
    """The unknown `$LLM_SHIM_AGENT` name an agent reason records, or None."""
    if not reason or not reason.startswith(UNKNOWN_MARK):
        return None
    return reason[len(UNKNOWN_MARK):].rsplit(": default_agent ", 1)[0]


def _edit_distance(a, b):
    """Levenshtein distance (difflib is too heavy for the hot path, and ranks differently)."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def _getcwd():
    try:
        return os.getcwd()
    except OSError:
        return None


def _expand(pattern, environ):
    if pattern.startswith("~"):
        home = environ.get("HOME") or os.path.expanduser("~")
        if pattern == "~" or pattern.startswith("~/"):
            return home + pattern[1:]
        return os.path.expanduser(pattern)
    return pattern


def _cwd_matches(cwd, pattern, environ):
    """Glob over the whole path; `*` crosses `/` and `dir/**` also matches `dir` itself."""
    from fnmatch import fnmatchcase

    pattern = _expand(pattern, environ).rstrip("/") or "/"
    cwd = cwd.rstrip("/") or "/"
    if fnmatchcase(cwd, pattern):
        return True
    if pattern.endswith("/**") and cwd == pattern[:-3]:
        return True
    return False


def _parent_matches(chain, rule):
    """The first process up the chain whose name/cmdline match the rule, as text; else None."""
    from fnmatch import fnmatchcase

    if isinstance(rule, str):
        rule = {"name": rule}
    name_glob = rule.get("name")
    cmd_glob = rule.get("cmdline")
    for proc in chain:
        if name_glob and not fnmatchcase(proc.get("name") or "", name_glob):
            continue
        if cmd_glob and not fnmatchcase(proc.get("cmdline") or "", cmd_glob):
            continue
        if name_glob or cmd_glob:
            return proc.get("name") or proc.get("cmdline")
    return None


def _parent_chain():
    """[{"name", "cmdline"}] from our parent up to (not including) PID 1, via psutil."""
    try:
        import psutil
    except ImportError:
        return []
    chain = []
    try:
        proc = psutil.Process(os.getppid())
        while proc is not None and proc.pid > 1 and len(chain) < MAX_PARENTS:
            try:
                chain.append({"name": proc.name(), "cmdline": " ".join(proc.cmdline())})
            except (psutil.AccessDenied, psutil.ZombieProcess):
                chain.append({"name": "", "cmdline": ""})
            proc = proc.parent()
    except psutil.Error:
        pass
    return chain
