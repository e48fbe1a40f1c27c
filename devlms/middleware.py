"""Site resolution as the LMS does it: ``request.site`` from the Host header."""

from django.conf import settings
from django.contrib.sites.models import Site


class SiteFromHostMiddleware:
    """Set ``request.site`` to the site whose domain is the Host (port included), else the main site."""

    def __init__(self, get_response):
        """Keep the next handler."""
        self.get_response = get_response

    def __call__(self, request):
        """Resolve the site; like the LMS, a Host with a port does not match a domain stored without one."""
        host = request.get_host().lower()
        site = Site.objects.filter(domain__iexact=host).first()
        request.site = site or Site.objects.filter(pk=settings.SITE_ID).first()
        return self.get_response(request)
