"""The private code copy and the shim files."""

import os
import subprocess
import sys

import pytest

try:
    import tomllib
except ImportError:  # Python 3.10: the test extra installs tomli there
    import tomli as tomllib

from shim import __version__, errors
from shim import resolve
from shim.install import libcopy, shimdir, shimscript


def test_shim_script_shape():
    text = shimscript.shim_script("/usr/bin/python3.11", "/data/lib/1.2.3", "1.2.3")
    lines = text.splitlines()
    assert lines[0] == "#!/usr/bin/python3.11 -IS"  # one argument: Linux passes it whole
    assert lines[1].encode().startswith(resolve.SHIM_MARKER)
    assert "1.2.3" in lines[1]
    assert "sys.path.insert(0, '/data/lib/1.2.3')" in text
    assert lines[-1] == "sys.exit(main())"
    compile(text, "shim", "exec")


@pytest.mark.parametrize("python", ["/opt/my python/bin/python3", "/x/" + "p" * 200 + "/python3"])
def test_shim_script_falls_back_to_sh_polyglot(python):
    text = shimscript.shim_script(python, "/lib/v", "0.1")
    lines = text.splitlines()
    assert lines[0] == "#!/bin/sh"
    assert lines[1].encode().startswith(resolve.SHIM_MARKER)
    compile(text, "shim", "exec")  # the exec line is a string to Python


def test_polyglot_shim_runs_with_a_spaced_interpreter_path(tmp_path, prebuilt_lib):
    spaced = tmp_path / "dir with space"
    spaced.mkdir()
    (spaced / "python3").symlink_to(shimscript.base_python())
    shim = tmp_path / "llm-shim"
    shim.write_text(shimscript.shim_script(str(spaced / "python3"), prebuilt_lib, __version__))
    shim.chmod(0o755)
    out = subprocess.run([str(shim), "version"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"llm-shim {__version__}"


def test_base_python_is_outside_any_venv():
    python = shimscript.base_python()
    assert os.path.isabs(python) and os.access(python, os.X_OK)
    assert os.path.basename(python) == "python%d.%d" % sys.version_info[:2]
    assert os.path.realpath(python) == os.path.realpath(sys.executable)
    if sys.prefix != sys.base_prefix:  # running in a venv: the shims must not depend on it
        assert not python.startswith(sys.prefix.rstrip("/") + "/")
        assert not python.startswith(os.path.realpath(sys.prefix) + "/")


def test_runtime_modules_cover_pyproject_dependencies(repo):
    with open(os.path.join(repo, "pyproject.toml"), "rb") as fh:
        deps = tomllib.load(fh)["project"]["dependencies"]
    module_of = {"pyyaml": "yaml"}
    for spec in deps:
        name = spec.split(">")[0].split("=")[0].split("<")[0].split("[")[0].strip().lower()
        assert module_of.get(name, name) in libcopy.RUNTIME_MODULES, spec


def test_install_lib_copies_everything_the_shims_import(tmp_path):
    target, changed = libcopy.install_lib(str(tmp_path), __version__, shimscript.base_python())
    assert changed and target == str(tmp_path / __version__)
    for name in libcopy.RUNTIME_MODULES:
        assert any(entry.startswith(name) for entry in os.listdir(target)), name
    assert os.path.isfile(os.path.join(target, "shim", "data", "default.yaml"))
    assert os.path.isdir(os.path.join(target, "shim", "__pycache__"))  # byte-compiled
    assert not os.path.exists(os.path.join(target, "psutil", "tests"))
    # -I -S: nothing from site-packages; everything from the copy, C extensions included.
    probe = ("import sys; sys.path.insert(0, sys.argv[1]); "
             "import shim.cli.main, yaml, psutil, platformdirs, tabulate; "
             "print(yaml.__file__, psutil.__file__, yaml.__with_libyaml__ or 'pure')")
    out = subprocess.run([shimscript.base_python(), "-IS", "-c", probe, target],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert all(p.startswith(target) for p in out.stdout.split()[:2])


def test_install_lib_keeps_a_current_copy_and_replaces_a_stale_one(tmp_path):
    tmp_path = tmp_path / "lib"
    python = shimscript.base_python()
    target, _ = libcopy.install_lib(str(tmp_path), "9.9", python)
    marker = os.path.join(target, libcopy.MANIFEST)
    before = os.stat(marker).st_mtime_ns
    assert libcopy.install_lib(str(tmp_path), "9.9", python) == (target, False)
    assert os.stat(marker).st_mtime_ns == before
    with open(marker, "w") as fh:  # a copy from other sources
        fh.write("x\nstale\n")
    with open(os.path.join(target, "leftover.txt"), "w") as fh:
        fh.write("old")
    assert libcopy.install_lib(str(tmp_path), "9.9", python) == (target, True)
    assert not os.path.exists(os.path.join(target, "leftover.txt"))
    assert sorted(os.listdir(tmp_path)) == ["9.9"]  # no temp or old dirs left behind


def test_prune_lib_keeps_only_the_current_version(tmp_path):
    tmp_path = tmp_path / "lib"
    tmp_path.mkdir()
    for name in ("0.0.9", "0.1.0", "0.2.0"):
        (tmp_path / name).mkdir()
    fresh_tmp = tmp_path / ".0.2.0-abc"  # another install building right now
    fresh_tmp.mkdir()
    old_tmp = tmp_path / ".0.1.0-old"
    old_tmp.mkdir()
    os.utime(old_tmp, (0, 0))
    removed = libcopy.prune_lib(str(tmp_path), keep="0.2.0")
    assert sorted(removed) == [".0.1.0-old", "0.0.9", "0.1.0"]
    assert sorted(os.listdir(tmp_path)) == [".0.2.0-abc", "0.2.0"]


def test_write_shims_is_idempotent_and_removes_only_stale_shims_of_ours(tmp_path):
    script = shimscript.shim_script("/usr/bin/python3", "/lib/1", "1")
    shims = tmp_path / "shims"
    first = shimdir.write_shims(str(shims), ["claude", "aider", "llm-shim"], script)
    assert sorted(first["created"]) == ["aider", "claude", "llm-shim"]
    (shims / "notes.txt").write_text("mine")
    stamp = os.stat(shims / "claude").st_mtime_ns
    second = shimdir.write_shims(str(shims), ["claude", "llm-shim"], script)
    assert second == {"created": [], "updated": [], "unchanged": ["claude", "llm-shim"],
                      "removed": ["aider"]}
    assert os.stat(shims / "claude").st_mtime_ns == stamp
    assert (shims / "notes.txt").read_text() == "mine"
    assert oct(os.stat(shims / "claude").st_mode & 0o777) == "0o755"
    newer = shimscript.shim_script("/usr/bin/python3", "/lib/2", "2")
    assert shimdir.write_shims(str(shims), ["claude", "llm-shim"], newer)["updated"] == \
        ["claude", "llm-shim"]


def test_write_shims_never_replaces_a_real_tool(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    real = bin_dir / "claude"
    real.write_text("#!/bin/sh\necho real\n")
    with pytest.raises(errors.ShimError, match="not an llm-shim shim"):
        shimdir.write_shims(str(bin_dir), ["codex", "claude"], "#!x\n# llm-shim shim\n")
    assert real.read_text() == "#!/bin/sh\necho real\n"
    assert not (bin_dir / "codex").exists()  # checked before anything was written


def test_remove_shims_leaves_other_files(tmp_path):
    tmp_path = tmp_path / "shims"
    script = shimscript.shim_script("/usr/bin/python3", "/lib/1", "1")
    shimdir.write_shims(str(tmp_path), ["claude", "codex"], script)
    (tmp_path / "llm").write_text("#!/bin/sh\n# not ours\n")
    assert shimdir.remove_shims(str(tmp_path)) == ["claude", "codex"]
    assert os.listdir(tmp_path) == ["llm"]


def test_tool_names_adds_configured_tools_and_skips_unusable_names(capsys):
    cfg = {"tools": {"claude": {}, "aider": {}, "../evil": {}, "llm-shim": {}}}
    assert shimdir.tool_names(cfg) == ["aider", "claude", "codex", "llm"]
    assert "'../evil'" in capsys.readouterr().err
    assert shimdir.tool_names(None) == ["claude", "codex", "llm"]
