"""Package metadata for tahoe-registration-api."""

import os
import re

from setuptools import find_namespace_packages, setup

HERE = os.path.dirname(os.path.abspath(__file__))


def get_version():
    """Read ``__version__`` from the package without importing it."""
    with open(os.path.join(HERE, "tahoe_registration_api", "__init__.py"), encoding="utf-8") as init:
        return re.search(r'^__version__ = ["\']([^"\']+)["\']', init.read(), re.MULTILINE).group(1)


def load_requirements(*requirements_paths):
    """Read the unpinned requirements (``.in`` files), following ``-r`` and skipping ``-c``."""
    requirements = []
    for path in requirements_paths:
        with open(os.path.join(HERE, path), encoding="utf-8") as reqs:
            for line in reqs:
                line = line.split("#", 1)[0].strip()
                if not line or line.startswith("-c"):
                    continue
                if line.startswith("-r"):
                    requirements += load_requirements(os.path.join(os.path.dirname(path), line[2:].strip()))
                else:
                    requirements.append(line)
    return requirements


with open(os.path.join(HERE, "README.rst"), encoding="utf-8") as readme_file:
    README = readme_file.read()
with open(os.path.join(HERE, "CHANGELOG.rst"), encoding="utf-8") as changelog_file:
    CHANGELOG = changelog_file.read()

setup(
    name="tahoe-registration-api",
    version=get_version(),
    description="Register learners on a Tahoe (multi-tenant Open edX) site through a REST API.",
    long_description=README + "\n\n" + CHANGELOG,
    long_description_content_type="text/x-rst",
    license="AGPL-3.0-or-later",  # an SPDX expression (PEP 639)
    license_files=["LICENSE.txt"],
    # Namespace packages: the folders of templates and catalogues are the package's too (no warning, no file left out).
    packages=find_namespace_packages(include=["tahoe_registration_api", "tahoe_registration_api.*"]),
    include_package_data=True,
    install_requires=load_requirements("requirements/base.in"),
    python_requires=">=3.11",
    zip_safe=False,
    entry_points={
        "lms.djangoapp": [
            "tahoe_registration_api = tahoe_registration_api.apps:TahoeRegistrationApiConfig",
        ],
    },
    classifiers=[
        "Development Status :: 5 - Production/Stable",
        "Framework :: Django",
        "Framework :: Django :: 4.2",
        "Framework :: Django :: 5.2",
        "Intended Audience :: Developers",
        "Natural Language :: English",
        "Natural Language :: Spanish",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
    ],
)
