"""Site resolution as the LMS does it: ``request.site`` from the Host header."""

import os

from django.conf import settings
from django.contrib.sites.models import Site
from django.db.models.signals import post_delete, post_save
from django.utils.functional import SimpleLazyObject

# host -> Site, per process, as Django's own SITE_CACHE; DEVLMS_SITE_CACHE=0 turns it off.
SITES_BY_HOST = {}


def forget_sites(**kwargs):
    """Forget every cached site (one was saved or deleted)."""
    SITES_BY_HOST.clear()


post_save.connect(forget_sites, sender=Site, dispatch_uid="devlms-forget-sites-save")
post_delete.connect(forget_sites, sender=Site, dispatch_uid="devlms-forget-sites-delete")


class SiteFromHostMiddleware:
    """Set ``request.site`` to the site whose domain is the Host (port included), else the main site."""

    def __init__(self, get_response):
        """Keep the next handler."""
        self.get_response = get_response
        self.use_cache = os.environ.get("DEVLMS_SITE_CACHE", "1") != "0"

    def __call__(self, request):
        """Resolve the site when first used (so a database outage reaches the view, which answers 503)."""
        request.site = SimpleLazyObject(lambda: self.site_for(request))
        return self.get_response(request)

    def site_for(self, request):
        """Like the LMS, a Host with a port does not match a domain stored without one."""
        host = request.get_host().lower()
        if self.use_cache and host in SITES_BY_HOST:
            return SITES_BY_HOST[host]
        site = Site.objects.filter(domain__iexact=host).first() or Site.objects.get(pk=settings.SITE_ID)
        if self.use_cache:
            SITES_BY_HOST[host] = site
        return site
