#!/usr/bin/env bash
# Build the release artefacts of tag TAG (.github/workflows/release.yml runs exactly this):
#
#   OUTDIR/pypi/llm_shim-<version>-py3-none-any.whl and llm_shim-<version>.tar.gz  (python -m build)
#   OUTDIR/llm-shim.pyz                                                      (install/build.sh)
#
# It refuses (exit 1, nothing built) when TAG is not v<shim.__version__> (or <version>): a tag
# must never publish a version the code does not say. Both builds bake the commit into
# shim/data/build.json (`llm-shim version --json`). The wheel and the sdist go to pypi/ alone,
# so that the PyPI upload takes exactly them.
#   bash install/release.sh TAG [OUTDIR]          (default OUTDIR: dist/release)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

tag=${1:-}
if [ -z "$tag" ]; then
    echo "release: usage: bash install/release.sh TAG [OUTDIR]" >&2
    exit 2
fi
out=${2:-$root/dist/release}
python=${PYTHON:-python3}
venv=${LLM_SHIM_VENV:-$root/.venv}

version=$("$python" -c 'import sys; sys.path.insert(0, "."); import shim; print(shim.__version__)')
if [ "$tag" != "v$version" ] && [ "$tag" != "$version" ]; then
    echo "release: tag $tag does not match shim.__version__ $version: tag v$version, or change shim/__init__.py first" >&2
    exit 1
fi

if [ ! -x "$venv/bin/python" ]; then
    echo "release: creating $venv" >&2
    "$python" -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import build, shiv" 2>/dev/null; then
    echo "release: installing the project's test extra (build, shiv) into $venv" >&2
    "$venv/bin/python" -m pip install --quiet -e ".[test]"
fi

rm -rf "$out/pypi"
mkdir -p "$out/pypi"
"$venv/bin/python" -m build --outdir "$out/pypi" "$root"
LLM_SHIM_VENV=$venv bash "$root/install/build.sh" "$out/llm-shim.pyz"
echo "release: built $tag into $out (pypi/: wheel and sdist; llm-shim.pyz)" >&2
