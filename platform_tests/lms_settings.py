"""
The LMS's own test settings, with this plugin enabled as the README tells an operator.

Derived from ``lms.envs.test``: the plugin is found through its ``lms.djangoapp`` entry point
(it is pip-installed into the LMS's environment) and its ``test`` settings hook has run.
"""
# pylint: disable=wildcard-import,unused-wildcard-import
from lms.envs.test import *  # noqa: F401,F403

# The operator's one setting (README, "Enabling it").
TAHOE_REGISTRATION_API_ENABLED = True

ALLOWED_HOSTS = ["*"]

# lms.envs.test's default cache is a DummyCache; production LMSs run memcached or redis, in which
# sessions (production.py), rate limits and the plugin's look-ups are kept. A local memory cache
# behaves like them within one process.
CACHES["default"] = {  # noqa: F405
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "tahoe-platform-tests",
}


class PlatformAppsWithoutMigrations(dict):
    """
    The platform's migrations do not run on sqlite (MySQL-only data migrations).

    Its tables are created from its models, as its own test suite does (``--nomigrations``);
    the plugin's own migrations run, as they do when an operator runs ``migrate``.
    """

    KEEP = {"tahoe_registration_api"}

    def __contains__(self, app_label):
        return app_label not in self.KEEP

    def __getitem__(self, app_label):
        return None


MIGRATION_MODULES = PlatformAppsWithoutMigrations()
