"""Site resolution as the LMS does it: ``request.site`` from the Host header."""

from django.conf import settings
from django.contrib.sites.models import Site
from django.utils.functional import SimpleLazyObject


class SiteFromHostMiddleware:
    """Set ``request.site`` to the site whose domain is the Host (port included), else the main site."""

    def __init__(self, get_response):
        """Keep the next handler."""
        self.get_response = get_response

    def __call__(self, request):
        """Resolve the site when first used (so a database outage reaches the view, which answers 503)."""
        request.site = SimpleLazyObject(lambda: self.site_for(request))
        return self.get_response(request)

    @staticmethod
    def site_for(request):
        """Like the LMS, a Host with a port does not match a domain stored without one."""
        host = request.get_host().lower()
        return Site.objects.filter(domain__iexact=host).first() or Site.objects.get(pk=settings.SITE_ID)
