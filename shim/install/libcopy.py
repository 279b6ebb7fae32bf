"""The private, versioned copy of the code that installed shims run.

Installed shims start the base interpreter with `-IS` (see `shim.install.shimscript`), so the
private directory `lib/<version>/` must hold everything the proxy and the CLI import: the `shim`
package and its runtime dependencies, copied from wherever the running code came from (a
checkout, a pip install, or shiv's extracted site-packages of the zipapp), so the shims depend
on none of them afterwards.
"""

import compileall
import hashlib
import importlib
import json
import os
import py_compile
import shutil
import sys
import tempfile
import time

from shim import errors, paths

# What the proxy and the CLI import at runtime (pyproject's `dependencies`, by module name).
RUNTIME_MODULES = ("shim", "yaml", "platformdirs", "psutil", "tabulate")
MANIFEST = ".llm-shim-lib"
_SKIP_DIRS = {"__pycache__"}
_SKIP_DEP_DIRS = {"__pycache__", "tests"}
_STALE_TEMP_SECONDS = 3600


def runtime_sources(modules=RUNTIME_MODULES):
    """[(name, path, is_package)] of where each runtime module is loaded from right now.

    From a shiv zipapp these are in its extracted site-packages (`~/.shiv/...`), from a
    checkout in the repo and the venv: wherever the running code came from.
    """
    sources = []
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise errors.ShimError("install", f"cannot import {name} ({exc})",
                                   "reinstall llm-shim with its dependencies") from None
        path = getattr(module, "__file__", None)
        if not path:
            raise errors.ShimError("install", f"{name} has no files to copy",
                                   "reinstall llm-shim with its dependencies")
        path = os.path.abspath(path)
        if os.path.basename(path).startswith("__init__."):
            sources.append((name, os.path.dirname(path), True))
        else:
            sources.append((name, path, False))
    return sources


def _source_files(sources):
    """[(relative path in lib, absolute source path)], sorted, without caches and tests."""
    files = []
    for name, path, is_package in sources:
        if not is_package:
            files.append((os.path.basename(path), path))
            continue
        skip = _SKIP_DIRS if name == "shim" else _SKIP_DEP_DIRS
        for root, dirs, names in os.walk(path):
            dirs[:] = sorted(d for d in dirs if d not in skip)
            for filename in sorted(names):
                if filename.endswith((".pyc", ".pyo")):
                    continue
                full = os.path.join(root, filename)
                rel = os.path.join(name, os.path.relpath(full, path))
                files.append((rel, full))
    return sorted(files)


def _digest(files, python):
    """What makes a private copy current: the interpreter and every file's name and bytes."""
    h = hashlib.sha256()
    h.update(f"{python}\0{sys.version}\0".encode())
    for rel, full in files:
        h.update(rel.encode() + b"\0")
        with open(full, "rb") as fh:
            h.update(fh.read())
        h.update(b"\0")
    return h.hexdigest()


def read_manifest(target):
    """The digest recorded in a private copy, or None."""
    try:
        with open(os.path.join(target, MANIFEST), encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    return lines[1] if len(lines) > 1 else None


def install_lib(lib_root, version, python, sources=None):
    """Make `lib_root/<version>` a complete copy of the runtime code; return (path, changed).

    Unchanged sources leave the copy untouched. Otherwise the copy is built in a temp dir
    next to it, byte-compiled (unchecked hash-based pycs: the copy is immutable, so Python
    need not stat sources) and renamed into place.
    """
    target = os.path.join(lib_root, version)
    files = _source_files(sources if sources is not None else runtime_sources())
    digest = _digest(files, python)
    if read_manifest(target) == digest:
        return target, False
    paths.ensure_private_parent(lib_root)
    os.makedirs(lib_root, mode=0o755, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{version}-", dir=lib_root)
    try:
        for rel, full in files:
            dest = os.path.join(tmp, rel)
            os.makedirs(os.path.dirname(dest), mode=0o755, exist_ok=True)
            shutil.copyfile(full, dest)
            os.chmod(dest, 0o644)
        _bake_commit(tmp)
        compileall.compile_dir(tmp, quiet=2, workers=1,
                               invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        with open(os.path.join(tmp, MANIFEST), "w", encoding="utf-8") as fh:
            fh.write(f"llm-shim private code {version}; written by `llm-shim install`\n"
                     f"{digest}\n")
        os.chmod(tmp, 0o755)
        _swap_into_place(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target, True


def _bake_commit(copy_root):
    """Record the checkout's commit in the copy's build.json when the source has none baked in
    (installed from a git checkout): the installed `llm-shim version --json` cannot ask git,
    since its code no longer sits in the work tree."""
    from shim import buildinfo

    build = os.path.join(copy_root, "shim", "data", buildinfo.BUILD_FILE)
    if not os.path.isfile(build) or buildinfo.baked_commit() is not None:
        return
    commit = buildinfo.checkout_commit()
    if commit:
        with open(build, "w", encoding="utf-8") as fh:
            json.dump({"commit": commit}, fh)
            fh.write("\n")


def _swap_into_place(new, target):
    """Rename `new` to `target`; an existing `target` is renamed aside first, then deleted."""
    if not os.path.exists(target):
        os.rename(new, target)
        return
    old = tempfile.mkdtemp(prefix=".old-", dir=os.path.dirname(target))
    os.rmdir(old)
    os.rename(target, old)
    os.rename(new, target)
    shutil.rmtree(old, ignore_errors=True)


def prune_lib(lib_root, keep):
    """Delete every other version's copy (and temp dirs abandoned by a crashed install)."""
    removed = []
    if not os.path.isdir(lib_root):
        return removed
    now = time.time()
    for entry in sorted(os.listdir(lib_root)):
        path = os.path.join(lib_root, entry)
        if entry == keep:
            continue
        if entry.startswith(".") and now - os.lstat(path).st_mtime < _STALE_TEMP_SECONDS:
            continue  # another install may be building this one right now
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            _unlink_quietly(path)
        removed.append(entry)
    return removed


def lib_size(path):
    """Bytes under `path` (for the install summary)."""
    total = 0
    for root, _dirs, names in os.walk(path):
        for name in names:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


def _unlink_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass
