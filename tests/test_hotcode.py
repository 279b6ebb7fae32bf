"""The launcher's archive of the hot modules' code (shim/hotcode.py): a shim call writes it, the
next call is served from it, and it never serves code that differs from the source: an edited
module, a file added beside one, a damaged or foreign archive all mean the normal import.

Each test runs a private copy of the `shim` package, so its archive is its own.
"""

import json
import marshal
import os
import shutil
import subprocess
import sys
import types

import pytest

from shim import hotcode
from shim.install import shimscript
from tests.support import REPO
from tests.support.launchers import LAUNCHER, SITE

PYTHON = os.path.realpath(sys.executable)
GATE = {"shim.entry", "shim.proxy", "shim.policy.engine", "shim.policy.state",
        "shim.policy.settle", "shim.telemetry.database"}

PROBE = """
import importlib.resources, inspect, json, sys
sys.path[:0] = {paths!r}
boot = {boot!r}
if boot:
    from shim import hotcode
    finder = hotcode.install()
from shim.entry import main
code = main(["claude"])
engine = sys.modules["shim.policy.engine"]
print(json.dumps({{
    "code": code,
    "misses": finder.misses if boot else None,
    "probe": getattr(engine, "HOTCODE_PROBE", None),
    "source": inspect.getsource(engine.admit).split("(")[0],
    "data": importlib.resources.files("shim").joinpath("data", "default.yaml").is_file(),
    "modules": {{name: {{
        "loader": type(m.__spec__.loader).__name__, "file": m.__file__,
        "path": getattr(m, "__path__", None), "package": m.__package__,
        "cached": m.__cached__, "origin": m.__spec__.origin, "parent": m.__spec__.parent,
        "search": m.__spec__.submodule_search_locations}}
        for name, m in sys.modules.items() if name.startswith("shim.")}},
}}))
"""


@pytest.fixture
def copy(tmp_path, fake_cli, isolated_env):
    """A private copy of the package, a launcher for it in front of the fake claude, one hard
    budget and one rate limit (a gated call), and a probe that calls in-process."""
    fake_cli("claude")
    lib = tmp_path / "lib"
    shutil.copytree(os.path.join(REPO, "shim"), lib / "shim",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shims = tmp_path / "shims"
    shims.mkdir()
    launcher = shims / "claude"
    assert shimscript.BOOT in LAUNCHER  # the tests' launchers are shaped as install writes them
    launcher.write_text(LAUNCHER.format(python=PYTHON, paths=[str(lib)] + SITE))
    launcher.chmod(0o755)
    isolated_env["shim_home"].mkdir(exist_ok=True)
    (isolated_env["shim_home"] / "config.yaml").write_text(json.dumps({"policies": {
        "budgets": {"b": {"scope": "global", "period": "day",
                          "limit": {"usd": 1000.0, "type": "hard"}, "reserve_usd": 0.01}},
        "rate_limits": {"r": {"scope": "global", "calls_per_minute": 100000}}}}))
    env = dict(os.environ, PATH=os.pathsep.join([str(shims), str(fake_cli.bin_dir),
                                                 "/usr/bin", "/bin"]))

    class Copy:
        package = lib / "shim"
        archive = hotcode.archive_path(str(lib / "shim"))

        def call(self):
            """One shim call through the launcher (it rewrites the archive when it must)."""
            done = subprocess.run([str(launcher)], env=env, capture_output=True, timeout=60)
            assert done.returncode == 0, done.stderr.decode()[-2000:]

        def probe(self, boot=True):
            """A call in-process, then what each of our modules was loaded as."""
            done = subprocess.run([PYTHON, "-I", "-S", "-c", PROBE.format(
                paths=[str(lib)] + SITE, boot=boot)], env=env, capture_output=True, timeout=60)
            assert done.returncode == 0, done.stderr.decode()[-2000:]
            return json.loads(done.stdout.decode().splitlines()[-1])

        def index(self):
            return hotcode.read(self.archive)[0]

    return Copy()


def test_a_call_writes_the_archive_and_the_next_is_served_from_it(copy):
    assert not os.path.exists(copy.archive)
    copy.call()
    assert GATE <= set(copy.index()), sorted(copy.index())
    served = copy.probe()
    assert served["code"] == 0 and served["misses"] == []
    loaders = {name: m["loader"] for name, m in served["modules"].items()}
    assert {name for name, loader in loaders.items() if loader != "ArchiveLoader"} == \
        {"shim.hotcode"}, loaders  # loaded by the launcher, before the finder
    # What the normal import makes of each module, but for the loader's class.
    normal = copy.probe(boot=False)
    for name, module in served["modules"].items():
        if name in normal["modules"]:
            assert dict(module, loader=None) == dict(normal["modules"][name], loader=None), name
    assert served["source"] == normal["source"] == "def admit"
    assert served["data"] and normal["data"]


def test_an_edited_module_is_imported_from_its_source_then_archived_again(copy):
    copy.call()
    engine = copy.package / "policy" / "engine.py"
    with open(engine, "a") as fh:
        fh.write("\nHOTCODE_PROBE = 'edited'\n")
    served = copy.probe()
    assert served["probe"] == "edited"
    assert served["modules"]["shim.policy.engine"]["loader"] == "SourceFileLoader"
    assert served["misses"] == ["shim.policy.engine"]
    assert served["modules"]["shim.policy.state"]["loader"] == "ArchiveLoader"
    copy.call()  # a shim call that missed a module rewrites the archive
    served = copy.probe()
    assert served["probe"] == "edited" and served["misses"] == []
    assert served["modules"]["shim.policy.engine"]["loader"] == "ArchiveLoader"


def test_a_file_added_beside_archived_modules_stops_serving_them(copy):
    """A package of the same name beside an archived module would win the normal import:
    any change to a directory's entries retires that directory's archived modules."""
    copy.call()
    package = copy.package / "policy" / "engine"
    shutil.copytree(copy.package / "policy", package / "unused")  # any new entry
    (package / "__init__.py").write_text(
        (copy.package / "policy" / "engine.py").read_text() + "\nHOTCODE_PROBE = 'package'\n")
    served = copy.probe()
    assert served["probe"] == "package"
    assert served["modules"]["shim.policy.engine"]["file"].endswith("engine/__init__.py")
    assert served["modules"]["shim.policy.state"]["loader"] == "SourceFileLoader"
    assert served["modules"]["shim.proxy"]["loader"] == "ArchiveLoader"  # another directory


def _damage(path, how):
    data = path.read_bytes()
    index, fd, base, room = hotcode.read(str(path))
    os.close(fd)
    if how == "truncated":
        data = data[:len(data) // 2]
    elif how == "empty":
        data = b""
    elif how == "garbage":
        data = os.urandom(len(data))
    elif how == "another-python":  # another bytecode magic number: not this Python's code
        data = data[:4] + bytes(4) + data[8:]
    elif how == "index-past-the-end":
        data = data[:hotcode.HEADER - 4] + (len(data)).to_bytes(4, "little") + data[hotcode.HEADER:]
    elif how == "code-zeroed":  # the index is sound, one module's code is not
        _, _, _, _, offset, length = index["shim.policy.engine"]
        data = data[:base + offset] + bytes(length) + data[base + offset + length:]
    elif how in ("offset-past-the-end", "entry-of-another-shape"):  # one entry is not sound
        entry = index["shim.policy.engine"]
        index["shim.policy.engine"] = (entry[:4] + (room - entry[5] + 1, entry[5])
                                       if how == "offset-past-the-end" else entry[:5])
        body = marshal.dumps(index)
        data = (data[:len(hotcode.MAGIC) + 1] + len(body).to_bytes(4, "little") + body
                + data[base:])
    path.write_bytes(data)


@pytest.mark.parametrize("how", ["truncated", "empty", "garbage", "another-python",
                                 "index-past-the-end", "code-zeroed", "offset-past-the-end",
                                 "entry-of-another-shape"])
def test_a_damaged_archive_means_the_normal_import(copy, how):
    copy.call()
    _damage(copy.package / "__pycache__" / os.path.basename(copy.archive), how)
    served = copy.probe()
    assert served["code"] == 0
    assert served["source"] == "def admit"
    engine = served["modules"]["shim.policy.engine"]
    if how == "code-zeroed":
        assert engine["loader"] == "ArchiveLoader"  # its spec, then the code from the source
        assert served["misses"] == ["shim.policy.engine"]
    elif how == "truncated":  # what is left is served, the modules cut off are not
        assert served["misses"]
        assert {served["modules"][name]["loader"] for name in served["misses"]} == \
            {"SourceFileLoader"}
    elif how in ("offset-past-the-end", "entry-of-another-shape"):
        assert engine["loader"] == "SourceFileLoader"  # that entry only
        assert served["misses"] == ["shim.policy.engine"]
        assert served["modules"]["shim.policy.state"]["loader"] == "ArchiveLoader"
    else:
        assert {m["loader"] for m in served["modules"].values()} == {"SourceFileLoader"}
    copy.call()  # rewritten by the next shim call
    assert GATE <= set(copy.index())
    assert copy.probe()["misses"] == []


def test_nothing_is_written_without_a_miss_nor_under_dont_write_bytecode(copy):
    copy.call()
    before = os.stat(copy.archive).st_mtime_ns
    copy.call()
    assert os.stat(copy.archive).st_mtime_ns == before
    os.unlink(copy.archive)
    done = subprocess.run([PYTHON, "-I", "-S", "-B", "-c", PROBE.format(
        paths=[str(copy.package.parent)] + SITE, boot=True) + "\nhotcode.refresh()\n"],
        capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert not os.path.exists(copy.archive)


def test_the_archive_is_per_python(tmp_path):
    """One file per cache tag (Pythons sharing an install each keep theirs), never under
    another's name, and its header names this Python's bytecode."""
    path = hotcode.archive_path(str(tmp_path))
    assert os.path.basename(path) == f"hotcode.{sys.implementation.cache_tag}.marshal"
    hotcode.write(path, {"shim.x": ("shim/x.py", 1, 2, 3, b"\0")})
    with open(path, "rb") as fh:
        assert fh.read(len(hotcode.MAGIC)) == hotcode.MAGIC
    import importlib.util

    assert hotcode.MAGIC[4:8] == importlib.util.MAGIC_NUMBER


def test_an_install_it_cannot_write_is_not_rebuilt_after_every_call(copy, monkeypatch):
    """A read-only install misses every module on every call; with no archive to write, the
    call must not read and compile our sources after the tool has ended (4-12 ms each)."""
    finder = hotcode.Finder({}, None, 0, 0, str(copy.package.parent))
    finder.misses.append("shim.exitcodes")
    monkeypatch.setattr(sys, "meta_path", [finder] + sys.meta_path)
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    module = types.ModuleType("shim.exitcodes")
    module.__file__ = str(copy.package / "exitcodes.py")
    monkeypatch.setitem(sys.modules, "shim.exitcodes", module)
    built = []
    monkeypatch.setattr(hotcode, "build", lambda f: built.append(f) or "written")
    real_access = os.access
    locked = {str(copy.package), str(copy.package / "__pycache__")}
    monkeypatch.setattr(os, "access", lambda path, mode: (
        False if str(path) in locked else real_access(path, mode)))
    assert not hotcode.writable(str(copy.package))
    assert hotcode.refresh() is None and built == []
    locked.clear()  # the same call where the archive can be written builds it
    assert hotcode.refresh() == "written" and built == [finder]
