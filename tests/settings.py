"""
Test settings: the development LMS's settings, plus the platform stand-ins.

The plugin is mounted as the LMS mounts it (``get_plugin_apps`` and ``add_plugins`` in
``devlms.settings``, ``get_plugin_url_patterns`` in ``devlms.urls``), then the ``test``
settings hook runs as ``lms/envs/test.py`` runs it. ``tests/edx_platform`` holds small
stand-ins placed at the platform's real import paths, used only by the adapter's tests.
"""

import os
import sys
from pathlib import Path

from edx_django_utils.plugins import add_plugins

from devlms.settings import *  # pylint: disable=wildcard-import,unused-wildcard-import

sys.path.insert(0, str(Path(__file__).resolve().parent / "edx_platform"))

INSTALLED_APPS += [  # noqa: F405
    "common.djangoapps.student",  # the platform's apps (stand-ins)
    "openedx.core.djangoapps.site_configuration",
    "openedx.core.djangoapps.user_api",
    "oauth2_provider",  # the real django-oauth-toolkit, behind the platform's BearerAuthentication
]

add_plugins(__name__, "lms.djangoapp", "test")

# Above the adapter, tests run on its fake; the adapter's own tests switch to the real one.
TAHOE_REGISTRATION_API_ADAPTER = "devlms.fake_platform"
if not os.environ.get("DEVLMS_EMAIL_FILE_PATH"):  # a live server's tests may count its mail in files
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LOGGING = {"version": 1, "disable_existing_loggers": False}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; the bench measures the real one

if os.environ.get("DEVLMS_CACHE_TIMEOUT"):
    TAHOE_REGISTRATION_API_CACHE_TIMEOUT = int(os.environ["DEVLMS_CACHE_TIMEOUT"])

# The live server of the SCIM compliance test (pytest-django's ``live_server``) serves static files under it.
STATIC_URL = "/static/"
