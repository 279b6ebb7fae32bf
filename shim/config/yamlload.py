"""Parse one YAML file into plain values plus the line each key and list item was written on.

`yaml.safe_load` throws the node marks away, so we compose the node graph ourselves and build the
values while recording `marks[path] = line` (1-based; `path` is a tuple of keys and list
indices). Scalars are constructed by PyYAML's safe constructor, except timestamps and binary,
which stay strings: the compiled config is marshalled, and marshal only takes plain types.
"""

import yaml

from shim.errors import ConfigError

try:  # libyaml keeps marks too and parses several times faster
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

_KEEP_AS_TEXT = ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary")


def parse(path, text):
    """Return (value, marks, problems) for one file's text.

    A syntax error yields value None and one `FILE:LINE:COLUMN: ...` problem; duplicate keys are
    problems too (PyYAML silently keeps the last one), but the value is still returned.
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        return None, {}, [syntax_problem(path, exc)]
    except yaml.YAMLError as exc:  # e.g. a reader error without a mark
        return None, {}, [f"{path}:1:1: YAML error: {exc}"]
    finally:
        loader.dispose()
    marks = {(): 1}
    problems = []
    if node is None:  # an empty file (or only comments) is an empty mapping
        return {}, marks, problems
    builder = _Builder(path, loader, marks, problems)
    try:
        value = builder.build(node, ())
    except yaml.MarkedYAMLError as exc:  # bad scalar for its tag, e.g. `!!int abc`
        return None, {}, [syntax_problem(path, exc)]
    return value, marks, problems


def syntax_problem(path, exc):
    """`FILE:LINE:COLUMN: YAML syntax error: problem (context)` from a PyYAML marked error."""
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    what = exc.problem or "invalid YAML"
    if exc.context:
        what += f" ({exc.context}"
        if exc.context_mark and exc.problem_mark and exc.context_mark.line != exc.problem_mark.line:
            what += f" at line {exc.context_mark.line + 1}"
        what += ")"
    return f"{path}:{line}:{column}: YAML syntax error: {what}"


def read_text(path):
    """The file's text, or a ConfigError naming it."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise ConfigError(f"config {path}", exc.strerror or str(exc),
                          "check $LLM_SHIM_CONFIG and `llm-shim config path`") from None
    return decode(path, data)


def decode(path, data):
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config {path}", f"not UTF-8 (byte {exc.start})",
                          "save the file as UTF-8") from None


class _Builder:
    def __init__(self, path, loader, marks, problems):
        self.path = path
        self.loader = loader
        self.marks = marks
        self.problems = problems

    def build(self, node, path):
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, child in enumerate(node.value):
                child_path = path + (index,)
                self.marks[child_path] = child.start_mark.line + 1
                items.append(self.build(child, child_path))
            return items
        if node.tag in _KEEP_AS_TEXT:
            return node.value
        return self.loader.construct_object(node, deep=True)

    def _mapping(self, node, path):
        self.loader.flatten_mapping(node)  # resolves `<<: *anchor` merge keys
        result = {}
        first_line = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                line = key_node.start_mark.line + 1
                self.problems.append(f"{self.path}:{line}: {dotted(path)}: a key must be a plain "
                                     "scalar, not a mapping or list")
                continue
            key = self.loader.construct_object(key_node)
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                key = key_node.value
            line = key_node.start_mark.line + 1
            if key in first_line:
                self.problems.append(f"{self.path}:{line}: {dotted(path + (key,))}: duplicate key "
                                     f"(first at line {first_line[key]}); the later one would win")
            first_line[key] = line
            child_path = path + (key,)
            self.marks[child_path] = line
            result[key] = self.build(value_node, child_path)
        return result


def dotted(path):
    """`policies.budgets.x`, `identify[0].agent`, `models."gpt-5.5".tier`; `(top level)` for ()."""
    if not path:
        return "(top level)"
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
            continue
        text = str(part)
        if not text or "." in text or " " in text or '"' in text or "[" in text:
            text = '"' + text.replace('"', '\\"') + '"'
        out += ("." if out else "") + text
    return out
