"""Settings of the plugin shared by every environment; the LMS calls ``plugin_settings``."""

DEFAULTS = {
    # .. setting_name: TAHOE_REGISTRATION_API_ADAPTER
    # .. setting_default: "tahoe_registration_api.edxapp"
    # .. setting_description: Dotted path of the module through which the plugin calls the
    #   platform's account creation. Only the development LMS and the tests change it.
    "TAHOE_REGISTRATION_API_ADAPTER": "tahoe_registration_api.edxapp",
    # .. setting_name: TAHOE_REGISTRATION_API_DEADLOCK_RETRIES
    # .. setting_default: 3
    # .. setting_description: How many times a registration is retried when the database
    #   reports a deadlock or a lock wait timeout before the caller gets a 503.
    "TAHOE_REGISTRATION_API_DEADLOCK_RETRIES": 3,
}

# Apps the plugin needs beside the LMS's own: DRF's token table backs ``Authorization: Token``
# and is not in the upstream LMS's INSTALLED_APPS.
REQUIRED_APPS = ("rest_framework.authtoken",)


def plugin_settings(settings):
    """Add the plugin's defaults and required apps to the host's settings module."""
    for name, value in DEFAULTS.items():
        if not hasattr(settings, name):
            setattr(settings, name, value)
    for app in REQUIRED_APPS:
        if app not in settings.INSTALLED_APPS:
            settings.INSTALLED_APPS.append(app)
    # tahoe-sites expects Appsembler's fork of edx-organizations unless told otherwise;
    # upstream Open edX runs the upstream package. An explicit operator value wins.
    settings.FEATURES.setdefault("TAHOE_SITES_USE_ORGS_MODELS", False)
