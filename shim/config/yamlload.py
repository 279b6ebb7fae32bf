"""Parse one YAML file into plain values plus the line each key and list item was written on.

`yaml.safe_load` throws the node marks away, so we compose the node graph ourselves and build the
values while recording `marks[path] = line` (1-based; `path` is a tuple of keys and list
indices). Scalars are constructed by PyYAML's safe constructor, except timestamps and binary,
which stay strings: the compiled config is marshalled, and marshal only takes plain types.
Anchors, aliases and `<<` merge keys are expanded here too, within limits (`_Builder`), so an
alias bomb or a recursive alias is one `FILE:LINE:` problem instead of a hang or a crash.
"""

import yaml

from shim.errors import ConfigError

try:  # libyaml keeps marks too and parses several times faster
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

_KEEP_AS_TEXT = ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary")
_MERGE_TAG = "tag:yaml.org,2002:merge"
# A configuration is a few hundred values, nested a few levels. Past these limits a file is
# an alias bomb or a mistake, and building it would only burn time and memory.
MAX_NODES = 100_000
MAX_DEPTH = 64


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
    except _Stop:  # an alias bomb, a recursive alias, nesting too deep: already a problem
        return None, {}, problems
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


def read_text(path, hint="check $LLM_SHIM_CONFIG and `llm-shim config path`"):
    """The file's text, or a ConfigError naming it (with `hint`: where the path came from)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise ConfigError(f"config {path}", exc.strerror or str(exc), hint) from None
    return decode(path, data)


def decode(path, data):
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config {path}", f"not UTF-8 (byte {exc.start})",
                          "save the file as UTF-8") from None


class _Stop(Exception):
    """Building stopped; the reason is already in the problems."""


class _Builder:
    """Builds plain values from the node graph, within limits.

    The composed graph shares one node for an anchor and each of its aliases, so a document can
    describe far more values than it has bytes ("billion laughs": each level repeats the one
    below ten times) or a node that contains itself (`a: &x [*x]`). Every value built, and
    every entry a `<<` merge brings in, counts against MAX_NODES; an alias inside its own
    anchor and nesting past MAX_DEPTH stop the build too. Each is one `FILE:LINE:` problem.
    Merge keys are resolved here rather than by PyYAML's flatten_mapping, which recurses
    without a cycle check and (before 6.0.2) copies entries without limit.
    """

    def __init__(self, path, loader, marks, problems):
        self.path = path
        self.loader = loader
        self.marks = marks
        self.problems = problems
        self.count = 0
        self.active = set()  # ids of the collection nodes being built or merged

    def build(self, node, path):
        self._count(node, path, 1)
        if len(path) > MAX_DEPTH:
            self.problems.append(f"{self.path}:{node.start_mark.line + 1}: {dotted(path)}: "
                                 f"nested more than {MAX_DEPTH} levels deep")
            raise _Stop()
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            self._enter(node, path)
            try:
                if isinstance(node, yaml.MappingNode):
                    return self._mapping(node, path)
                items = []
                for index, child in enumerate(node.value):
                    child_path = path + (index,)
                    self.marks[child_path] = child.start_mark.line + 1
                    items.append(self.build(child, child_path))
                return items
            finally:
                self.active.discard(id(node))
        if node.tag in _KEEP_AS_TEXT:
            return node.value
        return self.loader.construct_object(node, deep=True)

    def _count(self, node, path, n):
        self.count += n
        if self.count > MAX_NODES:
            self.problems.append(f"{self.path}:{node.start_mark.line + 1}: {dotted(path)}: "
                                 f"expands to more than {MAX_NODES} values (aliases repeating "
                                 "aliases?); write the values out instead")
            raise _Stop()

    def _enter(self, node, path):
        if id(node) in self.active:
            self.problems.append(f"{self.path}:{node.start_mark.line + 1}: {dotted(path)}: "
                                 "recursive alias: the anchored value contains itself")
            raise _Stop()
        self.active.add(id(node))

    def _key(self, key_node, path, report=True):
        """(key,) for a scalar key node, or None (a problem) for a mapping or list key. Pairs
        merged in are reported where their mapping is written, not again at each `<<`."""
        if not isinstance(key_node, yaml.ScalarNode):
            if not report:
                return None
            line = key_node.start_mark.line + 1
            self.problems.append(f"{self.path}:{line}: {dotted(path)}: a key must be a plain "
                                 "scalar, not a mapping or list")
            return None
        key = self.loader.construct_object(key_node)
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            key = key_node.value
        return (key,)

    def _split(self, node, path):
        """(own pairs, merged pairs) of a mapping node: `<<` entries resolved, the first
        mapping merged winning over later ones, as YAML's merge key says."""
        own = []
        merged = []
        seen = set()
        for key_node, value_node in node.value:
            if key_node.tag != _MERGE_TAG:
                own.append((key_node, value_node))
                continue
            sources = [value_node] if isinstance(value_node, yaml.MappingNode) else \
                value_node.value if isinstance(value_node, yaml.SequenceNode) else None
            if sources is None or not all(isinstance(n, yaml.MappingNode) for n in sources):
                self.problems.append(f"{self.path}:{key_node.start_mark.line + 1}: "
                                     f"{dotted(path)}: << merges a mapping or a list of "
                                     "mappings only")
                continue
            for source in sources:
                for pair in self._flatten(source, path):
                    key = self._key(pair[0], path, report=False)
                    if key is not None and key not in seen:
                        seen.add(key)
                        merged.append(pair)
        return own, merged

    def _flatten(self, node, path):
        """Every pair of a mapping merged in (its own `<<` resolved), each key once."""
        self._enter(node, path)
        try:
            own, merged = self._split(node, path)
        finally:
            self.active.discard(id(node))
        self._count(node, path, len(own) + len(merged))
        keys = {self._key(k, path, report=False) for k, _ in own}
        return [p for p in merged if self._key(p[0], path, report=False) not in keys] + own

    def _mapping(self, node, path):
        own, merged = self._split(node, path)
        result = {}
        first_line = {}
        own_keys = set()
        entries = []
        for key_node, value_node in own:
            key = self._key(key_node, path)
            if key is None:
                continue
            key = key[0]
            line = key_node.start_mark.line + 1
            if key in first_line:
                self.problems.append(f"{self.path}:{line}: {dotted(path + (key,))}: duplicate key "
                                     f"(first at line {first_line[key]}); the later one would win")
            first_line[key] = line
            own_keys.add(key)
            entries.append((key, key_node, value_node))
        merged_entries = []
        for key_node, value_node in merged:  # an own key overrides a merged one: no duplicate
            key = self._key(key_node, path, report=False)[0]  # scalar: _split checked
            if key not in own_keys:
                merged_entries.append((key, key_node, value_node))
        for key, key_node, value_node in merged_entries + entries:
            child_path = path + (key,)
            self.marks[child_path] = key_node.start_mark.line + 1
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
