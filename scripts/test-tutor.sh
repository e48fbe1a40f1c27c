#!/usr/bin/env bash
# Test the Tutor plugin (tutor-contrib-tahoe-registration-api/) with each supported Tutor major:
# one virtualenv per major under .tutor/ (ignored by git), holding the pinned Tutor of
# tutor-contrib-tahoe-registration-api/requirements/tutorNN.txt and the plugin, installed as an
# operator installs it (pip install of the folder, not an editable link). No Docker: the tests run
# the real `tutor` command in a temporary TUTOR_ROOT and read what it renders.
#
#   TUTOR_MAJORS    the majors to test (default: "20 21 22", every supported one)
#   TUTOR_PYTHON    the interpreter of the virtualenvs (default: python3.11)
#
# Arguments go to pytest. A major whose Tutor cannot be installed here is reported loudly and
# fails the run: it is never counted as passed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
plugin="$root/tutor-contrib-tahoe-registration-api"
majors="${TUTOR_MAJORS:-20 21 22}"
python="${TUTOR_PYTHON:-python3.11}"

log() { echo "[tutor] $*" >&2; }

command -v "$python" >/dev/null 2>&1 || { log "$python is not installed (set TUTOR_PYTHON)"; exit 1; }

failed=()
not_installed=()
for major in $majors; do
    requirements="$plugin/requirements/tutor$major.txt"
    if [ ! -f "$requirements" ]; then
        log "Tutor $major is not supported (no $requirements)"; not_installed+=("$major"); continue
    fi
    venv="$root/.tutor/venv-$major"
    stamp="$(sha256sum "$requirements" | cut -d' ' -f1)"
    if [ ! -f "$venv/.installed" ] || [ "$(cat "$venv/.installed")" != "$stamp" ]; then
        log "building $venv from $requirements"
        rm -rf "$venv"
        if ! { "$python" -m venv "$venv" \
                && "$venv/bin/python" -m pip install --quiet --upgrade pip \
                && "$venv/bin/python" -m pip install --quiet -r "$requirements"; }; then
            printf '\n*** Tutor %s could NOT be installed here: the Tutor plugin was NOT tested with it. ***\n\n' \
                "$major" >&2
            rm -rf "$venv"; not_installed+=("$major"); continue
        fi
        echo "$stamp" > "$venv/.installed"
    fi
    # The operator's step, from a copy so that no build/ or .egg-info is left in the checkout.
    build="$root/.tutor/build-$major"
    rm -rf "$build" && mkdir -p "$build"
    tar -C "$plugin" --exclude=./build --exclude='*.egg-info' --exclude=__pycache__ -cf - . | tar -C "$build" -xf -
    "$venv/bin/python" -m pip install --quiet --no-deps --force-reinstall "$build"
    rm -rf "$build"
    log "Tutor $("$venv/bin/tutor" --version | awk '{print $NF}'): running the Tutor plugin's tests"
    if ! TUTOR_EXPECTED_MAJOR="$major" "$venv/bin/python" -m pytest -p no:cacheprovider \
            --rootdir "$plugin" "$plugin/tests" "$@"; then
        failed+=("$major")
    fi
done

if [ ${#not_installed[@]} -gt 0 ]; then
    printf '\n*** NOT TESTED: Tutor %s (could not be installed). ***\n' "${not_installed[*]}" >&2
fi
if [ ${#failed[@]} -gt 0 ]; then
    printf '\n*** FAILED: the Tutor plugin tests with Tutor %s. ***\n' "${failed[*]}" >&2
fi
[ ${#failed[@]} -eq 0 ] && [ ${#not_installed[@]} -eq 0 ]
