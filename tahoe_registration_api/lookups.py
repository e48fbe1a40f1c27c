"""
Cached look-ups that every request repeats: the site's organization and its switches.

How long a change takes to apply: moving a site to another organization (a TahoeSite or
Organization saved or deleted through the ORM) applies at once where the cache is shared
(and within the timeout below otherwise); a site's switch
(``TAHOE_REGISTRATION_API_ENABLED`` or ``ENABLE_TAHOE_IDP`` in its configuration) applies
within TAHOE_REGISTRATION_API_CACHE_TIMEOUT seconds (30 by default). The admin check is
never cached: a demoted or deactivated admin is refused from their next request on.
"""

from django.conf import settings
from django.core.cache import cache
from tahoe_sites.api import get_organization_by_site

from tahoe_registration_api.switches import IDP_SWITCH, SITE_SWITCH

PREFIX = "tahoe_registration_api"
MISSING = "missing"


def _organization_key(site_id):
    return f"{PREFIX}:organization:{site_id}"


def _switches_key(site_id):
    return f"{PREFIX}:site-switches:{site_id}"


def cached_organization_for_site(site):
    """Return the site's organization (cached until it changes, at most TAHOE_REGISTRATION_API_CACHE_TIMEOUT)."""
    key = _organization_key(site.pk)
    organization = cache.get(key)
    if organization is None:
        organization = get_organization_by_site(site)  # raises Organization.DoesNotExist
        cache.set(key, organization, settings.TAHOE_REGISTRATION_API_CACHE_TIMEOUT)
    return organization


def cached_site_switches(adapter, site):
    """Return the site's configured (enabled, uses identity provider) values, None where unset."""
    key = _switches_key(site.pk)
    values = cache.get(key)
    if values is None:
        values = {name: adapter.site_configuration_value(site, name, MISSING) for name in (SITE_SWITCH, IDP_SWITCH)}
        cache.set(key, values, settings.TAHOE_REGISTRATION_API_CACHE_TIMEOUT)
    return {name: (None if value == MISSING else value) for name, value in values.items()}


def forget_organizations(**kwargs):
    """Drop every cached site-to-organization mapping (a TahoeSite or Organization changed)."""
    cache.delete_many([_organization_key(site_id) for site_id in _known_site_ids()])


def _known_site_ids():
    from django.contrib.sites.models import Site

    return list(Site.objects.values_list("pk", flat=True))
