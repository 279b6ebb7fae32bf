"""The schema, the validator, the default config and the docs cannot drift apart."""

import copy
import filecmp
import functools
import json
import os

import jsonschema
import yaml

from shim.config import docgen, schema as schema_mod
from shim.config.merge import merge_layers
from shim.config.validate import _check, Problems

from tests.config.conftest import REPO

SCHEMA_PATH = os.path.join(REPO, "config", "schema.json")
DEFAULT_PATH = os.path.join(REPO, "config", "default.yaml")


@functools.lru_cache(maxsize=None)
def _schema_text():
    with open(SCHEMA_PATH) as fh:
        return fh.read()


def _schema():
    return json.loads(_schema_text())


@functools.lru_cache(maxsize=None)
def _reference_validator():
    return jsonschema.Draft202012Validator(_as_merged_jsonschema(_schema()))


def _default():
    with open(DEFAULT_PATH) as fh:
        return yaml.safe_load(fh)


def test_packaged_copies_are_identical():
    assert filecmp.cmp(SCHEMA_PATH, os.path.join(REPO, "shim", "data", "schema.json"), shallow=False), \
        "run: python -m shim.config.docgen --write"
    assert filecmp.cmp(DEFAULT_PATH, os.path.join(REPO, "shim", "data", "default.yaml"), shallow=False), \
        "run: cp config/default.yaml shim/data/default.yaml"


def test_schema_is_valid_draft_2020_12():
    schema = _schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def _walk_schemas(node, where="#"):
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            if key in ("properties", "$defs"):
                for name, child in value.items():
                    yield from _walk_schemas(child, f"{where}/{key}/{name}")
            elif key in ("items", "additionalProperties", "propertyNames") and isinstance(value, dict):
                yield from _walk_schemas(value, f"{where}/{key}")


def test_schema_uses_only_keywords_our_validator_understands():
    """The validator interprets the schema; a keyword it does not know would be silently ignored."""
    known = schema_mod.VALIDATION_KEYWORDS | schema_mod.ANNOTATION_KEYWORDS
    for where, node in _walk_schemas(_schema()):
        unknown = set(node) - known
        assert not unknown, f"{where} uses {sorted(unknown)}: teach shim/config/validate.py first"
        if "$ref" in node:  # siblings of $ref override the target's, so they must not validate
            assert set(node) - {"$ref"} <= schema_mod.ANNOTATION_KEYWORDS, where
        for kind in (node.get("x-ref"), node.get("x-key-ref")):
            assert kind in (None,) + schema_mod.REF_KINDS, where


def _as_merged_jsonschema(node):
    """The schema as jsonschema should read a merged config: x-required becomes required."""
    if isinstance(node, dict):
        out = {k: _as_merged_jsonschema(v) for k, v in node.items()}
        if "x-required" in node:
            out["required"] = list(node["x-required"])
        return out
    if isinstance(node, list):
        return [_as_merged_jsonschema(v) for v in node]
    return node


def _ours(doc):
    """Our schema-walk problems (no cross-checks) for a document."""
    root = _schema()
    problems = Problems({})
    _check(doc, root, (), root, problems, [])
    return problems.items


def _mutations():
    """The default config with one change each: every leaf given a value of another type,
    an unknown key in every mapping, and hand-picked edge cases."""
    base = _default()
    out = []

    def leaves(value, path):
        if isinstance(value, dict):
            yield path, value
            for key, child in value.items():
                yield from leaves(child, path + (key,))
        else:
            yield path, value

    first = {section: next(iter(base[section])) for section in ("tools", "models", "agents")}
    for path, value in leaves(base, ()):
        if len(path) > 1 and path[0] in first and path[1] != first[path[0]]:
            continue  # the other entries of a section have the same schema
        if isinstance(value, dict):
            replacements = [("unknown key", {**value, "zz_unknown": 1})] if path else []
        else:
            replacements = [("wrong type", "text" if not isinstance(value, str) else [value]),
                            ("null", None)]
        for label, replacement in replacements:
            doc = copy.deepcopy(base)
            if path:
                target = doc
                for key in path[:-1]:
                    target = target[key]
                target[path[-1]] = replacement
            out.append((f"{label} at {'.'.join(map(str, path))}", doc))

    def edit(label, fn):
        doc = copy.deepcopy(base)
        fn(doc)
        out.append((label, doc))

    edit("negative price", lambda d: d["models"]["echo"]["prices"].update(input=-1))
    edit("bool price", lambda d: d["models"]["echo"]["prices"].update(input=True))
    edit("integral float int", lambda d: d["policies"]["fallback"].update(max_attempts=2.0))
    edit("fractional int", lambda d: d["policies"]["fallback"].update(max_attempts=2.5))
    edit("zero deadline", lambda d: d["policies"]["fallback"].update(deadline_seconds=0))
    edit("duplicate trigger", lambda d: d["policies"]["fallback"].update(triggers=["quota", "quota"]))
    edit("bad tool name", lambda d: d["tools"].update({"bad name": {}}))
    edit("new model missing tier", lambda d: d["models"].update(m={"provider": "x", "prices": {"input": 1, "output": 1}}))
    edit("new model ok", lambda d: d["models"].update(m={"provider": "x", "tier": "cheap", "prices": {"input": 1, "output": 1}}))
    edit("budget ok", lambda d: d["policies"]["budgets"].update(b={"scope": "global", "period": "rolling", "window": "5h", "limit": {"usd": 1}}))
    edit("budget bad window", lambda d: d["policies"]["budgets"].update(b={"scope": "global", "period": "rolling", "window": "5 hours", "limit": {"usd": 1}}))
    edit("budget downgrade_at 0", lambda d: d["policies"]["budgets"].update(b={"scope": "global", "period": "day", "limit": {"usd": 1}, "downgrade_at": 0}))
    edit("agent privacy null", lambda d: d["agents"]["auto"].update(privacy=None))
    edit("agent privacy bool", lambda d: d["agents"]["auto"].update(privacy=False))
    edit("schema_version true", lambda d: d.update(schema_version=True))
    edit("team ok", lambda d: d.update(team={"dsn": "postgresql://x"}))
    edit("team without dsn", lambda d: d.update(team={"name": "x"}))
    edit("identify rule extra key", lambda d: d.update(identify=[{"agent": "auto", "cwd": "/x", "colour": "red"}]))
    edit("generic open mapping", lambda d: d["tools"]["llm"].update(generic={"anything": [1, {"x": None}]}))
    edit("empty model id alias", lambda d: d["models"]["echo"].update(aliases=[""]))
    return out


def test_our_validator_agrees_with_jsonschema():
    """On the default and on ~150 one-change variants of it, both accept or both reject."""
    disagreements = []
    mutations = _mutations()
    assert len(mutations) > 100
    for label, doc in [("the default", _default())] + mutations:
        theirs = sorted(e.message for e in _reference_validator().iter_errors(doc))
        ours = _ours(doc)
        if bool(ours) != bool(theirs):
            disagreements.append(f"{label}: ours {ours}; jsonschema {theirs}")
    assert not disagreements, "\n".join(disagreements)


def test_defaults_in_the_schema_are_valid_and_agree_with_default_yaml():
    default = _default()
    root = _schema()
    for path, node, _required in schema_mod.key_paths(root):
        if "default" not in node:
            continue
        problems = Problems({})
        _check(node["default"], node, (), root, problems, [])
        assert not problems.items, f"{path}: default {node['default']!r} is invalid: {problems.items}"
        found, value = docgen._default_value(default, path)
        if found and not isinstance(value, dict):
            assert value == node["default"], f"{path}: default.yaml says {value!r}, schema {node['default']!r}"


def test_every_example_in_the_schema_is_valid():
    root = _schema()
    for path, node, _required in schema_mod.key_paths(root):
        for example in node.get("examples", ()):
            problems = Problems({})
            _check(example, node, (), root, problems, [])
            assert not problems.items, f"{path}: example {example!r}: {problems.items}"


def test_docs_reference_is_generated_from_the_current_schema():
    assert docgen.out_of_date() == [], "run: python -m shim.config.docgen --write"


def test_docs_cover_every_schema_key():
    with open(os.path.join(REPO, "docs", "configuration.md")) as fh:
        doc = fh.read()
    reference = doc[doc.index(docgen.BEGIN):doc.index(docgen.END)]
    documented = {line.split("|")[1].strip().strip("`") for line in reference.splitlines()
                  if line.startswith("| `")}
    declared = {path for path, _node, _required in schema_mod.key_paths(_schema())}
    assert declared - documented == set(), "undocumented keys"
    assert documented - declared == set(), "documented keys the schema does not have"
    for path, node, _required in schema_mod.key_paths(_schema()):
        if "<name>" not in path.rsplit(".", 1)[-1] and not path.endswith("[]"):
            assert node.get("description"), f"{path} has no description"
            if "properties" not in node:  # every leaf shows an example
                assert node.get("examples"), f"{path} has no example"


def test_every_key_of_the_default_is_declared():
    """The default uses no key the schema lacks (the validator would reject it otherwise)."""
    merged, origins = merge_layers([(DEFAULT_PATH, _default(), {})])
    assert _ours(merged) == []
