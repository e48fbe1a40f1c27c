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
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from tahoe_sites.api import get_organization_by_site
from tahoe_sites.models import TahoeSite

from tahoe_registration_api.switches import IDP_SWITCH, SITE_SWITCH

PREFIX = "tahoe_registration_api"
BIGINT_MAX = 2**63 - 1  # the largest integer column of any database (sqlite's integers too)


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
        values = {name: adapter.site_configuration_value(site, name, None) for name in (SITE_SWITCH, IDP_SWITCH)}
        cache.set(key, values, settings.TAHOE_REGISTRATION_API_CACHE_TIMEOUT)
    return values


def forget_organization(sender, instance, **kwargs):  # pylint: disable=unused-argument
    """Drop the cached organization of the sites a saved or deleted TahoeSite or Organization concerns."""
    if isinstance(instance, TahoeSite):
        site_ids = [instance.site_id]
    else:  # an Organization: its sites (a deleted one's TahoeSites send their own signal)
        site_ids = TahoeSite.objects.filter(organization_id=instance.pk).values_list("site_id", flat=True)
    cache.delete_many([_organization_key(site_id) for site_id in site_ids])


def user_id_fits(user_id):
    """Whether the database's user id column holds ``user_id`` (a query for a larger one overflows, a 500)."""
    _, high = connection.ops.integer_field_range(get_user_model()._meta.pk.get_internal_type())
    return user_id <= (high if high is not None else BIGINT_MAX)  # Django 4.2 states no bound for sqlite
