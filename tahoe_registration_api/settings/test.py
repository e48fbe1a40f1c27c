"""Test settings of the plugin (the LMS's ``lms.envs.test`` calls this)."""

from tahoe_registration_api.settings import common


def plugin_settings(settings):
    """Apply the common settings; tests of the host run the plugin as production would."""
    common.plugin_settings(settings)
