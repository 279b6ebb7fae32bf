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
