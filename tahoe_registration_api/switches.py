"""Whether the registration API is switched on for a site: global toggle, site override, IdP sites."""

from django.conf import settings
from edx_toggles.toggles import SettingToggle

from tahoe_registration_api.features import feature

# .. toggle_name: TAHOE_REGISTRATION_API_ENABLED
# .. toggle_implementation: SettingToggle
# .. toggle_default: False
# .. toggle_description: Switches the registration API on for every site. A site's configuration
#   value of the same name (true or false) overrides it for that site. Switched off, the endpoint
#   answers 403 with the error code ``registration-api-disabled``.
# .. toggle_use_cases: open_edx
# .. toggle_creation_date: 2026-11-27
REGISTRATION_API_ENABLED = SettingToggle("TAHOE_REGISTRATION_API_ENABLED", default=False, module_name=__name__)

SITE_SWITCH = "TAHOE_REGISTRATION_API_ENABLED"
IDP_SWITCH = "ENABLE_TAHOE_IDP"


def _as_bool(value):
    """Read a configuration value that may be a bool or a string such as "true"."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "on")
    return bool(value)


def site_uses_identity_provider(site_values):
    """Whether learners of the site sign in through tahoe-idp (site configuration, then the platform's flag)."""
    configured = site_values.get(IDP_SWITCH)
    if configured is None:
        configured = feature(IDP_SWITCH)
    return _as_bool(configured)


def registration_api_enabled(site_values):
    """
    Whether the API is on for a site, given its configured ``site_values`` of the two switches.

    The site's override wins over the global toggle; IdP sites are off when the operator asks.
    """
    if settings.TAHOE_REGISTRATION_API_DISABLE_FOR_IDP_SITES and site_uses_identity_provider(site_values):
        return False
    override = site_values.get(SITE_SWITCH)
    if override is not None:
        return _as_bool(override)
    return REGISTRATION_API_ENABLED.is_enabled()
