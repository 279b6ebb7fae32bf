#!/usr/bin/env bash
# Set up everything the test suite needs on a fresh machine, then run the whole suite.
# This is the README's test command and exactly what .ci/run calls.
#   bash install/test.sh [pytest args...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

python=${PYTHON:-python3}
venv=${LLM_SHIM_TEST_VENV:-$root/.venv}

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -e ".[test,team]"

# System packages and real CLIs the integration and acceptance tests drive.
bash "$root/install/test-deps.sh"
bash "$root/install/realclis.sh"

export PATH="$venv/bin:$PATH"
set +e
"$venv/bin/python" -m pytest "$@"
status=$?
set -e
# pytest exits 5 when it collected nothing: that is a failure for us, not a pass.
exit $status
