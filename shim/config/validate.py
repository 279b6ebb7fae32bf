"""Validate a merged configuration against the schema, reporting every problem at once.

`validate(config, origins)` walks the config and the schema side by side (the keywords in
`schema.VALIDATION_KEYWORDS`), then runs the cross-checks in `checks.CHECKS` (references,
duplicate aliases, fallback loops, rules JSON Schema cannot express). Each problem is located at
the file and line where the offending node was written (`origins`, from `merge`).
"""

import json
import math
import re

from shim.config import checks, schema as schema_mod
from shim.config.checks import suggestion
from shim.config.merge import origin_of
from shim.config.schema import json_type, resolve
from shim.config.yamlload import dotted


# The schema's pattern for a path that must not depend on the working directory (a relative
# `binary` would run whatever the current directory holds under that name).
ABSOLUTE_PATH = "^(/|~/)"


class Problems:
    """Collects `(file, line, path, message)`; `add` finds the line from the node's origin."""

    def __init__(self, origins):
        self.origins = origins
        self.items = []

    def add(self, path, message):
        file, line = origin_of(self.origins, tuple(path))
        self.items.append((file, line, dotted(tuple(path)), message))

    def lines(self):
        """De-duplicated `FILE:LINE: key.path: message` lines, by file then line."""
        unique = sorted(set(self.items), key=lambda p: (p[0], p[1], p[2], p[3]))
        return [f"{file}:{line}: {path}: {message}" for file, line, path, message in unique]


def validate(config, origins, root=None):
    """Every problem of a merged config, as a `Problems`."""
    root = root or schema_mod.load_schema()
    problems = Problems(origins)
    refs = []
    _check(config, root, (), root, problems, refs)
    for check in checks.CHECKS:
        check(config, refs, problems)
    return problems


def show(value):
    """A short rendering of a value inside a message (JSON-ish, as YAML would read it)."""
    if isinstance(value, (dict, list)) or value is None:
        return ""  # the type already says it all ("got null", not "got null null")
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return " " + (text if len(text) <= 40 else text[:37] + '..."')


def same(a, b):
    """JSON equality: true is not 1, null is only null."""
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return type(a) is type(b) and a == b
    return a == b


def type_ok(value, wanted):
    kind = json_type(value)
    if wanted == kind:
        return True
    if wanted == "number":
        return kind == "integer"
    if wanted == "integer":
        return kind == "number" and math.isfinite(value) and float(value).is_integer()
    return False


_YAML_BOOL_WORDS = {True: ("on", "yes", "y", "true"), False: ("off", "no", "n", "false")}


def _yaml_bool_hint(value, allowed):
    """YAML 1.1 reads unquoted off/on/yes/no as booleans: `privacy: off` is `false`."""
    if not isinstance(value, bool):
        return ""
    words = [e for e in allowed if isinstance(e, str) and e.lower() in _YAML_BOOL_WORDS[value]]
    return f"; YAML reads an unquoted {words[0]} as {json.dumps(value)}: quote it, \"{words[0]}\"" if words else ""


def _describe(types):
    return " or ".join(types)


def _check(value, schema, path, root, problems, refs):
    s = resolve(schema, root)
    declared = s.get("type")
    if declared is not None:
        types = (declared,) if isinstance(declared, str) else tuple(declared)
        if not any(type_ok(value, t) for t in types):
            problems.add(path, f"expected {_describe(types)}, got {json_type(value)}{show(value)}")
            return
    if "const" in s and not same(value, s["const"]):
        problems.add(path, f"must be {json.dumps(s['const'])}, got{show(value) or ' ' + json_type(value)}")
        return
    if "enum" in s and not any(same(value, e) for e in s["enum"]):
        allowed = ", ".join(json.dumps(e) if not isinstance(e, str) else e for e in s["enum"])
        problems.add(path, f"must be one of {allowed}; got{show(value) or ' ' + json_type(value)}"
                     + suggestion(value, s["enum"]) + _yaml_bool_hint(value, s["enum"]))
        return
    kind = json_type(value)
    if kind in ("integer", "number"):
        _check_number(value, s, path, problems)
    elif kind == "string":
        _check_string(value, s, path, problems, refs)
    elif kind == "array":
        _check_array(value, s, path, root, problems, refs)
    elif kind == "object":
        _check_object(value, s, path, root, problems, refs)


def _check_number(value, s, path, problems):
    if not math.isfinite(value):
        problems.add(path, f"must be a finite number, got{show(value)}")
        return
    if "minimum" in s and value < s["minimum"]:
        problems.add(path, f"must be >= {s['minimum']}, got {value}")
    if "exclusiveMinimum" in s and value <= s["exclusiveMinimum"]:
        problems.add(path, f"must be > {s['exclusiveMinimum']}, got {value}")
    if "maximum" in s and value > s["maximum"]:
        problems.add(path, f"must be <= {s['maximum']}, got {value}")
    if "exclusiveMaximum" in s and value >= s["exclusiveMaximum"]:
        problems.add(path, f"must be < {s['exclusiveMaximum']}, got {value}")


def _check_string(value, s, path, problems, refs):
    if "minLength" in s and len(value) < s["minLength"]:
        problems.add(path, "must not be empty" if s["minLength"] == 1
                     else f"must be at least {s['minLength']} characters")
        return
    if "pattern" in s and not re.search(s["pattern"], value):
        if s["pattern"] == ABSOLUTE_PATH:
            problems.add(path, f"must be an absolute path (starting with / or ~/), got "
                               f"{json.dumps(value)}")
        else:
            problems.add(path, f"{json.dumps(value)} does not match {s['pattern']}"
                         + (f" ({s['description']})" if s.get("description") else ""))
        return
    if "x-ref" in s:
        refs.append((s["x-ref"], value, path))


def _check_array(value, s, path, root, problems, refs):
    if "minItems" in s and len(value) < s["minItems"]:
        problems.add(path, f"needs at least {s['minItems']} item(s)")
    if s.get("uniqueItems"):
        seen = []
        for index, item in enumerate(value):
            if any(same(item, other) for other in seen):
                problems.add(path + (index,), f"repeats an earlier item{show(item)}")
            seen.append(item)
    items = s.get("items")
    if isinstance(items, dict):
        for index, item in enumerate(value):
            _check(item, items, path + (index,), root, problems, refs)


def _check_object(value, s, path, root, problems, refs):
    properties = s.get("properties") or {}
    extra = s.get("additionalProperties", True)
    names = s.get("propertyNames")
    for key, item in value.items():
        child = path + (key,)
        if not isinstance(key, str):
            problems.add(child, f"keys must be strings, got {json_type(key)}{show(key)} (quote it)")
            continue
        if names is not None:
            before = len(problems.items)
            _check(key, names, child, root, problems, refs)
            if len(problems.items) > before:
                if properties and key not in properties:
                    # Mostly a typo of a declared key (prices: {inptu: 3}): say so, as for a closed mapping.
                    del problems.items[before:]
                    described = resolve(names, root).get("description")
                    problems.add(child, "unknown key" + suggestion(key, properties)
                                 + (f" ({described})" if described else ""))
                continue
        if key in properties:
            _check(item, properties[key], child, root, problems, refs)
        elif extra is False:
            problems.add(child, "unknown key" + suggestion(key, properties))
        elif isinstance(extra, dict):
            _check(item, extra, child, root, problems, refs)
        if "x-key-ref" in s:
            refs.append((s["x-key-ref"], key, child))
    for required in s.get("x-required") or ():
        if required not in value:
            problems.add(path, f"missing required key '{required}'")
