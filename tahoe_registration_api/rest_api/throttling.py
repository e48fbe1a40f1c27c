"""Rate limits per caller and site, counted in the shared cache (django-ratelimit's fixed windows)."""

from django.conf import settings
from django_ratelimit.core import get_usage
from rest_framework.throttling import BaseThrottle

GROUP = "tahoe_registration_api.registrations"


def caller_and_site(group, request):  # pylint: disable=unused-argument
    """Return the rate-limit key: the caller and the site, never the IP (integrators share IPs)."""
    site = getattr(request, "site", None)
    return f"{request.user.pk}:{getattr(site, 'pk', None)}"


class CallerSiteRateThrottle(BaseThrottle):
    """Allow TAHOE_REGISTRATION_API_RATE requests per caller and site; keep the usage for the headers."""

    def allow_request(self, request, view):
        """Count this request; refuse it once the caller is over its rate on this site."""
        rate = settings.TAHOE_REGISTRATION_API_RATE
        if not rate or not request.user.is_authenticated:
            return True
        # django-ratelimit counts in the cache named by RATELIMIT_USE_CACHE (the LMS's shared cache).
        usage = get_usage(request._request, group=GROUP, key=caller_and_site, rate=rate, increment=True)
        if usage is None:
            return True
        view.rate_limit_usage = usage
        self.usage = usage  # pylint: disable=attribute-defined-outside-init
        return not usage["should_limit"]

    def wait(self):
        """Seconds until the window resets."""
        return max(1, self.usage["time_left"])


def rate_limit_headers(usage):
    """Return the rate-limit headers of a response: limit, remaining and seconds to reset."""
    return {
        "RateLimit-Limit": str(usage["limit"]),
        "RateLimit-Remaining": str(max(0, usage["limit"] - usage["count"])),
        "RateLimit-Reset": str(max(0, usage["time_left"])),
    }
