#!/bin/sh
# Install llm-shim for this user from the one-file distribution.
#
#   sh install/install.sh [--pyz FILE] [llm-shim install options...]
#
# Without --pyz (or $LLM_SHIM_PYZ) it builds dist/llm-shim.pyz from this checkout with
# install/build.sh first. Then it runs `python3 llm-shim.pyz install ...`, which copies the code
# into llm-shim's private directory, writes the shims and adds the PATH block to your shell
# start-up files (see docs/install.md). Options after --pyz go to `llm-shim install`, e.g.
# `--shell zsh`, `--no-modify-rc`, `--dir DIR`. $PYTHON picks the interpreter (default python3);
# it must be the Python the zipapp was built for.
# POSIX sh on purpose: runs the same under dash, bash and macOS's sh.
set -eu

usage() {
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
}

pyz=${LLM_SHIM_PYZ:-}
case "${1-}" in
    -h|--help) usage; exit 0 ;;
    --pyz)
        [ $# -ge 2 ] || { echo "install.sh: --pyz needs a file" >&2; exit 2; }
        pyz=$2
        shift 2
        ;;
    --pyz=*)
        pyz=${1#--pyz=}
        shift
        ;;
esac

python=${PYTHON:-python3}
if ! command -v "$python" >/dev/null 2>&1; then
    echo "install.sh: $python not found; install Python 3.10 or newer, or set PYTHON" >&2
    exit 1
fi
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    echo "install.sh: $python is older than 3.10; set PYTHON to a newer python3" >&2
    exit 1
fi

if [ -z "$pyz" ]; then
    root=$(cd "$(dirname "$0")/.." && pwd)
    build="$root/install/build.sh"
    if [ ! -f "$build" ]; then
        echo "install.sh: no $build to build the zipapp with; pass --pyz FILE" >&2
        exit 1
    fi
    echo "install.sh: building $root/dist/llm-shim.pyz" >&2
    if [ -x "$build" ]; then "$build"; else bash "$build"; fi
    pyz="$root/dist/llm-shim.pyz"
fi
if [ ! -f "$pyz" ]; then
    echo "install.sh: $pyz does not exist" >&2
    exit 1
fi

exec "$python" "$pyz" install "$@"
