#!/usr/bin/env bash
# System packages the tests need (login shells for the install tests). Idempotent and quiet;
# skips what is already there, and only uses apt-get when running as root.
set -euo pipefail
need=()
for pkg in zsh fish; do
    command -v "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "test-deps: installing ${need[*]} from Debian packages" >&2
        apt-get update -qq >/dev/null 2>&1 || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 \
            || echo "test-deps: could not install ${need[*]}; the tests that need them will say so" >&2
    else
        echo "test-deps: ${need[*]} missing and apt-get unavailable; those tests will skip with a reason" >&2
    fi
fi

# PostgreSQL server binaries for the team-mode tests (tests/team start a private server in a
# temp dir). Debian puts them under /usr/lib/postgresql/<version>/bin, off PATH.
if ! command -v pg_ctl >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "test-deps: installing postgresql from Debian packages" >&2
        apt-get update -qq >/dev/null 2>&1 || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null 2>&1 \
            || echo "test-deps: could not install postgresql; the team tests will skip with a reason" >&2
    else
        echo "test-deps: PostgreSQL (initdb, pg_ctl) missing and apt-get unavailable; the team tests will skip with a reason" >&2
    fi
fi

# Chromium for the dashboard and HTML report tests (tests/report/test_dashboard.py drive it with
# --headless --dump-dom / --screenshot; no browser download, only Debian's package).
if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "test-deps: installing chromium from Debian packages" >&2
        apt-get update -qq >/dev/null 2>&1 || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 \
            || echo "test-deps: could not install chromium; the browser tests will skip with a reason" >&2
    else
        echo "test-deps: chromium missing and apt-get unavailable; the browser tests will skip with a reason" >&2
    fi
fi
