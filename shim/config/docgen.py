"""Keep what is derived from config/schema.json in step with it (run from a checkout).

  python -m shim.config.docgen --check   # exit 1 when something is out of date
  python -m shim.config.docgen --write   # update it

Derived: the packaged copy shim/data/schema.json, and the key reference in
docs/configuration.md between the GENERATED markers (type, default, description and example of
every key, from the schema's `type`/`enum`/`default`/`description`/`examples`). So adding a key
is one edit to config/schema.json plus `--write`; tests run `--check`.
"""

import argparse
import json
import os
import sys

import yaml

from shim.config.schema import key_paths, types_of

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCHEMA_SOURCE = os.path.join(REPO, "config", "schema.json")
SCHEMA_COPY = os.path.join(REPO, "shim", "data", "schema.json")
DEFAULT_CONFIG = os.path.join(REPO, "config", "default.yaml")
DOC = os.path.join(REPO, "docs", "configuration.md")
BEGIN = "<!-- BEGIN GENERATED REFERENCE: python -m shim.config.docgen --write -->"
END = "<!-- END GENERATED REFERENCE -->"
_REF_WORDS = {"tool": "a tool name", "model": "a model id or alias", "agent": "an agent name"}


def _flow(value):
    text = yaml.safe_dump([value], default_flow_style=True, width=2 ** 31, sort_keys=False).strip()
    return text[1:-1]


def _code(text):
    return "`" + text.replace("|", "\\|") + "`"


def describe_type(node):
    """Human-readable type with its constraints, e.g. `number ≥ 0`, `one of: day, week`."""
    if "const" in node:
        return f"always {_flow(node['const'])}"
    if "enum" in node:
        return "one of: " + ", ".join(_flow(v) for v in node["enum"])
    types = [t for t in types_of(node)]
    words = []
    for t in types:
        if t == "object" and node.get("additionalProperties") not in (None, False) \
                and not node.get("properties"):
            words.append("mapping of name → entry" if isinstance(node.get("additionalProperties"), dict)
                         else "mapping (open)")
        elif t == "array":
            words.append("list")
        elif t == "object":
            words.append("mapping")
        else:
            words.append(t)
    text = " or ".join(words) or "any"
    if "x-ref" in node:
        text += f" ({_REF_WORDS[node['x-ref']]})"
    if "x-key-ref" in node:
        text += f" (keys are {node['x-key-ref']} names)"
    bounds = []
    for key, sign in (("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤"), ("exclusiveMaximum", "<")):
        if key in node:
            bounds.append(f"{sign} {node[key]}")
    if bounds:
        text += " " + ", ".join(bounds)
    if "pattern" in node:
        text += f", matching {node['pattern']}"
    return text


def _default_value(default_config, path):
    """(found, value) of a fixed key path (no `<name>`/`[]`) in the embedded default."""
    if "<name>" in path or "[]" in path:
        return False, None
    node = default_config
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def reference(schema, default_config):
    """The generated markdown: one table per top-level section."""
    rows = key_paths(schema)
    out = []
    section = None
    for path, node, required in rows:
        top = path.split(".", 1)[0].split("[", 1)[0]
        if top != section:
            section = top
            out.append(f"\n### `{top}`\n")
            out.append("| key | type | default | description | example |")
            out.append("|---|---|---|---|---|")
        in_default, value = _default_value(default_config, path)
        if required:
            default = "required"
        elif in_default:
            default = ("see default.yaml" if isinstance(value, dict) and value
                       else _code(_flow(value)))
        elif "default" in node:
            default = _code(_flow(node["default"]))
        else:
            default = "—"
        leaf = path.rsplit(".", 1)[-1]
        example = ""
        if node.get("examples"):
            example = _code(f"{leaf}: {_flow(node['examples'][0])}" if not leaf.endswith("]") and leaf != "<name>"
                            else _flow(node["examples"][0]))
        description = (node.get("description") or "").replace("|", "\\|").replace("\n", " ")
        out.append(f"| {_code(path)} | {describe_type(node)} | {default} | {description} | {example} |")
    return "\n".join(out).lstrip("\n") + "\n"


def expected_doc(doc_text, schema, default_config):
    """`doc_text` with the generated section replaced by the current reference."""
    start = doc_text.index(BEGIN) + len(BEGIN)
    end = doc_text.index(END)
    return doc_text[:start] + "\n" + reference(schema, default_config) + doc_text[end:]


def _default_config():
    with open(DEFAULT_CONFIG, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def out_of_date():
    """[(file, reason)] of derived files that differ from what config/schema.json implies."""
    with open(SCHEMA_SOURCE, encoding="utf-8") as fh:
        source = fh.read()
    stale = []
    with open(SCHEMA_COPY, encoding="utf-8") as fh:
        if fh.read() != source:
            stale.append((SCHEMA_COPY, "differs from config/schema.json"))
    with open(DOC, encoding="utf-8") as fh:
        doc = fh.read()
    if BEGIN not in doc or END not in doc:
        stale.append((DOC, "generated reference markers missing"))
    elif expected_doc(doc, json.loads(source), _default_config()) != doc:
        stale.append((DOC, "key reference differs from config/schema.json"))
    return stale


def write():
    with open(SCHEMA_SOURCE, encoding="utf-8") as fh:
        source = fh.read()
    with open(SCHEMA_COPY, "w", encoding="utf-8") as fh:
        fh.write(source)
    with open(DOC, encoding="utf-8") as fh:
        doc = fh.read()
    with open(DOC, "w", encoding="utf-8") as fh:
        fh.write(expected_doc(doc, json.loads(source), _default_config()))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m shim.config.docgen", description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--check", action="store_true")
    group.add_argument("--write", action="store_true")
    opts = parser.parse_args(argv)
    if opts.write:
        write()
    stale = out_of_date()
    for file, reason in stale:
        print(f"{os.path.relpath(file, REPO)}: {reason}", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
