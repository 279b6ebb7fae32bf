"""The configuration schema (config/schema.json, shipped as shim/data/schema.json) and how to walk it.

The schema is the one place a configuration key is declared: the validator interprets it, the
normaliser takes defaults from it, the docs reference is generated from it, and editors read it
through the `$schema` line `config init` writes. Our interpreter supports the subset of JSON
Schema 2020-12 listed in `VALIDATION_KEYWORDS`; a test fails if the schema uses anything else.
Three extension keywords carry what JSON Schema cannot say:

- `x-required`: keys that must be present after merging (a single file may omit them, so
  editors must not demand them);
- `x-ref`: the string names a tool, a model (id or alias) or an agent;
- `x-key-ref`: every key of the mapping names one (e.g. `policies.fallback.chains`).
"""

import json
import os

from shim import paths, safefs

SCHEMA_FILE = "schema.json"

VALIDATION_KEYWORDS = frozenset({
    "type", "enum", "const",
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "minLength", "pattern",
    "items", "minItems", "uniqueItems",
    "properties", "additionalProperties", "propertyNames",
    "$ref",
    "x-required", "x-ref", "x-key-ref",
})
ANNOTATION_KEYWORDS = frozenset({
    "$schema", "$id", "$defs", "$comment", "title", "description", "default", "examples",
})
REF_KINDS = ("tool", "model", "agent")

_cache = {}


def load_schema(path=None):
    """The parsed schema (the packaged copy unless `path` is given); parsed once per process."""
    path = path or paths.package_data(SCHEMA_FILE)
    if path not in _cache:
        with open(path, encoding="utf-8") as fh:
            _cache[path] = json.load(fh)
    return _cache[path]


def resolve(schema, root):
    """Follow `$ref` (local `#/$defs/...` only); sibling keywords of a `$ref` override the target's."""
    while isinstance(schema, dict) and "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith("#/"):
            raise ValueError(f"schema: only local $ref is supported, not {ref!r}")
        target = root
        for part in ref[2:].split("/"):
            target = target[part]
        merged = dict(target)  # keeps the target's own $ref, if any, for the next round
        merged.update((k, v) for k, v in schema.items() if k != "$ref")
        schema = merged
    return schema


def types_of(schema):
    """The JSON types a (resolved) schema accepts, as a tuple; () means any."""
    declared = schema.get("type")
    if declared is None:
        if "enum" in schema:
            return tuple(dict.fromkeys(json_type(v) for v in schema["enum"]))
        if "const" in schema:
            return (json_type(schema["const"]),)
        return ()
    return (declared,) if isinstance(declared, str) else tuple(declared)


def json_type(value):
    """The JSON Schema type name of a plain Python value (bool is not a number)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def key_paths(schema=None):
    """Every declarable key as (path, resolved schema, required after merge), in schema order.

    Paths use `<name>` for mapping entries of any name and `[]` for list items of mappings, e.g.
    `policies.budgets.<name>.limit.usd`, `identify[].parent.cmdline`. The docs reference is
    generated from this list, and tests compare it with the docs and the validator.
    """
    root = schema or load_schema()
    out = []

    def walk(node, path):
        node = resolve(node, root)
        required = set(node.get("x-required") or ())
        for name, child in (node.get("properties") or {}).items():
            child_path = f"{path}.{name}" if path else name
            out.append((child_path, resolve(child, root), name in required))
            walk(child, child_path)
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            child_path = f"{path}.<name>"
            out.append((child_path, resolve(extra, root), False))
            walk(extra, child_path)
        items = node.get("items")
        if isinstance(items, dict) and "properties" in resolve(items, root):
            out.append((f"{path}[]", resolve(items, root), False))
            walk(items, f"{path}[]")

    walk(root, "")
    return out


def user_schema_file():
    """`<config dir>/schema.json`: the copy of the schema the `$schema` line of a config points
    at. It stays where it is across upgrades, unlike the package (a ~/.shiv cache directory for
    the zipapp, a versioned lib directory for installed shims)."""
    return os.path.join(paths.config_dir(), SCHEMA_FILE)


def write_user_schema(target=None):
    """Copy the packaged schema to `target` (default `user_schema_file()`), atomically; return
    the path. Raises OSError (`safefs.Refused` for a symlink there)."""
    target = target or user_schema_file()
    with open(paths.package_data(SCHEMA_FILE), "rb") as fh:
        data = fh.read()
    safefs.write_atomic(target, data)
    return target


def schema_uri(path=None):
    """file:// URI of a schema file (default: the user's copy), for the
    `# yaml-language-server: $schema=` line."""
    from pathlib import Path

    return Path(os.path.abspath(path or user_schema_file())).as_uri()
