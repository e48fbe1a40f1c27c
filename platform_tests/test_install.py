"""The plugin is installed into the LMS as an operator installs it, and the LMS mounts it itself."""

import sys

from django.apps import apps
from django.conf import settings
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

import tahoe_registration_api


def test_the_plugin_comes_from_the_lms_environment_not_the_source_tree():
    """pip installed it into the LMS's site-packages; the project's folder is not on sys.path."""
    assert "/site-packages/tahoe_registration_api/" in tahoe_registration_api.__file__
    assert not any(path.rstrip("/").endswith("/main") for path in sys.path if path)


def test_the_lms_settings_loaded_the_plugin_through_its_entry_point():
    """The LMS's plugin framework added the app and ran its settings hook."""
    assert apps.is_installed("tahoe_registration_api")
    assert "rest_framework.authtoken" in settings.INSTALLED_APPS
    assert settings.TAHOE_REGISTRATION_API_ENABLED is True  # the README's one setting
    assert settings.TAHOE_REGISTRATION_API_RATE == "60/m"  # a default from the hook


def test_the_plugins_migrations_ran(db):  # pylint: disable=unused-argument
    """Its own migrations were applied by ``migrate`` (the platform's tables come from its models)."""
    applied = MigrationRecorder(connection).applied_migrations()
    assert ("tahoe_registration_api", "0001_initial") in applied
    assert "tahoe_registration_api_registrationclaim" in connection.introspection.table_names()
