#!/usr/bin/env bash
# Install the pinned real claude, codex and llm CLIs that the acceptance suite drives
# (tests/acceptance, docs/acceptance.md) into a cache OUTSIDE the repo:
#
#   ${LLM_SHIM_REALCLIS:-$HOME/.cache/llm-shim-realclis}/
#       npm/        npm install --prefix: @anthropic-ai/claude-code, @openai/codex, ccusage
#       llm-venv/   a venv of its own with llm + llm-echo (kept apart from the project venv)
#       bin/        claude, codex, llm, ccusage: symlinks to the real binaries (what tests put on PATH)
#       install-status   "npm=ok|unreachable: why|failed: why" and "pypi=..." for the tests
#
# Versions come from install/versions.env. A re-run with the right versions present is a no-op
# (well under a second). When a registry cannot be reached the reason is printed and recorded,
# and the script still exits 0: the acceptance tests then skip and print that reason. Any other
# install failure is recorded as "failed", and the acceptance tests fail with it.
#   bash install/realclis.sh
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=versions.env
. "$root/install/versions.env"

cache=${LLM_SHIM_REALCLIS:-$HOME/.cache/llm-shim-realclis}
npm_prefix=$cache/npm
venv=$cache/llm-venv
bin=$cache/bin
status_file=$cache/install-status
python=${PYTHON:-python3}
mkdir -p "$cache" "$bin"

# Two test runs at once must not install over each other. util-linux's flock(1) where there is
# one; else (macOS) Python takes the same flock(2) on fd 9, which stays held by this shell's fd.
exec 9>"$cache/.lock"
if command -v flock >/dev/null 2>&1; then
    flock 9
else
    "$python" -c 'import fcntl; fcntl.flock(9, fcntl.LOCK_EX)'
fi

say() { echo "realclis: $*" >&2; }
# GNU timeout where there is one (macOS has none without coreutils): npm has its own timeouts.
with_timeout() { if command -v timeout >/dev/null 2>&1; then timeout "$@"; else shift; "$@"; fi; }
npm_status=ok
pypi_status=ok

# Prints the version in a package.json, or nothing.
pkg_version() {
    [ -f "$1" ] && node -e 'try{process.stdout.write(require(process.argv[1]).version)}catch(e){}' "$1"
}

npm_ready() {
    local mods=$npm_prefix/node_modules
    [ "$(pkg_version "$mods/@anthropic-ai/claude-code/package.json")" = "$CLAUDE_CODE_VERSION" ] &&
        [ "$(pkg_version "$mods/@openai/codex/package.json")" = "$CODEX_VERSION" ] &&
        [ "$(pkg_version "$mods/ccusage/package.json")" = "$CCUSAGE_VERSION" ]
}

llm_ready() {
    local site
    for site in "$venv"/lib/python*/site-packages; do
        [ -d "$site/llm-$LLM_VERSION.dist-info" ] &&
            { [ -d "$site/llm_echo-$LLM_ECHO_VERSION.dist-info" ] ||
                [ -d "$site/llm-echo-$LLM_ECHO_VERSION.dist-info" ]; } && return 0
    done
    return 1
}

# Network trouble as npm and pip word it.
NETWORK_ERRORS='EAI_AGAIN|ENOTFOUND|ENETUNREACH|ECONNREFUSED|ECONNRESET|ETIMEDOUT|getaddrinfo|NewConnectionError|ConnectTimeout|ReadTimeout|ProxyError|SSLError|Max retries|name resolution|Network is unreachable'
# A one-line reason: the first network error if there is one, else the last meaningful line.
reason() {
    { grep -m 1 -o -E "request to .* failed, reason: .*|Failed to establish a new connection: [^')]*" "$1" ||
        grep -m 1 -E "$NETWORK_ERRORS" "$1" ||
        grep -v -e '^\s*$' -e 'Unknown user config' -e 'complete log of this run' "$1" | tail -n 1; } |
        sed -e 's/^npm error //' | cut -c1-300
}

if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
    npm_status="unreachable: node/npm are not installed"
    say "$npm_status"
elif ! npm_ready; then
    say "installing @anthropic-ai/claude-code@$CLAUDE_CODE_VERSION @openai/codex@$CODEX_VERSION ccusage@$CCUSAGE_VERSION into $npm_prefix"
    log=$(mktemp)
    if ! npm install --prefix "$npm_prefix" --no-audit --no-fund --loglevel=error \
        --prefer-offline --fetch-retries=1 --fetch-retry-mintimeout=2000 --fetch-retry-maxtimeout=10000 \
        "@anthropic-ai/claude-code@$CLAUDE_CODE_VERSION" "@openai/codex@$CODEX_VERSION" \
        "ccusage@$CCUSAGE_VERSION" >"$log" 2>&1; then
        why=$(reason "$log")
        # Tell "no registry" from "broken install": can npm see the package at all?
        if with_timeout 60 npm view --fetch-retries=0 "@openai/codex@$CODEX_VERSION" version >/dev/null 2>&1; then
            npm_status="failed: npm install: $why"
        else
            npm_status="unreachable: npm registry $(npm config get registry 2>/dev/null): $why"
        fi
        say "$npm_status"
    fi
    rm -f "$log"
fi

if [ ! -x "$venv/bin/python" ] || ! llm_ready; then
    say "installing llm==$LLM_VERSION llm-echo==$LLM_ECHO_VERSION into $venv"
    log=$(mktemp)
    if { [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"; } >"$log" 2>&1 &&
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --timeout 20 --retries 1 \
            "llm==$LLM_VERSION" "llm-echo==$LLM_ECHO_VERSION" >>"$log" 2>&1; then
        :
    else
        why=$(reason "$log")
        if grep -q -E "$NETWORK_ERRORS" "$log"; then
            pypi_status="unreachable: PyPI: $why"
        else
            pypi_status="failed: pip install: $why"
        fi
        say "$pypi_status"
    fi
    rm -f "$log"
fi

# bin/: one stable directory with the three real CLIs, whatever npm's layout is.
link() { ln -sfn "$1" "$bin/$2"; echo "realclis: $2 $3 $1"; }
mods=$npm_prefix/node_modules
if [ "$npm_status" = ok ]; then
    claude=$mods/@anthropic-ai/claude-code/bin/claude.exe
    # The postinstall hard-links the native binary (ELF on Linux, Mach-O on macOS) over
    # bin/claude.exe; if scripts were blocked the placeholder stays, and the platform package's
    # binary (claude-code-linux-x64, -darwin-arm64, ...) is the real thing.
    case $(head -c 4 "$claude" 2>/dev/null | od -An -tx1 | tr -d ' \n') in
        7f454c46 | cffaedfe | cefaedfe | cafebabe) ;;
        *)
            case $(uname -s)-$(uname -m) in
                Darwin-arm64) platform=darwin-arm64 ;;
                Darwin-*) platform=darwin-x64 ;;
                Linux-aarch64 | Linux-arm64) platform=linux-arm64 ;;
                *) platform=linux-x64 ;;
            esac
            claude=$mods/@anthropic-ai/claude-code-$platform/claude
            ;;
    esac
    link "$claude" claude "$CLAUDE_CODE_VERSION"
    link "$mods/@openai/codex/bin/codex.js" codex "$CODEX_VERSION"
    link "$mods/ccusage/src/cli.js" ccusage "$CCUSAGE_VERSION"
fi
if [ "$pypi_status" = ok ]; then
    link "$venv/bin/llm" llm "$LLM_VERSION"
fi
printf 'npm=%s\npypi=%s\n' "$npm_status" "$pypi_status" >"$status_file"
exit 0
