"""Whether the registration API is switched on for a site: global toggle, site override, IdP sites."""

from django.conf import settings
from edx_toggles.toggles import SettingToggle

# Annotated in settings/common.py (``.. toggle_name: TAHOE_REGISTRATION_API_ENABLED``).
REGISTRATION_API_ENABLED = SettingToggle("TAHOE_REGISTRATION_API_ENABLED", default=False, module_name=__name__)

SITE_SWITCH = "TAHOE_REGISTRATION_API_ENABLED"
IDP_SWITCH = "ENABLE_TAHOE_IDP"


def _as_bool(value):
    """Read a configuration value that may be a bool or a string such as "true"."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "on")
    return bool(value)


def site_uses_identity_provider(adapter, site):
    """Whether learners of the site sign in through tahoe-idp (site configuration, then FEATURES)."""
    configured = adapter.site_configuration_value(site, IDP_SWITCH, None)
    if configured is None:
        configured = getattr(settings, "FEATURES", {}).get(IDP_SWITCH, False)
    return _as_bool(configured)


def registration_api_enabled(adapter, site):
    """Whether the API is on for ``site``: the site's override, else the global toggle; off on IdP sites if asked."""
    if settings.TAHOE_REGISTRATION_API_DISABLE_FOR_IDP_SITES and site_uses_identity_provider(adapter, site):
        return False
    override = adapter.site_configuration_value(site, SITE_SWITCH, None)
    if override is not None:
        return _as_bool(override)
    return REGISTRATION_API_ENABLED.is_enabled()
