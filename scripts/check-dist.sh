#!/usr/bin/env bash
# Check the release built by `make dist` (dist/): its metadata and description render (twine check
# --strict), the wheel holds every file of the package that git tracks (templates, migrations, static
# files, catalogues) and the compiled catalogues, and it installs by name into a fresh virtualenv,
# where Django loads the app, its models and its migrations.
# Usage: scripts/check-dist.sh <python of .venv-dist> <python to make the fresh virtualenv with> [pip constraints...]
set -euo pipefail
cd "$(dirname "$0")/.."
dist_python="$1"
base_python="$2"
shift 2

version="$("$dist_python" -c 'import re; print(re.search(r"^__version__ = \"([^\"]+)\"", open("tahoe_registration_api/__init__.py").read(), re.M).group(1))')"
wheel="dist/tahoe_registration_api-$version-py3-none-any.whl"
sdist="dist/tahoe_registration_api-$version.tar.gz"
for built in "$wheel" "$sdist"; do
    test -f "$built" || { echo "check-dist: $built is missing (run make dist)." >&2; exit 1; }
done

echo "== twine check --strict"
"$dist_python" -m twine check --strict "$wheel" "$sdist"

echo "== the wheel's contents"
git ls-files tahoe_registration_api | "$dist_python" scripts/wheel_contents.py "$wheel" "$sdist"

echo "== installed by name into a fresh virtualenv"
venv="$(mktemp -d)/venv"
trap 'rm -rf "$(dirname "$venv")"' EXIT
"$base_python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
# By name, what an operator's `pip install tahoe-registration-api==X` does: its requirements from the index, then
# the package itself from dist/ only (--no-index), so that the wheel installed is the one just built.
"$venv/bin/python" -m pip install -qq "$@" $(sed -e 's/#.*//' -e '/^-/d' -e '/^[[:space:]]*$/d' requirements/base.in)
"$venv/bin/python" -m pip install -qq --no-index --no-deps --find-links dist "tahoe-registration-api==$version"
"$venv/bin/python" -m pip check
cd "$(dirname "$venv")"  # away from the working tree: the import must come from the installed wheel
"$venv/bin/python" - "$version" <<'EOF'
import sys

import django
from django.conf import settings

settings.configure(
    INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sites",
                    "organizations", "tahoe_sites", "tahoe_registration_api"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    USE_I18N=True,
    FEATURES={},  # as the LMS has it (tahoe-sites reads it)
)
django.setup()

import tahoe_registration_api  # noqa: E402
from django.apps import apps  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db.migrations.loader import MigrationLoader  # noqa: E402

assert tahoe_registration_api.__version__ == sys.argv[1], tahoe_registration_api.__version__
assert "site-packages" in tahoe_registration_api.__file__, tahoe_registration_api.__file__
models = sorted(model.__name__ for model in apps.get_app_config("tahoe_registration_api").get_models())
migrations = sorted(name for app, name in MigrationLoader(None).disk_migrations if app == "tahoe_registration_api")
call_command("makemigrations", "tahoe_registration_api", "--check", "--dry-run", verbosity=0)
call_command("migrate", verbosity=0)
# The compiled catalogues are Django's: every message of the installed Spanish catalogue comes out in Spanish.
import gettext as gnu_gettext  # noqa: E402
from pathlib import Path  # noqa: E402

from django.utils import translation  # noqa: E402

catalogue = Path(tahoe_registration_api.__file__).parent / "locale" / "es_419" / "LC_MESSAGES" / "django.mo"
with open(catalogue, "rb") as compiled:
    messages = {msgid: text for msgid, text in gnu_gettext.GNUTranslations(compiled)._catalog.items()
                if isinstance(msgid, str) and msgid}
with translation.override("es-419"):
    untranslated = [msgid for msgid, text in messages.items() if translation.gettext(msgid) != text]
assert messages and not untranslated, untranslated[:3]
print(f"tahoe-registration-api {tahoe_registration_api.__version__} from {tahoe_registration_api.__file__}")
print(f"{len(messages)} messages of its es_419 catalogue given in Spanish by Django")
print(f"{len(models)} models, {len(migrations)} migrations applied, none missing: {', '.join(models)}")
EOF
