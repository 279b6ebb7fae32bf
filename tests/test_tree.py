"""The shape of the tests tree (tests/README.md): a test folder imports only from itself and from
tests/support, and tests/support imports from no test folder.

A helper imported across folders ties one folder's tests to another's private fixtures (moving
or editing one breaks the other, and a session fixture imported twice is built twice); what
more than one folder needs is defined once in tests/support.
"""

import ast
import os

TESTS = os.path.dirname(os.path.abspath(__file__))
SUPPORT = "support"


def _folder(relpath):
    """The test folder a file belongs to: its first directory under tests/ ('' at the top)."""
    parts = relpath.split(os.sep)
    return parts[0] if len(parts) > 1 else ""


def _imported(tree, relpath):
    """(line, dotted module) for every import in the file, relative ones made absolute."""
    package = ["tests"] + relpath.split(os.sep)[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # `from tests.x import y` may name a module y: judge the longest name.
            for alias in node.names:
                yield node.lineno, f"{module}.{alias.name}"


def cross_folder_imports(root=TESTS):
    """'FILE:LINE imports MODULE' for each import of another test folder."""
    problems = []
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__pycache__")))
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            path = os.path.join(directory, name)
            relpath = os.path.relpath(path, root)
            with open(path, encoding="utf-8") as fh:
                tree = ast.parse(fh.read(), path)
            own = _folder(relpath)
            for line, module in _imported(tree, relpath):
                parts = module.split(".")
                if parts[0] != "tests" or len(parts) < 2:
                    continue
                target = parts[1]
                if target == SUPPORT:
                    continue
                if target == own and own != "":
                    continue
                if own == "" and target == "conftest":
                    continue  # the top conftest's fixtures are everyone's anyway
                problems.append(f"tests/{relpath}:{line} imports {module}")
    return sorted(problems)


def test_no_test_folder_imports_another():
    problems = cross_folder_imports()
    assert not problems, (
        "define what two test folders share in tests/support (fixtures registered in "
        "tests/conftest.py or re-exported by the folder's conftest):\n" + "\n".join(problems))


def test_the_check_sees_a_cross_folder_import(tmp_path):
    """The check itself can fail: absolute, relative, from-import of a module, nested."""
    (tmp_path / "support").mkdir()
    (tmp_path / "support" / "helpers.py").write_text("from tests.policy.conftest import x\n")
    (tmp_path / "policy").mkdir()
    (tmp_path / "policy" / "conftest.py").write_text("from tests.support import helpers\n")
    (tmp_path / "watch").mkdir()
    (tmp_path / "watch" / "test_a.py").write_text(
        "import tests.policy.conftest\n"
        "from tests.watch.conftest import ok\n"
        "from ..policy import conftest\n"
        "from tests import policy\n"
        "def test_x():\n    from tests.acceptance.pty_driver import PtySession\n")
    (tmp_path / "test_top.py").write_text("from tests.support import REPO\n"
                                          "from tests.watch import test_a\n")
    assert cross_folder_imports(str(tmp_path)) == [
        "tests/support/helpers.py:1 imports tests.policy.conftest.x",
        "tests/test_top.py:2 imports tests.watch.test_a",
        "tests/watch/test_a.py:1 imports tests.policy.conftest",
        "tests/watch/test_a.py:3 imports tests.policy.conftest",
        "tests/watch/test_a.py:4 imports tests.policy",
        "tests/watch/test_a.py:6 imports tests.acceptance.pty_driver.PtySession",
    ]
