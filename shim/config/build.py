"""The slow path: YAML -> merge -> validate -> normalise, run only on a config cache miss.

`compile_sources(sources)` turns the discovered files into the compiled config dict described
in docs/internals.md; `validate_file(path)` and `check_sources(sources)` return the problems for
`llm-shim config validate`. Every problem is one `FILE:LINE: key.path: message` line.
"""

import copy
import os
import time

from shim import __version__, paths
from shim.config import schema as schema_mod
from shim.config import PROJECT_FILE
from shim.config.merge import merge_layers, origin_of
from shim.config.validate import validate
from shim.config.yamlload import decode, dotted, parse, read_text
from shim.errors import ConfigError

SCHEMA_DEFAULT = "(schema default)"


# How the builder learns whether a project file is trusted: `compiled.load` passes
# {"env": $LLM_SHIM_TRUST_PROJECT_FILES, "store": the trust store's bytes} (both in its cache
# key); None reads them from this process; ASSUME_TRUSTED checks a project file as if it were
# trusted, so `config validate` says what it would do.
ASSUME_TRUSTED = "assume-trusted"


def compile_sources(sources, contents=None, trust=None):
    """The compiled config of `sources` ([(path, layer)], highest precedence first).

    `contents` may map a path to the bytes already read (the cache key was computed from them,
    so the config must be built from the same bytes). Raises ConfigError with every problem.
    A project file that is not trusted, or would make the merge invalid, is left out and its
    warning lines go to `_notices` (printed by `compiled.load`, at most hourly).
    """
    found = _merge(sources, contents, trust)
    if found["problems"]:
        raise _config_error(sources, found["problems"], found["on_error"])
    return _finish(found, sources)


def check_sources(sources, contents=None):
    """Every problem of these sources merged together, as lines; [] when valid.

    A project file is checked as if trusted: what it may not set is a problem here."""
    found = _merge(sources, contents, ASSUME_TRUSTED)
    return _in_file_order(found["problems"] + found["project_problems"],
                          [p for p, _ in sources])


def validate_file(path):
    """Every problem of one file merged over the embedded default, as lines; [] when valid.

    The file may refer to the tools, models and agents the default defines, so it is checked
    in that context; problems of the default itself are reported too (they would break it).
    """
    path = os.path.abspath(path)
    # A project file is checked as one, so `config validate .llm-shim.yaml` says what a shim
    # would refuse in it.
    sources = [(path, "project" if os.path.basename(path) == PROJECT_FILE else "file")]
    default = paths.embedded_default_config()
    if os.path.abspath(default) != path:
        sources.append((default, "default"))
    return check_sources(sources)


def explain(sources):
    """(compiled config, origins {path tuple: (file, line)}) for `config show --origin`."""
    found = _merge(sources, None)
    if found["problems"]:
        raise _config_error(sources, found["problems"], found["on_error"])
    return _finish(found, sources), found["origins"]


def _finish(found, sources):
    config = normalise(found["merged"], found["origins"], sources)
    for source in config["_sources"]:
        if source["layer"] == "project":
            source["trust"] = found["project_state"]
    config["_notices"] = found["notices"]
    return config


# What to check when a source cannot be read, by the layer it came from.
READ_HINTS = {
    "env": "check $LLM_SHIM_CONFIG and `llm-shim config path`",
    "file": "check the FILE you passed",
}
READ_HINT = "check the file and its permissions; `llm-shim config path` lists the files in use"


def _merge(sources, contents, trust=None):
    """{merged, origins, problems, on_error, notices, project_problems, project_state}.

    `on_error` is `policies.on_error` as the non-project layers that parse set it (highest
    precedence wins), so that `block` holds even when the merged config is invalid; a project
    file never sets it. A source that cannot be read raises its ConfigError, carrying that
    `on_error` too. A project layer is judged apart (`_with_project`): its problems never make
    the configuration unusable, they leave the project file out.
    """
    layers = []
    problems = []
    unreadable = False
    read_error = None
    on_error = None
    setting = None
    project = None
    for path, layer in reversed(sources):  # lowest precedence first
        data = (contents or {}).get(path)
        if layer == "project":
            project = _read_project(path, data, len(layers))
            continue
        try:
            text = decode(path, data) if data is not None else \
                read_text(path, READ_HINTS.get(layer, READ_HINT))
        except ConfigError as exc:
            read_error = read_error or exc
            continue
        value, marks, file_problems = parse(path, text)
        problems.extend(file_problems)
        if value is None:
            unreadable = True
        elif not isinstance(value, dict):
            problems.append(f"{path}:1: (top level): expected a mapping of keys, got "
                            f"{type(value).__name__}")
            unreadable = True
        else:
            on_error = _on_error(value) or on_error
            setting = _trust_setting(value, setting)
            layers.append((path, value, marks))
    if read_error is not None:
        read_error.on_error = on_error
        raise read_error
    found = {"merged": None, "origins": {}, "problems": problems, "on_error": on_error,
             "notices": [], "project_problems": [], "project_state": None}
    if unreadable:  # a file we could not read as a mapping: checking the rest would only add noise
        if project is not None:
            found["project_problems"] = project["problems"]
        return found
    merged, origins = merge_layers(layers)
    found["problems"] = _in_file_order(problems + validate(merged, origins).lines(),
                                       [p for p, _ in sources])
    found["merged"], found["origins"] = merged, origins
    if project is not None:
        _with_project(found, project, layers, trust, setting)
    return found


def _read_project(path, data, at):
    """The project layer parsed: {path, value, marks, data, at, problems}."""
    project = {"path": path, "value": None, "marks": {}, "data": data, "at": at, "problems": []}
    try:
        if data is None:
            with open(path, "rb") as fh:
                project["data"] = data = fh.read()
        text = decode(path, data)
    except (OSError, ConfigError) as exc:
        why = exc.why if isinstance(exc, ConfigError) else (exc.strerror or str(exc))
        project["problems"].append(f"{path}:1: (file): cannot be read: {why}")
        return project
    value, marks, file_problems = parse(path, text)
    project["problems"].extend(file_problems)
    if value is not None and not isinstance(value, dict):
        project["problems"].append(f"{path}:1: (top level): expected a mapping of keys, got "
                                   f"{type(value).__name__}")
        value = None
    project["value"], project["marks"] = value, marks
    return project


def _trust_setting(value, below):
    """`policies.trust_project_files` of a non-project layer when it is a boolean."""
    policies = value.get("policies")
    found = policies.get("trust_project_files") if isinstance(policies, dict) else None
    return found if isinstance(found, bool) else below


def _with_project(found, project, layers, trust, setting):
    """Apply a project layer to `found` if it is trusted, minus the keys it may not set; leave
    it out whole when it cannot be parsed or its keys would make the merge invalid."""
    from shim.config import narrow, trust as trust_mod

    path, data = project["path"], project["data"]
    sha = trust_mod.digest(data) if data is not None else "-"
    checking = trust == ASSUME_TRUSTED
    if not checking:
        if trust is None:
            trust = {"env": os.environ.get(trust_mod.ENV_VAR), "store": trust_mod.read_store()}
        mode = trust_mod.mode({trust_mod.ENV_VAR: trust.get("env")}, setting)
        if mode == "none":
            found["project_state"] = "ignored (trust_project_files off)"
            return
        if mode == "store" and (data is None or not trust_mod.is_trusted(path, data,
                                                                          trust.get("store"))):
            found["project_state"] = "untrusted"
            warnings = []
            warnings.append((f"project config {path}", "not trusted, so not applied",
                             f"`llm-shim trust {path}` applies it (docs/security.md)"))
            found["notices"].append(_notice("untrusted", path, sha, [], warnings))
            return
        found["project_state"] = "trusted" if mode == "store" else \
            f"trusted (${trust_mod.ENV_VAR} or policies.trust_project_files)"
    own = list(project["problems"])
    refused = []
    value = project["value"]
    below = layers[:project["at"]]
    if value is not None:
        # Compared with every layer of yours, $LLM_SHIM_CONFIG's too: a key it sets over the
        # project file merges key by key, so a project's `type: soft` could survive beneath it.
        base, _ = merge_layers(layers)
        refusals = narrow.refusals(base, value)
        refused = narrow.lines(path, project["marks"], refusals)
        value = narrow.without(value, [where for where, _ in refusals])
    if checking:
        found["project_problems"] = own + refused
    if value is None or (found["problems"] and not checking):
        if own and not checking:  # it does not parse (the rest is applied without it)
            _ignored(found, path, sha, own)
        return
    merged, origins = merge_layers(below + [(path, value, project["marks"])]
                                   + layers[project["at"]:])
    invalid = validate(merged, origins).lines()
    if checking:  # everything the whole merge would say, the rest's problems included
        found["problems"] = invalid
        found["merged"], found["origins"] = merged, origins
        return
    if invalid or own:  # the project's keys make it invalid: the rest still holds without them
        _ignored(found, path, sha, own + refused + invalid)
        return
    found["merged"], found["origins"] = merged, origins
    if refused and not checking:
        found["notices"].append(_notice("refused", path, sha, refused, []))


def _ignored(found, path, sha, lines):
    found["project_state"] = "ignored (invalid)"
    count = f"{len(lines)} problem{'s' if len(lines) != 1 else ''}"
    warnings = []
    warnings.append((f"project config {path}", f"{count}, so none of it applies",
                     f"fix them and check with `llm-shim config validate {path}`"))
    found["notices"].append(_notice("invalid", path, sha, lines, warnings))


def _notice(kind, path, sha, problems, warnings):
    """[stamp id, lines]: `compiled.load` prints the lines at most once an hour per id."""
    lines = [f"llm-shim: {problem}" for problem in problems]
    lines += [f"llm-shim: warning: {what}: {why}; {hint}" for what, why, hint in warnings]
    return [f"{kind} {sha} {path}", lines]


def _on_error(value):
    """`policies.on_error` of one parsed layer, when it is set to a valid value."""
    policies = value.get("policies")
    found = policies.get("on_error") if isinstance(policies, dict) else None
    return found if found in ("block", "passthrough") else None


def _in_file_order(problems, files):
    """Sort `FILE:LINE...` lines by the files' precedence, then line (stable otherwise)."""
    def key(problem):
        for rank, file in enumerate(files):
            if problem.startswith(file + ":"):
                line = problem[len(file) + 1:].split(":", 1)[0]
                return (rank, int(line) if line.isdigit() else 0)
        return (len(files), 0)

    return sorted(problems, key=key)


def _config_error(sources, problems, on_error=None):
    files = sorted({p.split(":", 1)[0] for p in problems})
    count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
    return ConfigError("config", f"{count} in {', '.join(files) or 'the configuration'}",
                       "fix them, then check with `llm-shim config validate`", problems=problems,
                       on_error=on_error)


def normalise(merged, origins, sources):
    """Fill schema defaults and add `_sources`, `_aliases`, `_origin`, `_version`."""
    root = schema_mod.load_schema()
    config = copy.deepcopy(merged)
    filled = set()
    _fill_defaults(config, root, root, (), filled)
    config["_sources"] = [{"path": path, "layer": layer} for path, layer in sources]
    config["_aliases"] = aliases(config)
    config["_origin"] = leaf_origins(config, origins, filled)
    config["_version"] = __version__
    return config


def aliases(config):
    """{model id or alias: model id}, exact and case-sensitive."""
    table = {}
    for model_id, model in config.get("models", {}).items():
        table[model_id] = model_id
    for model_id, model in config.get("models", {}).items():
        for alias in model.get("aliases") or ():
            table.setdefault(alias, model_id)
    return table


def _fill_defaults(value, schema, root, path, filled):
    schema = schema_mod.resolve(schema, root)
    if isinstance(value, dict):
        for key, child in (schema.get("properties") or {}).items():
            child = schema_mod.resolve(child, root)
            if key not in value and "default" in child:
                value[key] = copy.deepcopy(child["default"])
                filled.add(path + (key,))
            if key in value:
                _fill_defaults(value[key], child, root, path + (key,), filled)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for key in value:
                if key not in (schema.get("properties") or {}):
                    _fill_defaults(value[key], extra, root, path + (key,), filled)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            _fill_defaults(item, schema["items"], root, path + (index,), filled)


def leaf_origins(config, origins, filled):
    """{dotted path of every leaf (scalar, list, empty mapping): the file that set it}."""
    out = {}

    def walk(value, path):
        if isinstance(value, dict) and value:
            for key, child in value.items():
                if not (not path and isinstance(key, str) and key.startswith("_")):
                    walk(child, path + (key,))
            return
        if any(path[:i] in filled for i in range(1, len(path) + 1)):
            out[dotted(path)] = SCHEMA_DEFAULT
        else:
            out[dotted(path)] = origin_of(origins, path)[0]

    walk(config, ())
    return out


def remove_stale_temp_files(directory, older_than=600):
    """Temp files of writers that died between write and rename (rare; cleaned on a miss)."""
    cutoff = time.time() - older_than
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith("config-") and entry.name.endswith(".tmp"):
            try:
                if entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
            except OSError:
                pass
