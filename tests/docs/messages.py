"""Every message llm-shim can print to a user, read out of the source with `ast`.

A message is a list of tokens: literal text, or `HOLE` where a value is filled in at run time
(`{path}` in an f-string, a variable nobody can resolve statically). Found:

- `ShimError(what, why, ...)` and every subclass (also those defined later anywhere in shim/):
  the message is `what: why`, as printed after `llm-shim: `;
- `errors.warn(what, why, ...)`, and `(what, why, hint)` tuples appended to a `warnings` list
  (the policy engine prints them with `errors.warn(*line)`);
- string literals starting `llm-shim: ` (written to stderr directly);
- config problems (shim/config/): `problems.add(path, message)` and
  `problems.append("FILE:LINE: ...")`;
- doctor (shim/doctor/): the name of every check, `result(name, ...)`, and the detail of
  every failing result, `result(name, False, detail, ...)`;
- the shell scripts install/*.sh and bin/llm-shim (kind "script"): every `echo` of a string
  that starts with a `name: ` prefix (`install.sh: ...`, `build: ...`), and every call of a
  function defined as `f() { echo "prefix: $*" ...; }` (`say "..."`), with `$var`, `${...}`,
  `$(...)` and `$*` as holes.

Names are followed where that is cheap and certain: a local variable's assignments (unless it
is assigned from itself), a function's parameter through the direct calls of that function in
the same module, and the `return` values of a function in the same module or in a `shim` module
imported by name (`budgets.describe(...)`). Inside an f-string only a plain `{name}` is
followed; `{call()}`, `{x!r}`, `{x:.2f}`, attributes and `a or b` are values, so HOLEs.

Run `python -m tests.docs.messages` from the checkout to list them.
"""

import ast
import functools
import itertools
import os
import re

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHIM = os.path.join(REPO, "shim")
HOLE = None
BASE_ERRORS = {"ShimError", "UsageError", "ConfigError", "RealBinaryNotFound",
               "RecursionDetected", "Blocked", "TelemetryError"}
MAX_ALTERNATIVES = 24
MAX_DEPTH = 6


class Module:
    def __init__(self, path):
        self.path = path
        self.rel = os.path.relpath(path, os.path.dirname(SHIM))
        with open(path, encoding="utf-8") as fh:
            self.tree = ast.parse(fh.read(), path)
        self.functions = {}
        self.parents = {}
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions.setdefault(node.name, node)
        self.imports = {}  # local name -> module path under shim/
        for node in ast.walk(self.tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "shim":
                for alias in node.names:
                    self.imports[alias.asname or alias.name] = f"{node.module}.{alias.name}"

    def enclosing_function(self, node):
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return node
        return None


class Source:
    """All modules of shim/ and the resolution of expressions into message patterns."""

    def __init__(self, root=SHIM):
        self.modules = {}
        for directory, _dirs, files in os.walk(root):
            for name in sorted(files):
                if name.endswith(".py"):
                    module = Module(os.path.join(directory, name))
                    dotted = module.rel[:-3].replace(os.sep, ".")
                    if dotted.endswith(".__init__"):
                        dotted = dotted[:-9]
                    self.modules[dotted] = module
        self.error_classes = self._error_classes()
        self.calls = {}  # called name -> [(module, Call)], so callers are found without a walk
        for module in self.modules.values():
            for node in ast.walk(module.tree):
                if isinstance(node, ast.Call) and _name(node.func):
                    self.calls.setdefault(_name(node.func), []).append((module, node))

    def _error_classes(self):
        names = set(BASE_ERRORS)
        changed = True
        while changed:
            changed = False
            for module in self.modules.values():
                for node in ast.walk(module.tree):
                    if isinstance(node, ast.ClassDef) and node.name not in names and \
                            any(_name(b) in names for b in node.bases):
                        names.add(node.name)
                        changed = True
        return names

    # --- resolving an expression to alternatives, each a list of tokens ------------------

    def resolve(self, expr, module, depth=0):
        if depth > MAX_DEPTH:
            return [[HOLE]]
        if isinstance(expr, ast.Constant):
            return [[expr.value]] if isinstance(expr.value, str) else []
        if isinstance(expr, ast.JoinedStr):
            parts = []
            for value in expr.values:
                if isinstance(value, ast.Constant):
                    parts.append([[value.value]])
                elif value.conversion == -1 and value.format_spec is None and \
                        isinstance(value.value, ast.Name):
                    # `{text}` in a wrapper like f"llm-shim: fallback: {text}": follow it,
                    # when every value it can have is words (not `~` + a path). Calls and
                    # `{x!r}` are data (a path, a type name): a hole.
                    alternatives = self.resolve(value.value, module, depth + 1)
                    if not alternatives or any(literal_letters(a) < 4 for a in alternatives):
                        alternatives = [[HOLE]]
                    parts.append(alternatives)
                else:
                    parts.append([[HOLE]])
            return _product(parts)
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            left = self.resolve(expr.left, module, depth + 1) or [[HOLE]]
            right = self.resolve(expr.right, module, depth + 1) or [[HOLE]]
            return _product([left, right])
        if isinstance(expr, ast.IfExp):
            return _limit(self.resolve(expr.body, module, depth + 1)
                          + self.resolve(expr.orelse, module, depth + 1))
        if isinstance(expr, ast.Name):
            return self._resolve_name(expr, module, depth)
        if isinstance(expr, ast.Call):
            target = self._function(expr.func, module)
            if target is not None:
                function, where = target
                out = []
                for node in ast.walk(function):
                    if isinstance(node, ast.Return) and node.value is not None and \
                            where.enclosing_function(node) is function:
                        out += self.resolve(node.value, where, depth + 1)
                return _limit(out) or [[HOLE]]
        return [[HOLE]]

    def _function(self, func, module):
        """(FunctionDef, Module) a call goes to, when it is a function of ours we can see."""
        if isinstance(func, ast.Name):
            if func.id in module.functions:
                return module.functions[func.id], module
            imported = module.imports.get(func.id, "")
            owner, _, name = imported.rpartition(".")
            if owner in self.modules and name in self.modules[owner].functions:
                return self.modules[owner].functions[name], self.modules[owner]
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            target = self.modules.get(module.imports.get(func.value.id, ""))
            if target is not None and func.attr in target.functions:
                return target.functions[func.attr], target
        return None

    def _resolve_name(self, name, module, depth):
        function = module.enclosing_function(name)
        if function is None:
            return [[HOLE]]
        out = []
        for node in ast.walk(function):
            if isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == name.id for t in node.targets):
                if any(isinstance(n, ast.Name) and n.id == name.id for n in ast.walk(node.value)):
                    return [[HOLE]]  # `why = f"{why} (...)"`: depends on itself, a hole
                out += self.resolve(node.value, module, depth + 1)
        if out:
            return _limit(out)
        params = [a.arg for a in function.args.posonlyargs + function.args.args]
        if name.id in params:  # a parameter: what its callers pass, else its default
            index = params.index(name.id)
            defaults = dict(zip(params[len(params) - len(function.args.defaults):],
                                function.args.defaults))
            for caller, call in self._calls_of(function, module):
                arg = _argument(call, index, name.id)
                if arg is None and name.id in defaults:
                    out += self.resolve(defaults[name.id], module, depth + 1)
                elif arg is not None:
                    out += self.resolve(arg, caller, depth + 1)
        return _limit(out) or [[HOLE]]

    def _calls_of(self, function, module):
        """(module, Call) of every direct call of a module-level function of `module`:
        `f(...)` in the module itself, `mod.f(...)` or imported `f(...)` elsewhere."""
        dotted = next(name for name, m in self.modules.items() if m is module)
        for caller, call in self.calls.get(function.name, ()):
            func = call.func
            if isinstance(func, ast.Name) and (
                    caller is module or caller.imports.get(func.id) == f"{dotted}.{function.name}"):
                yield caller, call
            elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and \
                    caller.imports.get(func.value.id) == dotted:
                yield caller, call

    # --- the message sites -------------------------------------------------------------

    def messages(self):
        """[{"kind", "where", "tokens"}] for every alternative of every message site."""
        found = []

        def add(kind, module, node, *exprs):
            parts = []
            for i, expr in enumerate(exprs):
                if i:
                    parts.append([[": "]])
                parts.append(self.resolve(expr, module) if expr is not None else [[HOLE]])
            for tokens in _product(parts):
                found.append({"kind": kind, "where": f"{module.rel}:{node.lineno}",
                              "tokens": _merge(tokens)})

        for module in self.modules.values():
            is_errors_module = module.rel == os.path.join("shim", "errors.py")
            is_config = module.rel.startswith(os.path.join("shim", "config", ""))
            is_doctor = module.rel.startswith(os.path.join("shim", "doctor", ""))
            for node in ast.walk(module.tree):
                if isinstance(node, ast.Call):
                    called = _name(node.func)
                    if called in self.error_classes and not is_errors_module:
                        add("error", module, node, _argument(node, 0, "what"),
                            _argument(node, 1, "why"))
                    elif called == "warn" and _is_our_warn(node.func, module) and \
                            not any(isinstance(a, ast.Starred) for a in node.args):
                        add("warning", module, node, _argument(node, 0, "what"),
                            _argument(node, 1, "why"))
                    elif called in ("append", "insert") and _receiver_ends(node, "warnings"):
                        item = node.args[-1] if node.args else None
                        if isinstance(item, ast.Tuple) and len(item.elts) >= 2:
                            add("warning", module, node, item.elts[0], item.elts[1])
                    elif called == "result" and is_doctor and len(node.args) >= 3:
                        add("doctor-check", module, node, node.args[0])
                        if isinstance(node.args[1], ast.Constant) and node.args[1].value is False:
                            add("doctor", module, node, node.args[2])
                    elif called == "add" and _receiver_ends(node, "problems") and \
                            len(node.args) == 2 and is_config:
                        add("problem", module, node, node.args[1])
                    elif called == "append" and _receiver_ends(node, "problems") and \
                            node.args and is_config:
                        add("problem", module, node, node.args[0])
                elif isinstance(node, (ast.Constant, ast.JoinedStr)) and not is_errors_module:
                    first = node if isinstance(node, ast.Constant) else \
                        (node.values[0] if node.values else None)
                    if isinstance(first, ast.Constant) and isinstance(first.value, str) and \
                            first.value.startswith("llm-shim: ") and \
                            not isinstance(module.parents.get(node), (ast.JoinedStr, ast.Expr)):
                        for tokens in self.resolve(node, module):
                            tokens = _merge(tokens)
                            tokens[0] = tokens[0][len("llm-shim: "):]
                            found.append({"kind": "stderr", "where": f"{module.rel}:{node.lineno}",
                                          "tokens": tokens})
        return found


# --- the shell scripts ----------------------------------------------------------------------

def script_files(repo=REPO):
    """install/*.sh and the bin/ launchers: the shell code a user runs."""
    import glob

    files = sorted(glob.glob(os.path.join(repo, "install", "*.sh")))
    files += sorted(p for p in glob.glob(os.path.join(repo, "bin", "*"))
                    if os.path.isfile(p) and not p.endswith(".md"))
    return files


_SH_STRING = r"(\"(?:[^\"\\]|\\.)*\"|'[^']*')"
_SH_ECHO = re.compile(r"(?:^|[\s;{(&|])echo\s+(?:-[en]+\s+)?" + _SH_STRING)
_SH_FUNCTION = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(\)\s*\{\s*echo\s+\"([^\"$]*)\$\*\"")
_SH_EXPANSION = re.compile(r"\$(?:\{[^}]*\}|\([^)]*\)|[A-Za-z_][A-Za-z0-9_]*|[0-9*@#?$!-])")
_SH_PREFIX = re.compile(r"^[A-Za-z][\w./-]*: ")


def _sh_tokens(literal):
    """A quoted sh string as tokens: double-quoted expansions become holes."""
    if literal.startswith("'"):
        return [literal[1:-1]]
    body = literal[1:-1]
    tokens, last = [], 0
    for match in _SH_EXPANSION.finditer(body):
        tokens.append(body[last:match.start()])
        tokens.append(HOLE)
        last = match.end()
    tokens.append(body[last:])
    return [re.sub(r"\\([\"\\$`])", r"\1", t) if t is not HOLE else t for t in tokens]


def script_messages(files=None):
    """[{"kind": "script", "where", "tokens"}] for every prefixed message of the scripts."""
    found = []
    for path in files or script_files():
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        rel = os.path.relpath(path, REPO)
        lines = text.replace("\\\n", "\x00").split("\n")  # join continued lines
        prefixed = {}
        for line in lines:
            match = _SH_FUNCTION.match(line)
            if match:
                prefixed[match.group(1)] = match.group(2)
        callers = re.compile(r"(?:^|[\s;{(&|])(" + "|".join(map(re.escape, prefixed)) + r")\s+"
                             + _SH_STRING) if prefixed else None
        for number, line in enumerate(lines, 1):
            number += sum(l.count("\x00") for l in lines[:number - 1])
            line = line.replace("\x00", "")
            if line.lstrip().startswith("#"):
                continue
            candidates = [_sh_tokens(m.group(1)) for m in _SH_ECHO.finditer(line)]
            if callers is not None:
                candidates += [[prefixed[m.group(1)]] + _sh_tokens(m.group(2))
                               for m in callers.finditer(line)]
            for tokens in candidates:
                tokens = _merge(tokens)
                if tokens[0] is not HOLE and _SH_PREFIX.match(tokens[0]):
                    found.append({"kind": "script", "where": f"{rel}:{number}",
                                  "tokens": tokens})
    return found


def _name(func):
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _is_our_warn(func, module):
    if isinstance(func, ast.Attribute):
        return isinstance(func.value, ast.Name) and func.value.id == "errors"
    return module.imports.get("warn") == "shim.errors.warn"


def _receiver_ends(call, word):
    return isinstance(call.func, ast.Attribute) and \
        ast.unparse(call.func.value).rstrip("\"']").endswith(word)


def _argument(call, index, keyword):
    for kw in call.keywords:
        if kw.arg == keyword:
            return kw.value
    if index < len(call.args) and not isinstance(call.args[index], ast.Starred):
        return call.args[index]
    return None


def _product(parts):
    out = []
    for combo in itertools.islice(itertools.product(*parts), MAX_ALTERNATIVES):
        out.append([token for alternative in combo for token in alternative])
    return out


def _limit(alternatives):
    return alternatives[:MAX_ALTERNATIVES]


def _merge(tokens):
    """Adjacent literals joined, adjacent holes collapsed, trailing newline dropped."""
    out = []
    for token in tokens:
        if token is HOLE:
            if not out or out[-1] is not HOLE:
                out.append(HOLE)
        elif out and out[-1] is not HOLE:
            out[-1] += token
        else:
            out.append(token)
    if out and out[-1] is not HOLE:
        out[-1] = out[-1].rstrip("\n")
    return out or [HOLE]


def show(tokens):
    """The pattern as a person reads it: holes as `<…>`."""
    return "".join("<…>" if t is HOLE else t for t in tokens)


def literal_letters(tokens):
    return sum(len(re.findall(r"[A-Za-z]", t)) for t in tokens if t is not HOLE)


@functools.lru_cache(maxsize=1)
def _cached():
    return Source().messages() + script_messages()


def all_messages():
    return [dict(m, tokens=list(m["tokens"])) for m in _cached()]


if __name__ == "__main__":
    seen = set()
    for message in sorted(all_messages(), key=lambda m: (m["kind"], m["where"])):
        key = (message["kind"], show(message["tokens"]))
        if key not in seen:
            seen.add(key)
            print(f"{message['kind']:<8} {message['where']:<40} {show(message['tokens'])}")
