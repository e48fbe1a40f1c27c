#!/usr/bin/env bash
# Build (once, cached) a Python environment of a real Open edX LMS and install this plugin into it
# the way the README tells an operator: pip install, then the README's settings and migrations.
#
#   PLATFORM_SRC  the platform's source: a .tar.xz/.tar.gz of edx-platform (default: the Teak
#                 tarball in ../shared/platform/), a directory holding a checkout, or a git URL
#                 with a release tag, e.g. https://github.com/openedx/edx-platform.git@open-release/teak.1
#   PLATFORM_DIR  the cache folder (default: .platform, ignored by git)
#   PLATFORM_PYTHON  the interpreter to build the virtualenv with (default: python3.11)
#
# The environment is rebuilt when PLATFORM_SRC changes; the plugin is reinstalled on every run
# (it is cheap), never imported from the source tree. Exits 3, saying why, when this machine
# cannot build the LMS (no such Python, no platform source).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

default_src="$root/../shared/platform/openedx-platform-teak.tar.xz"
src="${PLATFORM_SRC:-$default_src}"
dir="${PLATFORM_DIR:-$root/.platform}"
python="${PLATFORM_PYTHON:-python3.11}"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

log() { echo "[platform] $*" >&2; }
cannot() { echo "$1" >&2; exit 3; }

command -v "$python" >/dev/null 2>&1 || cannot "$python is not installed (set PLATFORM_PYTHON)"
case "$src" in
    *://*|git@*) ;;
    *) [ -e "$src" ] || cannot "no platform source at $src (set PLATFORM_SRC)" ;;
esac

# System packages the platform's requirements build against (mysqlclient, xmlsec).
need_apt=()
command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
test -e /usr/include/mariadb/mysql.h || need_apt+=(libmariadb-dev)
test -e /usr/include/xmlsec1/xmlsec/xmlsec.h || need_apt+=(libxmlsec1-dev)
test -e /usr/include/libxml2/libxml/parser.h || need_apt+=(libxml2-dev)
test -e /usr/include/libxslt/xslt.h || need_apt+=(libxslt1-dev)
# The broker of the Celery worker the platform suite starts (the learners' emails go out on it).
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
if [ ${#need_apt[@]} -gt 0 ]; then
    sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    log "installing Debian packages: ${need_apt[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

stamp_src="$src"
if [ -f "$src" ]; then stamp_src="$src $(stat -c '%s %Y' "$src")"; fi
if [ -f "$dir/.built" ] && [ "$(cat "$dir/.built")" = "$stamp_src" ]; then
    log "reusing the platform environment in $dir (PLATFORM_SRC unchanged)"
else
    log "building the platform environment in $dir from $src"
    rm -rf "$dir/src" "$dir/venv" "$dir/.built"
    mkdir -p "$dir/src"
    case "$src" in
        *.tar.xz|*.tar.gz|*.tgz)
            tar -xf "$src" -C "$dir/src"
            # a tarball made by git archive may hold one top folder
            if [ ! -f "$dir/src/setup.py" ] && [ "$(ls "$dir/src" | wc -l)" = 1 ]; then
                inner="$dir/src/$(ls "$dir/src")"
                mv "$inner" "$dir/src.tmp" && rmdir "$dir/src" && mv "$dir/src.tmp" "$dir/src"
            fi ;;
        *://*|git@*)
            url="${src%@*}"; ref="${src##*@}"
            if [ "$ref" = "$src" ]; then ref=""; fi
            git clone --depth 1 ${ref:+--branch "$ref"} "$url" "$dir/src" ;;
        *)
            test -f "$src/setup.py" || { log "PLATFORM_SRC=$src is no edx-platform source"; exit 2; }
            cp -a "$src/." "$dir/src/" ;;
    esac
    test -f "$dir/src/requirements/edx/base.txt" || { log "no requirements/edx/base.txt in $src"; exit 2; }

    "$python" -m venv "$dir/venv"
    pip="$dir/venv/bin/python -m pip"
    $pip install --quiet --upgrade "pip>=24.2"
    # loremipsum's sdist needs pkg_resources while it builds
    echo "setuptools<81" > "$dir/build-constraints.txt"
    # the VCS requirement (a proctoring backend) cannot be fetched here and registration never imports it
    grep -v -e '^-e git+' -e '^git+' "$dir/src/requirements/edx/base.txt" > "$dir/requirements.txt"
    # the test runner, at the versions the platform pins for its own tests
    grep -E '^(pytest|pytest-django|freezegun)==' \
        "$dir/src/requirements/edx/testing.txt" > "$dir/requirements-test.txt"
    $pip install --quiet --build-constraint "$dir/build-constraints.txt" \
        -r "$dir/requirements.txt" -r "$dir/requirements-test.txt"
    $pip install --quiet --no-deps -e "$dir/src"
    echo "$stamp_src" > "$dir/.built"
    log "built"
fi

# The operator's step: pip install the plugin (a wheel of this checkout, not an editable link).
exec 9>"$dir/.install.lock"
flock 9  # one install at a time
log "installing the plugin into the LMS environment"
rm -rf "$dir/wheel" "$dir/build"
# Build from a copy of the working tree, so no build/ or .egg-info is left in the checkout.
mkdir -p "$dir/build"
tar -C "$root" --exclude=./.platform --exclude=./.venv --exclude=./.tutor --exclude=./.git --exclude=./.tox --exclude=./var \
    --exclude=./build --exclude='*.egg-info' -cf - . | tar -C "$dir/build" -xf -
"$dir/venv/bin/python" -m pip wheel --quiet --no-deps --wheel-dir "$dir/wheel" "$dir/build" >/dev/null 2>&1 \
    || "$dir/venv/bin/python" -m pip wheel --no-deps --wheel-dir "$dir/wheel" "$dir/build"
# What pip adds (tahoe-sites) must not move the platform's own pins.
"$dir/venv/bin/python" -m pip uninstall --quiet -y tahoe-registration-api 2>/dev/null || true
sed -e 's/\[[^]]*\]//' "$dir/requirements.txt" > "$dir/constraints.txt"  # constraints take no extras
"$dir/venv/bin/python" -m pip install --quiet -c "$dir/constraints.txt" "$dir"/wheel/*.whl
