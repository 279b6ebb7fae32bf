"""One definition of each constant (issue #16): the literal stands in one module of `shim/`,
and every other module uses that name. Read from the AST, so prose in docstrings and messages
(`LLM_SHIM_DEBUG=1 shows why`) does not count: only a whole string constant does."""

import ast
import functools
import os

import pytest

import shim

SHIM = os.path.dirname(os.path.abspath(shim.__file__))
ROOT = os.path.dirname(SHIM)

# The literal, and the one module that may write it.
CONSTANTS = {
    "LLM_SHIM_DRY_RUN": "shim/runner.py",
    "LLM_SHIM_DEBUG": "shim/errors.py",
    "spool.log": "shim/telemetry/spool.py",
    b"# llm-shim shim": "shim/resolve.py",
}
BUILTIN_TOOL_NAMES = {"claude", "codex", "llm"}


@functools.lru_cache(maxsize=1)
def trees():
    found = []
    for directory, _, files in os.walk(SHIM):
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                with open(path, encoding="utf-8") as fh:
                    found.append((os.path.relpath(path, ROOT).replace(os.sep, "/"),
                                  ast.parse(fh.read())))
    return found


def constants_written(tree):
    """String constants, and keyword names (`dict(environ, LLM_SHIM_DRY_RUN="1")`)."""
    return {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)
            and isinstance(node.value, (str, bytes))} | {
        node.arg for node in ast.walk(tree) if isinstance(node, ast.keyword) and node.arg}


@pytest.mark.parametrize("literal", sorted(CONSTANTS, key=repr))
def test_a_constant_is_written_in_one_module(literal):
    where = sorted(path for path, tree in trees() if literal in constants_written(tree))
    assert where == [CONSTANTS[literal]]


def tool_name_collections(tree):
    """Tuples, lists and sets of string literals that spell exactly the built-in tool names."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and node.elts and all(
                isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
            if {e.value for e in node.elts} == BUILTIN_TOOL_NAMES:
                yield node.lineno


def test_the_builtin_tool_names_are_written_once():
    where = sorted(f"{path}:{line}" for path, tree in trees()
                   for line in tool_name_collections(tree))
    assert [w.split(":")[0] for w in where] == ["shim/tools.py"], where


def test_the_checks_see_a_repeated_constant():
    tree = ast.parse('X = ("llm", "claude", "codex")\nY = "spool.log"\nZ = f(LLM_SHIM_DEBUG="1")')
    assert list(tool_name_collections(tree)) == [1]
    assert {"spool.log", "LLM_SHIM_DEBUG"} <= constants_written(tree)
