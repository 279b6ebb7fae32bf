"""Render a compiled config as YAML for `llm-shim config show`, optionally with origins.

Mappings are written in block style, everything else (scalars, lists, lists of mappings) as one
flow-style line, so each leaf sits on one line and `--origin` can annotate it with the file it
came from. The output parses back to the same data (a test checks it).
"""

import yaml

from shim.config.yamlload import dotted

INTERNAL_PREFIX = "_"


def public(config):
    """The config without the `_sources`, `_aliases`, ... bookkeeping keys."""
    return {k: v for k, v in config.items() if not (isinstance(k, str) and k.startswith(INTERNAL_PREFIX))}


def to_yaml(config, with_origin=False):
    """YAML text of the public part of `config`; leaves annotated `# FILE` when `with_origin`."""
    origins = (config.get("_origin") or {}) if with_origin else None
    lines = []
    for source in config.get("_sources") or ():
        lines.append(f"# {source['layer']}: {source['path']}")
    _mapping(public(config), (), 0, origins, lines)
    return "\n".join(lines) + "\n"


def flow(value):
    """One-line YAML for a scalar or a list/mapping."""
    text = yaml.safe_dump([value], default_flow_style=True, width=2 ** 31, sort_keys=False,
                          allow_unicode=True).strip()
    return text[1:-1]


def _mapping(value, path, indent, origins, lines):
    pad = " " * indent
    for key, child in value.items():
        child_path = path + (key,)
        if isinstance(child, dict) and child:
            lines.append(f"{pad}{flow(key)}:")
            _mapping(child, child_path, indent + 2, origins, lines)
            continue
        line = f"{pad}{flow(key)}: {flow(child)}"
        if origins is not None:
            source = origins.get(dotted(child_path))
            if source:
                line += f"  # {source}"
        lines.append(line)
