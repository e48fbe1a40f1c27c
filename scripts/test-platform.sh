#!/usr/bin/env bash
# Run the platform suite (platform_tests/) inside a real Open edX LMS, with the plugin installed
# into the LMS's environment as an operator installs it. Arguments go to pytest.
#
# Outside CI, a machine that cannot build the LMS (no Python of the version the platform's requirements
# were compiled for: 3.11 for Teak, 3.12 for Verawood; no platform source) skips the
# suite and says so loudly; in CI (CI set) that is an error.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
dir="${PLATFORM_DIR:-$root/.platform}"

status=0
scripts/platform-env.sh || status=$?  # says why on stderr when it exits 3
if [ "$status" = 3 ]; then  # this machine cannot build the LMS
    if [ -n "${CI:-}" ]; then
        echo "The platform suite cannot run (see above). CI must run it." >&2
        exit 1
    fi
    printf '\n*** The platform suite (the plugin inside a real LMS) did NOT run (see above). ***\n\n' >&2
    exit 0
elif [ "$status" != 0 ]; then
    exit "$status"
fi
# The LMS's source is the working directory, as for the platform's own tests; only platform_tests/
# is added to sys.path (by its pytest.ini), never the project's root.
args=()
for arg in "$@"; do  # test paths given from the project's root
    if [ -e "$root/${arg%%::*}" ]; then args+=("$root/$arg"); else args+=("$arg"); fi
done
if [ ${#args[@]} -eq 0 ] || ! printf '%s\n' "${args[@]}" | grep -q "^$root/"; then args+=("$root/platform_tests"); fi
cd "$dir/src"
exec "$dir/venv/bin/python" -m pytest -c "$root/platform_tests/pytest.ini" --rootdir "$root/platform_tests" "${args[@]}"
