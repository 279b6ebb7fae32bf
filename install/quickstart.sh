#!/bin/sh
# The README's first command: set llm-shim up for this user and show the main job working:
# a call routed by an agent, forwarded to the real tool, and recorded.
#
#   sh install/quickstart.sh [llm-shim install options...]
#
# 1. builds dist/llm-shim.pyz and installs the shims into your account (install/install.sh;
#    your shell start-up files get a marked PATH block that `llm-shim uninstall` removes);
# 2. makes sure a real `llm` with the offline `echo` model (the llm-echo plugin) is there: when
#    not, it puts both into a private virtualenv under llm-shim's data directory, so the demo
#    call needs no API key and no network (if pip cannot install them it says so, skips the
#    call and goes on);
# 3. runs `llm-shim doctor`;
# 4. shows two routing decisions of the built-in `auto` agent (a simple and a complex prompt);
# 5. in a temporary demo directory, writes a project `.llm-shim.yaml` with a `demo` agent that
#    runs llm on the `echo` model, trusts it (`llm-shim trust`: a project file applies only
#    once trusted; `untrust` on exit), shows its decision, and calls `llm "hello from llm-shim"`
#    (no -m) as that agent: the shim adds `-m echo` and records the call with its reasons;
# 6. shows the call in `llm-shim logs` and `llm-shim report`.
# POSIX sh; $PYTHON picks the interpreter (default python3); $LLM_SHIM_PYZ installs that zipapp
# instead of building one (as install/install.sh does).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python3}

say() { printf '\n== %s\n' "$*"; }
warn() { echo "quickstart.sh: $*" >&2; }

say "Installing llm-shim (build the zipapp, install the shims)"
sh "$root/install/install.sh" "$@"

# Ask the package itself where the shims and its data live (one source of truth: shim/paths.py).
# The zipapp is the one install.sh used: --pyz FILE or $LLM_SHIM_PYZ, else the one it built.
pyz=${LLM_SHIM_PYZ:-$root/dist/llm-shim.pyz}
case "${1-}" in
    --pyz) pyz=${2-$pyz} ;;
    --pyz=*) pyz=${1#--pyz=} ;;
esac
where() {
    "$python" -c "import sys; sys.path.insert(0, sys.argv[1] + '/site-packages'); \
from shim import paths; print(getattr(paths, sys.argv[2])())" "$pyz" "$1"
}
shims=$(where shims_dir)
data=$(where data_dir)
PATH="$shims:$PATH"
export PATH

# The real tools are whatever follows the shims on PATH. The demo needs llm's `echo` model.
has_echo() {
    PATH=${PATH#*:} command -v llm >/dev/null 2>&1 &&
        PATH=${PATH#*:} llm models list 2>/dev/null | grep -q '^Echo: echo'
}
have_llm=yes
if ! has_echo; then
    demo_venv="$data/demo-venv"
    say "No real llm with the echo model on PATH: installing llm and llm-echo into $demo_venv"
    if { [ -x "$demo_venv/bin/python" ] || "$python" -m venv "$demo_venv"; } &&
        "$demo_venv/bin/python" -m pip install --quiet --disable-pip-version-check \
            llm llm-echo; then
        PATH="$shims:$demo_venv/bin:${PATH#*:}"
        export PATH
    else
        have_llm=no
        warn "could not install llm and llm-echo with pip (offline, a proxy, or no python3-venv?); skipping the demo call. Install them yourself (docs/quickstart.md, step 4), then run this script again"
    fi
fi

say "llm-shim doctor"
llm-shim doctor || echo "(doctor reported problems above; the demo goes on)"

say "How the built-in 'auto' agent routes a simple and a complex prompt (nothing runs)"
LLM_SHIM_AGENT=auto llm-shim route --explain -- claude -p "fix the typo in README.md"
LLM_SHIM_AGENT=auto llm-shim route --explain -- claude -p "Design the architecture for migrating our monolith to \
services: compare three approaches, prove the data-consistency invariants, and give a step by \
step rollout plan with rollback at every step."

# A project configuration in a throwaway directory: agent `demo` runs llm on the echo model.
demo_dir=$(mktemp -d "${TMPDIR:-/tmp}/llm-shim-demo.XXXXXX")
trap 'llm-shim untrust "$demo_dir" >/dev/null 2>&1 || :; rm -rf "$demo_dir"' EXIT
cat >"$demo_dir/.llm-shim.yaml" <<'YAML'
schema_version: 1
agents:
  demo:
    description: "Quickstart: every llm call of this agent runs on the offline echo model."
    model: echo
YAML
cd "$demo_dir"

say "A project config with a 'demo' agent ($demo_dir/.llm-shim.yaml), and its decision for a call"
cat .llm-shim.yaml
llm-shim trust .
LLM_SHIM_AGENT=demo llm-shim route --explain -- llm "hello from llm-shim"

if [ "$have_llm" = yes ]; then
    say "One routed, recorded call: LLM_SHIM_AGENT=demo llm \"hello from llm-shim\" (no -m)"
    LLM_SHIM_AGENT=demo llm "hello from llm-shim"
else
    say "The demo call is skipped: no real llm with the echo model (see the message above)"
fi

say "llm-shim logs -n 3"
llm-shim logs -n 3

say "llm-shim report"
llm-shim report --no-chart

say "Done. Open a new shell (or run: export PATH=\"$shims:\$PATH\") and your claude, codex and \
llm calls go through llm-shim. Undo everything with: llm-shim uninstall"
