#!/usr/bin/env bash
# Print the path of a working Python interpreter of version $1 (e.g. 3.12), or fail saying how to get one.
# Looks on PATH (python3.12), then in pyenv's versions (3.12.*), newest first.
set -uo pipefail
version="$1"
candidates=("$(command -v "python$version" 2>/dev/null)")
root="${PYENV_ROOT:-$HOME/.pyenv}"
if [[ -d "$root/versions" ]]; then
    while IFS= read -r found; do candidates+=("$found"); done < <(ls -d "$root/versions/$version".*/bin/"python$version" 2>/dev/null | sort -rV)
fi
for python in "${candidates[@]}"; do
    if [[ -n "$python" ]] && "$python" -c "import sys, venv, ensurepip; assert sys.version.startswith('$version.')" >/dev/null 2>&1; then
        echo "$python"
        exit 0
    fi
done
echo "find-python.sh: no working Python $version (with venv and ensurepip) on PATH or in pyenv ($root/versions)." >&2
echo "Install one (e.g. pyenv install $version, or your distribution's python$version-venv)." >&2
exit 1
