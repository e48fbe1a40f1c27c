"""Rate limits per caller and site, counted in the shared cache (django-ratelimit's fixed windows)."""

import re
import time

from django.conf import settings
from django.core.cache import caches
from django_ratelimit.core import get_usage
from rest_framework.exceptions import Throttled
from rest_framework.throttling import BaseThrottle

GROUP = "tahoe_registration_api.registrations"
BULK_GROUP = "tahoe_registration_api.bulk"
SCIM_GROUP = "tahoe_registration_api.scim"
PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")


def caller_and_site(group, request):  # pylint: disable=unused-argument
    """Return the rate-limit key: the caller and the site, never the IP (integrators share IPs)."""
    site = getattr(request, "site", None)
    return f"{request.user.pk}:{getattr(site, 'pk', None)}"


class CallerSiteRateThrottle(BaseThrottle):
    """Allow TAHOE_REGISTRATION_API_RATE requests per caller and site; keep the usage for the headers."""

    rate_setting = "TAHOE_REGISTRATION_API_RATE"
    group = GROUP

    def allow_request(self, request, view):
        """Count this request; refuse it once the caller is over its rate on this site."""
        rate = getattr(settings, self.rate_setting)
        if not rate or not request.user.is_authenticated:
            return True
        # django-ratelimit counts in the cache named by RATELIMIT_USE_CACHE (the LMS's shared cache).
        usage = get_usage(request._request, group=self.group, key=caller_and_site, rate=rate, increment=True)
        if usage is None:
            return True
        view.rate_limit_usage = usage
        self.usage = usage  # pylint: disable=attribute-defined-outside-init
        return not usage["should_limit"]

    def wait(self):
        """Seconds until the window resets."""
        return max(1, self.usage["time_left"])


class BulkCallRateThrottle(CallerSiteRateThrottle):
    """Allow TAHOE_REGISTRATION_API_BULK_RATE bulk calls and job submissions per caller and site."""

    rate_setting = "TAHOE_REGISTRATION_API_BULK_RATE"
    group = BULK_GROUP


class ScimRateThrottle(CallerSiteRateThrottle):
    """Allow TAHOE_REGISTRATION_API_SCIM_RATE SCIM requests per caller and site (identity providers read a lot)."""

    rate_setting = "TAHOE_REGISTRATION_API_SCIM_RATE"
    group = SCIM_GROUP


def parse_rate(rate):
    """Return (count, seconds) of a rate such as ``10000/h`` or ``500/10m``."""
    match = _RATE.match(str(rate))
    if not match:
        raise ValueError(f"Not a rate (count/period, e.g. 10000/h): {rate!r}.")
    count, multiplier, unit = match.groups()
    return int(count), int(multiplier or 1) * PERIODS[unit]


def charge_learners(request, count):
    """
    Count ``count`` learners against TAHOE_REGISTRATION_API_BULK_LEARNER_RATE for the caller on this site.

    Returns the usage (for the headers), or None when the rate is off; raises ``Throttled``
    (nothing counted) when the learners do not fit in what is left of the window. Counted in a
    fixed window of the shared cache that django-ratelimit uses, so every app server shares it.
    """
    rate = settings.TAHOE_REGISTRATION_API_BULK_LEARNER_RATE
    if not rate:
        return None
    limit, period = parse_rate(rate)
    now = int(time.time())
    window = now - now % period
    time_left = window + period - now
    cache = caches[getattr(settings, "RATELIMIT_USE_CACHE", "default")]
    key = f"tahoe_registration_api.bulk_learners:{caller_and_site(None, request)}:{period}:{window}"
    cache.add(key, 0, period + 60)
    try:
        used = cache.incr(key, count)
    except ValueError:  # the cache dropped the key between add and incr
        cache.set(key, count, period + 60)
        used = count
    if used > limit:
        cache.decr(key, count)
        left = max(0, limit - (used - count))
        raise Throttled(wait=time_left, detail=(
            f"This request has {count} learners; {left} of the {limit} learners per {period} s remain "
            f"for this caller on this site (TAHOE_REGISTRATION_API_BULK_LEARNER_RATE)."
        ))
    return {"limit": limit, "count": used, "time_left": time_left, "should_limit": False}


def rate_limit_headers(usage):
    """Return the rate-limit headers of a response: limit, remaining and seconds to reset."""
    return {
        "RateLimit-Limit": str(usage["limit"]),
        "RateLimit-Remaining": str(max(0, usage["limit"] - usage["count"])),
        "RateLimit-Reset": str(max(0, usage["time_left"])),
    }
