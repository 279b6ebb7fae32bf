#!/bin/sh
# The README's first command: set llm-shim up for this user and show the main job working on
# the embedded default configuration.
#
#   sh install/quickstart.sh [llm-shim install options...]
#
# 1. builds dist/llm-shim.pyz and installs the shims into your account (install/install.sh;
#    your shell start-up files get a marked PATH block that `llm-shim uninstall` removes);
# 2. runs `llm-shim doctor`;
# 3. shows two routing decisions of the built-in `auto` agent (a simple and a complex prompt);
# 4. makes one routed, recorded call through the `llm` shim. When no real `llm` is installed it
#    puts llm and its offline `echo` model (the llm-echo plugin) into a private virtualenv
#    under llm-shim's data directory, so the call needs no API key and no network;
# 5. shows the call in `llm-shim logs` and `llm-shim report`.
# POSIX sh; $PYTHON picks the interpreter (default python3).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python3}

say() { printf '\n== %s\n' "$*"; }

say "Installing llm-shim (build the zipapp, install the shims)"
sh "$root/install/install.sh" "$@"

# Ask the package itself where the shims and its data live (one source of truth: shim/paths.py).
where() {
    "$python" -c "import sys; sys.path.insert(0, sys.argv[1] + '/site-packages'); \
from shim import paths; print(getattr(paths, sys.argv[2])())" "$root/dist/llm-shim.pyz" "$1"
}
shims=$(where shims_dir)
data=$(where data_dir)
PATH="$shims:$PATH"
export PATH

# The real tools are whatever follows the shims on PATH.
if ! PATH=${PATH#*:} command -v llm >/dev/null 2>&1; then
    demo="$data/demo-venv"
    say "No real llm on PATH: installing llm and llm-echo into $demo"
    [ -x "$demo/bin/python" ] || "$python" -m venv "$demo"
    "$demo/bin/python" -m pip install --quiet --disable-pip-version-check llm llm-echo
    PATH="$shims:$demo/bin:${PATH#*:}"
    export PATH
fi

say "llm-shim doctor"
llm-shim doctor || echo "(doctor reported problems above; the demo goes on)"

say "How the built-in 'auto' agent routes a simple and a complex prompt (nothing runs)"
LLM_SHIM_AGENT=auto llm-shim route --explain -- claude -p "fix the typo in README.md"
LLM_SHIM_AGENT=auto llm-shim route --explain -- claude -p "Design the architecture for migrating our monolith to \
services: compare three approaches, prove the data-consistency invariants, and give a step by \
step rollout plan with rollback at every step."

say "One routed, recorded call through the llm shim (offline echo model)"
LLM_SHIM_AGENT=auto llm -m echo "hello from llm-shim"

say "llm-shim logs -n 3"
llm-shim logs -n 3

say "llm-shim report"
llm-shim report --no-chart

say "Done. Open a new shell (or run: export PATH=\"$shims:\$PATH\") and your claude, codex and \
llm calls go through llm-shim. Undo everything with: llm-shim uninstall"
