"""The import graph of `shim/`: no loops, and no import from a lower layer to a higher one.

The graph is read from the AST of every module: top-level and function-level imports alike
(a lazy import is still a dependency). `from shim.x import y` is an edge to `shim.x.y` when
that is a module, else to `shim.x`. A module's import of its own package (or an ancestor) is
not an edge: Python has always loaded the package before the module, so it adds no order. The
management CLI loads its commands with importlib (`shim/cli/main.py`): not seen, not counted.

Layers, lowest first (a module may import its own layer and the ones below; the longest
matching prefix names a module's layer):

0. foundation: `shim` (package), exitcodes, errors, safefs, paths, procs, buildinfo, detach,
   resolve, runner, tools, isotime, hotcode: standard library only, and each other
1. config: the compiled config and its builder
2. adapters: argv -> Request
3. routing: agents, decide, the learned router
4. telemetry: records, spool, start lines, store, ingest, prices
5. report and plans: queries and rendering over the store (not the dashboard), Claude's plan
   windows (not the statusline command)
6. attempt: run one attempt and record it (shim/attempt.py)
7. policy: the gate, settlement, the attempt loop (never imports team: team hooks are passed in)
8. team and alerts: the PostgreSQL store, team budgets, alerts: the hooks the proxy hands the
   gate (they call the engine's functions they are given, never import it the other way)
9. proxy: a shim call's glue
10. management: cli, doctor, install, completions, grammar (learning a binary's --help),
    report.dashboard, plans.statusline, watch
11. entry: argv0 picks proxy or management CLI

Allowed upward imports (each says why): none. The alerts are hooks the proxy hands the policy
engine (shim.alerts.policy_hooks), as the team budgets are (shim.team.budget_hooks), so
policy imports neither; an argv0 that names no tool is handed to the management CLI by
shim.entry (proxy.NOT_A_TOOL), not by the proxy.

Private names stay in their module: no module imports or reads another shim module's
`_name` (PRIVATE_ALLOWED lists the exceptions, each with why; none today). A name two modules
need is public, defined once.
"""

import ast
import os
import sys

import shim

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(shim.__file__)))

LAYERS = {
    "shim": 0, "shim.exitcodes": 0, "shim.errors": 0, "shim.safefs": 0, "shim.paths": 0,
    "shim.procs": 0, "shim.buildinfo": 0, "shim.detach": 0, "shim.resolve": 0,
    "shim.runner": 0, "shim.tools": 0, "shim.isotime": 0, "shim.hotcode": 0,
    "shim.config": 1,
    "shim.adapters": 2,
    "shim.routing": 3,
    "shim.telemetry": 4,
    "shim.report": 5, "shim.plans": 5,
    "shim.attempt": 6,
    "shim.policy": 7,
    "shim.team": 8, "shim.alerts": 8,
    "shim.proxy": 9,
    "shim.cli": 10, "shim.doctor": 10, "shim.install": 10, "shim.completions": 10,
    "shim.grammar": 10, "shim.report.dashboard": 10, "shim.plans.statusline": 10,
    "shim.watch": 10,
    "shim.entry": 11, "shim.__main__": 11,
}
UPWARD_ALLOWED = set()
PRIVATE_ALLOWED = set()  # {(module, "shim.other._name")}


def modules():
    found = {}
    for directory, _, files in os.walk(os.path.join(ROOT, "shim")):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                dotted = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
                found[dotted[:-len(".__init__")] if dotted.endswith(".__init__") else dotted] = path
    return found


def imported_from(node, package):
    """The absolute module of `from ... import` in `package` (relative made absolute), or None
    when it is not one of ours."""
    base = node.module or ""
    if node.level:
        parts = package.split(".")[:len(package.split(".")) - node.level + 1]
        base = ".".join(parts + ([base] if base else []))
    return base if base == "shim" or base.startswith("shim.") else None


def import_graph():
    found = modules()
    graph = {}
    for module, path in found.items():
        package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
        with open(path, encoding="utf-8") as fh:
            tree = ast.parse(fh.read(), path)
        targets = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    name = alias.name
                    while name and name not in found:
                        name = name.rpartition(".")[0]
                    if name.startswith("shim"):
                        targets.add(name)
            elif isinstance(node, ast.ImportFrom):
                base = imported_from(node, package)
                if base is None:
                    continue
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    targets.add(full if full in found else base)
        graph[module] = {t for t in targets
                         if t != module and not module.startswith(t + ".")}
    return graph


def layer_of(module):
    name = module
    while name:
        if name in LAYERS:
            return LAYERS[name]
        name = name.rpartition(".")[0]
    raise AssertionError(f"{module} has no layer: add it to LAYERS and the docstring")


def cycles(graph):
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_graph_sees_lazy_imports():
    graph = import_graph()
    assert "shim.policy.attempts" in graph["shim.proxy"]  # imported inside execute()
    assert "shim.attempt" in graph["shim.policy.attempts"]


def test_no_import_loops():
    assert cycles(import_graph()) == []


def test_cycle_finder_finds_a_loop():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_from_a_lower_layer_to_a_higher_one():
    upward = sorted(f"{module} (layer {layer_of(module)}) imports {target} (layer "
                    f"{layer_of(target)})"
                    for module, targets in import_graph().items() for target in targets
                    if layer_of(target) > layer_of(module)
                    and (module, target) not in UPWARD_ALLOWED)
    assert upward == []


def test_policy_never_imports_team():
    graph = import_graph()
    assert not [(m, t) for m, targets in graph.items() if m.startswith("shim.policy")
                for t in targets if t.startswith("shim.team")]


def test_policy_never_imports_alerts():
    """Alerts are hooks the proxy passes in (shim.alerts.policy_hooks), as team budgets are."""
    graph = import_graph()
    assert not [(m, t) for m, targets in graph.items() if m.startswith("shim.policy")
                for t in targets if t.startswith("shim.alerts")]


def private_uses():
    """(module, line, "shim.other._name") for every import or attribute read of another shim
    module's private name: `from shim.x import _y`, `x._y` and `shim.x._y` with x imported."""
    found = modules()
    uses = []
    for module, path in sorted(found.items()):
        package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
        with open(path, encoding="utf-8") as fh:
            tree = ast.parse(fh.read(), path)
        bound = {}  # local name -> the shim module it names
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == "shim" or alias.name.startswith("shim."):
                        bound[alias.asname or "shim"] = alias.name if alias.asname else "shim"
            elif isinstance(node, ast.ImportFrom):
                base = imported_from(node, package)
                if base is None:
                    continue
                for alias in node.names:
                    if _private(alias.name) and base != module:
                        uses.append((module, node.lineno, f"{base}.{alias.name}"))
                    if f"{base}.{alias.name}" in found:
                        bound[alias.asname or alias.name] = f"{base}.{alias.name}"
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and _private(node.attr):
                chain, value = [], node.value
                while isinstance(value, ast.Attribute):
                    chain.insert(0, value.attr)
                    value = value.value
                if isinstance(value, ast.Name) and value.id in bound:
                    owner = ".".join([bound[value.id]] + chain)
                    if owner != module:
                        uses.append((module, node.lineno, f"{owner}.{node.attr}"))
    return uses


def _private(name):
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def test_no_module_uses_another_modules_private_names():
    used = [f"{module}:{line} uses {name}" for module, line, name in private_uses()
            if (module, name) not in PRIVATE_ALLOWED]
    assert used == []


def test_the_private_name_check_sees_each_form(tmp_path, monkeypatch):
    package = tmp_path / "shim"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def _hidden():\n    pass\n")
    (package / "b.py").write_text("from shim import a\nfrom shim.a import _hidden\n"
                                  "import shim.a\na._hidden()\nshim.a._hidden()\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", str(tmp_path))
    assert sorted(name for _, _, name in private_uses()) == ["shim.a._hidden"] * 3
