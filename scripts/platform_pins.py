#!/usr/bin/env python3
"""
Write the pins of an Open edX release's ``requirements/edx/base.txt`` as a pip constraints file.

    scripts/platform_pins.py BASE_TXT "SOURCE" > requirements/constraints-RELEASE.txt

Every ``name==version`` line becomes a constraint (extras and environment markers dropped: pip
takes neither in a constraint); VCS and editable lines are left out (nothing the plugin imports
comes from one). SOURCE names where the file was read (repository, path and commit): it heads the
output, so each constraints file says what it was read from.
"""

import re
import sys

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;#]+)")


def pins(lines):
    """Yield ``name==version`` for each pinned requirement of ``lines``."""
    for line in lines:
        match = PIN.match(line.strip())
        if match:
            yield f"{match.group(1).lower()}=={match.group(3)}"


def main(path, source):
    """Print the constraints read from ``path``, headed by ``source``; return the exit status."""
    with open(path, encoding="utf-8") as base:
        found = sorted(set(pins(base)))
    if not found:
        print(f"{path}: no pinned requirement found", file=sys.stderr)
        return 1
    print(f"# The pins of {source}")
    print("# Written by scripts/platform_pins.py; do not edit by hand.")
    print("\n".join(found))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
