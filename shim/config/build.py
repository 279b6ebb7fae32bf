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
from shim.config.compiled import PROJECT_FILE
from shim.config.merge import merge_layers, origin_of
from shim.config.validate import validate
from shim.config.yamlload import decode, dotted, parse, read_text
from shim.errors import ConfigError

SCHEMA_DEFAULT = "(schema default)"


def compile_sources(sources, contents=None):
    """The compiled config of `sources` ([(path, layer)], highest precedence first).

    `contents` may map a path to the bytes already read (the cache key was computed from them,
    so the config must be built from the same bytes). Raises ConfigError with every problem.
    """
    merged, origins, problems, on_error = _merge(sources, contents)
    if problems:
        raise _config_error(sources, problems, on_error)
    return normalise(merged, origins, sources)


def check_sources(sources, contents=None):
    """Every problem of these sources merged together, as lines; [] when valid."""
    return _merge(sources, contents)[2]


def validate_file(path):
    """Every problem of one file merged over the embedded default, as lines; [] when valid.

    The file may refer to the tools, models and agents the default defines, so it is checked
    in that context; problems of the default itself are reported too (they would break it).
    """
    path = os.path.abspath(path)
    # A project file is checked as one, so `config validate .llm-shim.yaml` says what a shim
    # would refuse in it (tools.<name>.binary).
    sources = [(path, "project" if os.path.basename(path) == PROJECT_FILE else "file")]
    default = paths.embedded_default_config()
    if os.path.abspath(default) != path:
        sources.append((default, "default"))
    return check_sources(sources)


def explain(sources):
    """(compiled config, origins {path tuple: (file, line)}) for `config show --origin`."""
    merged, origins, problems, on_error = _merge(sources, None)
    if problems:
        raise _config_error(sources, problems, on_error)
    return normalise(merged, origins, sources), origins


# What to check when a source cannot be read, by the layer it came from.
READ_HINTS = {
    "env": "check $LLM_SHIM_CONFIG and `llm-shim config path`",
    "file": "check the FILE you passed",
}
READ_HINT = "check the file and its permissions; `llm-shim config path` lists the files in use"


def _merge(sources, contents):
    """(merged, origins, problems, on_error) of the sources.

    `on_error` is `policies.on_error` as the layers that parse set it (highest precedence
    wins), so that `block` holds even when the merged config is invalid. A source that cannot
    be read raises its ConfigError, carrying that `on_error` too.
    """
    layers = []
    problems = []
    unreadable = False
    read_error = None
    on_error = None
    for path, layer in reversed(sources):  # lowest precedence first
        data = (contents or {}).get(path)
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
            if layer == "project":
                problems.extend(_project_only_problems(path, value, marks))
            layers.append((path, value, marks))
    if read_error is not None:
        read_error.on_error = on_error
        raise read_error
    if unreadable:  # a file we could not read as a mapping: checking the rest would only add noise
        return None, {}, problems, on_error
    merged, origins = merge_layers(layers)
    found = validate(merged, origins)
    return (merged, origins, _in_file_order(problems + found.lines(), [p for p, _ in sources]),
            on_error)


def _on_error(value):
    """`policies.on_error` of one parsed layer, when it is set to a valid value."""
    policies = value.get("policies")
    found = policies.get("on_error") if isinstance(policies, dict) else None
    return found if found in ("block", "passthrough") else None


def _project_only_problems(path, value, marks):
    """Keys a project file may not set. A `.llm-shim.yaml` comes with whatever repository you
    cloned: if it could set `tools.<name>.binary`, running `claude` there would run the
    repository's own program; if it could set `team`, your calls' telemetry would go to a
    database the repository chose. Both are yours to choose: the user file or $LLM_SHIM_CONFIG."""
    forbidden = []
    tools = value.get("tools")
    if isinstance(tools, dict):
        forbidden += [("tools", name, "binary") for name, tool in tools.items()
                      if isinstance(tool, dict) and "binary" in tool]
    if "team" in value:
        forbidden.append(("team",))
    policies = value.get("policies")
    if isinstance(policies, dict) and "alerts" in policies:  # alerts run programs
        forbidden.append(("policies", "alerts"))
    return [f"{path}:{marks.get(where, 1)}: {dotted(where)}: not allowed in a project file; "
            f"set it in your user config ({paths.user_config_file()}) or $LLM_SHIM_CONFIG"
            for where in forbidden]


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
