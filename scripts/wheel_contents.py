"""
Check what a release's wheel and sdist hold, and print a summary of the wheel.

Reads the package's files that git tracks (``git ls-files tahoe_registration_api``) on stdin.
Usage: ``git ls-files tahoe_registration_api | python scripts/wheel_contents.py <wheel> <sdist>``.
Fails (exit 1) when a tracked file is missing from either, when the wheel lacks the kinds of files the
package needs at run time (templates, migrations, compiled catalogues of each locale, static files when
the package has any) or holds what is not the package's (the tests, the development LMS).
"""

import sys
import tarfile
import zipfile
from collections import Counter
from pathlib import PurePosixPath


def kind(path):
    """Name the kind of a file of the package, for the summary."""
    parts = PurePosixPath(path).parts
    if path.endswith(".mo"):
        return f"compiled catalogue ({parts[-3]})"
    if path.endswith(".po"):
        return f"catalogue source ({parts[-3]})"
    if "migrations" in parts and path.endswith(".py"):
        return "migration"
    if "templates" in parts:
        return "template"
    if "static" in parts:
        return "static file"
    if path.endswith(".py"):
        return "Python module"
    return "other"


def main():
    """Compare the tracked files with the wheel's and the sdist's; print the wheel's summary."""
    wheel_path, sdist_path = sys.argv[1:3]
    tracked = {line.strip() for line in sys.stdin if line.strip()}
    with zipfile.ZipFile(wheel_path) as wheel:
        in_wheel = {name for name in wheel.namelist() if not name.startswith("tahoe_registration_api-")}
    with tarfile.open(sdist_path) as sdist:
        in_sdist = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    problems = [f"{path}: tracked by git, not in the wheel" for path in sorted(tracked - in_wheel)]
    problems += [f"{path}: tracked by git, not in the sdist" for path in sorted(tracked - in_sdist)]
    problems += [f"{path}: in the wheel, not the package's" for path in sorted(in_wheel)
                 if not path.startswith("tahoe_registration_api/") or "__pycache__" in path]
    kinds = Counter(kind(path) for path in in_wheel)
    for needed in ("template", "migration", "compiled catalogue (es_419)"):
        if not kinds[needed]:
            problems.append(f"the wheel holds no {needed}")
    sources = {path[:-3] for path in in_wheel if path.endswith(".po")}
    problems += [f"{source}.po: not compiled into the wheel" for source in sorted(sources)
                 if f"{source}.mo" not in in_wheel]
    if any(kind(path) == "static file" for path in tracked) and not kinds["static file"]:
        problems.append("the wheel holds none of the package's static files")
    print(f"{wheel_path}: {len(in_wheel)} files")
    for name, count in sorted(kinds.items()):
        print(f"  {count:4d} {name}")
    if not any(kind(path) == "static file" for path in tracked):
        print("  (the package has no static files: its pages' style and script are in their templates)")
    for problem in problems:
        print(f"MISSING OR WRONG: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
