"""The plugin is installed into the LMS as an operator installs it, and the LMS mounts it itself."""

import json
import os
import subprocess
import sys

from django.apps import apps
from django.conf import settings
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

import tahoe_registration_api
from tahoe_registration_api import edxapp
from tahoe_registration_api.adapter import platform_adapter


def test_the_plugin_comes_from_the_lms_environment_not_the_source_tree():
    """pip installed it into the LMS's site-packages; the project's folder is not on sys.path."""
    assert "/site-packages/tahoe_registration_api/" in tahoe_registration_api.__file__
    assert not any(path.rstrip("/").endswith("/main") for path in sys.path if path)


def test_the_lms_settings_loaded_the_plugin_through_its_entry_point():
    """The LMS's plugin framework added the app and ran its settings hook: the plugin calls the real platform."""
    assert apps.is_installed("tahoe_registration_api")
    assert "rest_framework.authtoken" in settings.INSTALLED_APPS
    assert settings.TAHOE_REGISTRATION_API_RATE == "60/m"  # a default from the hook
    assert platform_adapter() is edxapp


# An operator's LMS_CFG (docs/operators.rst, "Enabling it"): the switch, and a value of the operator's own.
OPERATOR_CONFIG = {"TAHOE_REGISTRATION_API_ENABLED": True, "TAHOE_REGISTRATION_API_RATE": "10/m"}
READ_SETTINGS = """
import json
import lms.envs.production as lms
print(json.dumps({
    "plugin": {name: getattr(lms, name) for name in dir(lms) if name.startswith("TAHOE_REGISTRATION_API_")},
    "INSTALLED_APPS": list(lms.INSTALLED_APPS),
    "TAHOE_SITES_USE_ORGS_MODELS": lms.FEATURES.get("TAHOE_SITES_USE_ORGS_MODELS"),
}))
"""


def test_an_operators_production_settings_get_the_plugins_defaults_and_keep_its_values(tmp_path):
    """``lms.envs.production`` from an operator's YAML, in a process of its own, as the LMS starts."""
    config = tmp_path / "lms.yml"
    config.write_text(json.dumps(OPERATOR_CONFIG), encoding="utf-8")  # JSON is YAML
    done = subprocess.run([sys.executable, "-c", READ_SETTINGS], cwd=os.getcwd(), capture_output=True, text=True,
                          env={**os.environ, "LMS_CFG": str(config)}, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    lms = json.loads(done.stdout.strip().splitlines()[-1])
    assert lms["plugin"]["TAHOE_REGISTRATION_API_ENABLED"] is True
    assert lms["plugin"]["TAHOE_REGISTRATION_API_RATE"] == "10/m"  # the operator's, not the hook's default
    assert lms["plugin"]["TAHOE_REGISTRATION_API_ADAPTER"] == "tahoe_registration_api.edxapp"
    assert lms["plugin"]["TAHOE_REGISTRATION_API_BULK_RATE"] == "5/m"  # the hook's default
    assert lms["plugin"]["TAHOE_REGISTRATION_API_IDEMPOTENCY_TTL"] == 86400
    assert "tahoe_registration_api.apps.TahoeRegistrationApiConfig" in lms["INSTALLED_APPS"]
    assert "rest_framework.authtoken" in lms["INSTALLED_APPS"]
    assert lms["TAHOE_SITES_USE_ORGS_MODELS"] is False


def test_the_plugins_migrations_ran(db):  # pylint: disable=unused-argument
    """Its own migrations were applied by ``migrate`` (the platform's tables come from its models)."""
    applied = MigrationRecorder(connection).applied_migrations()
    assert ("tahoe_registration_api", "0001_initial") in applied
    assert "tahoe_registration_api_registrationclaim" in connection.introspection.table_names()
