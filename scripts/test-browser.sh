#!/usr/bin/env bash
# The browser test (browser_tests/): headless Debian Chromium, driven by Selenium through Debian's
# chromedriver, against the development LMS as `make run` serves it; axe-core checks each page.
# Installs chromium and chromium-driver with apt-get when they are missing (root or sudo), and
# axe-core from browser_tests/package-lock.json with npm ci. Arguments go to pytest.
#
# Outside CI, a machine that cannot install them skips the test and says so loudly; in CI (CI set)
# that is an error.
set -euo pipefail
cd "$(dirname "$0")/.."

cannot_run() {
    if [ -n "${CI:-}" ]; then
        echo "The browser test cannot run: $1. CI must run it (see .ci/run)." >&2
        exit 1
    fi
    printf '\n*** The browser test did NOT run: %s. ***\n\n' "$1" >&2
    exit 0
}

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""
    if [ "$(id -u)" != "0" ]; then
        if sudo -n true 2>/dev/null; then SUDO="sudo"; else
            cannot_run "${missing[*]} missing (sudo apt-get install ${missing[*]})"
        fi
    fi
    echo "[browser] installing ${missing[*]} with apt-get"
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

axe=browser_tests/node_modules/axe-core/axe.min.js
if [ ! -f "$axe" ] || [ browser_tests/package-lock.json -nt "$axe" ]; then
    (cd browser_tests && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    touch "$axe"
fi

exec .venv/bin/pytest -c browser_tests/pytest.ini --rootdir . browser_tests "$@"
