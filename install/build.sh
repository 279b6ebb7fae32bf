#!/usr/bin/env bash
# Build dist/llm-shim.pyz: one file that runs with only python3 (>= 3.10), offline.
#   bash install/build.sh [OUTPUT]          (default: dist/llm-shim.pyz)
#
# The zipapp is built with shiv from a staging site-packages holding the `shim` package and the
# runtime dependencies copied from the project venv (.venv, created and installed if missing),
# so the build itself needs no network once the venv exists. It is reproducible: fixed file
# timestamps (SOURCE_DATE_EPOCH, default 1980-01-01), sorted entries, normalised file modes;
# two builds of the same tree are byte-identical. `--compile-pyc` makes shiv compile the
# bytecode once, at first extraction (into $SHIV_ROOT, default ~/.shiv), instead of on every run.
# The C extensions of the dependencies (PyYAML's libyaml, psutil) are those of this machine's
# Python; PyYAML falls back to pure Python elsewhere. The `fast` extra (orjson, which
# `llm-shim import` decodes transcripts with) is shipped too when the venv has it; on another
# Python its import fails and the import decodes with json, to the same result.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

out=${1:-$root/dist/llm-shim.pyz}
python=${PYTHON:-python3}
venv=${LLM_SHIM_VENV:-$root/.venv}

if [ ! -x "$venv/bin/python" ]; then
    echo "build: creating $venv" >&2
    "$python" -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import shiv, yaml, platformdirs, psutil, tabulate" 2>/dev/null; then
    echo "build: installing the project and shiv into $venv" >&2
    "$venv/bin/python" -m pip install --quiet -e ".[test]"
fi

stage=$(mktemp -d "${TMPDIR:-/tmp}/llm-shim-build.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/site-packages"

# Stage the package (no bytecode, no editable-install leftovers) and every runtime dependency
# of the installed llm-shim distribution, transitively, with its dist-info.
"$venv/bin/python" - "$root" "$stage/site-packages" <<'PY'
import os, re, shutil, sys
from importlib import metadata

root, target = sys.argv[1], sys.argv[2]

def copy(src, dst):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copyfile(src, dst)
    os.chmod(dst, 0o644)

for folder, dirs, files in os.walk(os.path.join(root, "shim")):
    dirs[:] = sorted(d for d in dirs if d != "__pycache__")
    for name in sorted(files):
        if not name.endswith((".pyc", ".pyo")):
            src = os.path.join(folder, name)
            copy(src, os.path.join(target, os.path.relpath(src, root)))

def runtime_requirements(dist):
    for req in dist.requires or ():
        if "extra ==" in req.replace('"', "").replace("'", ""):
            continue
        yield re.split(r"[\s;<>=!~\[(]", req, maxsplit=1)[0]

def fast_requirements(dist):
    """The `fast` extra (orjson): shipped when the build venv has it, like psutil's C code for
    this machine's Python; elsewhere its import fails and the import decodes with json."""
    for req in dist.requires or ():
        if re.search(r"extra\s*==\s*['\"]fast['\"]", req):
            name = re.split(r"[\s;<>=!~\[(]", req, maxsplit=1)[0]
            try:
                metadata.distribution(name)
            except metadata.PackageNotFoundError:
                continue
            yield name

seen = set()
shim_dist = metadata.distribution("llm-shim")
todo = list(runtime_requirements(shim_dist)) + list(fast_requirements(shim_dist))
while todo:
    name = todo.pop()
    key = re.sub(r"[-_.]+", "-", name).lower()
    if key in seen:
        continue
    seen.add(key)
    dist = metadata.distribution(name)
    for file in dist.files or ():
        parts = file.parts
        if parts[0] == ".." or "__pycache__" in parts or file.suffix in (".pyc", ".pyo"):
            continue  # console scripts outside site-packages, bytecode
        copy(str(file.locate()), os.path.join(target, *parts))
    todo.extend(runtime_requirements(dist))
print("build: staged shim +", ", ".join(sorted(seen)), file=sys.stderr)
PY

# The commit this is built from, for `llm-shim version --json` (the checkout's copy says null).
if commit=$(git -C "$root" rev-parse HEAD 2>/dev/null) && [ -n "$commit" ]; then
    printf '{"commit": "%s"}\n' "$commit" >"$stage/site-packages/shim/data/build.json"
fi

mkdir -p "$(dirname "$out")"
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-315532800}
"$venv/bin/shiv" --site-packages "$stage/site-packages" \
    --entry-point shim.entry:main \
    --python "/usr/bin/env python3" \
    --compile-pyc --reproducible \
    --output-file "$out"
echo "build: wrote $out" >&2
