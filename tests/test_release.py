"""
The release names one version everywhere: the package's ``__version__`` is the one source, and the
API document, the Tutor plugin's default pin and the changelog's newest release say the same.
The release itself (the sdist and wheel, their contents, installed by name) is checked by ``make test-dist``.
"""

import datetime
import re
from pathlib import Path

import yaml

import tahoe_registration_api

ROOT = Path(__file__).resolve().parent.parent
VERSION = tahoe_registration_api.__version__


def test_the_version_is_a_semantic_version():
    assert re.fullmatch(r"\d+\.\d+\.\d+", VERSION)


def test_setup_reads_the_version_from_the_package_and_states_no_other():
    setup = (ROOT / "setup.py").read_text(encoding="utf-8")
    assert "version=get_version()" in setup
    assert not re.search(r"version\s*=\s*[\"']", setup)


def test_the_api_document_is_of_this_version():
    document = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text(encoding="utf-8"))
    assert document["info"]["version"] == VERSION


def test_the_tutor_plugin_pins_this_version_by_default():
    about = ROOT / "tutor-contrib-tahoe-registration-api" / "tutor_tahoe_registration_api" / "__about__.py"
    assert re.search(r'^__version__ = "([^"]+)"', about.read_text(encoding="utf-8"), re.MULTILINE).group(1) == VERSION


def changelog_releases():
    """The changelog's release headings (its ``****`` level), newest first."""
    lines = (ROOT / "CHANGELOG.rst").read_text(encoding="utf-8").splitlines()
    return [lines[number] for number in range(len(lines) - 1)
            if lines[number + 1].startswith("****") and len(lines[number + 1]) >= len(lines[number]) > 0]


def test_the_changelog_keeps_an_unreleased_section_then_this_release_with_its_date():
    releases = changelog_releases()
    assert releases[0] == "Unreleased"
    match = re.fullmatch(r"\[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})", releases[1])
    assert match, releases[1]
    assert match.group(1) == VERSION
    assert datetime.date.fromisoformat(match.group(2)) <= datetime.date.today()


def test_each_release_of_the_changelog_uses_keep_a_changelogs_kinds_of_change():
    text = (ROOT / "CHANGELOG.rst").read_text(encoding="utf-8")
    kinds = set(re.findall(r"^(\S[^\n]*)\n=+$", text, re.MULTILINE))
    assert kinds
    assert kinds <= {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}
