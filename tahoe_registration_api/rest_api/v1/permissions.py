"""Who may call the v1 API: an active admin of the request's site, where the API is switched on."""

from django.conf import settings
from organizations.models import Organization
from rest_framework.permissions import BasePermission
from tahoe_sites.api import is_active_admin_on_organization

from tahoe_registration_api import api
from tahoe_registration_api.exceptions import NotSiteAdmin, RegistrationApiDisabled, SiteNotFound
from tahoe_registration_api.lookups import cached_organization_for_site, cached_site_switches
from tahoe_registration_api.switches import registration_api_enabled


def request_organization(request):
    """Return the organization of the request's site (cached on the request), or raise ``SiteNotFound``."""
    if not hasattr(request, "_tahoe_organization"):
        site = getattr(request, "site", None)
        if site is None:
            raise SiteNotFound(f"No site is configured for the host {request.get_host()!r}.")
        try:
            request._tahoe_organization = cached_organization_for_site(site)
        except Organization.DoesNotExist as exc:
            raise SiteNotFound(_no_organization_message(request, site)) from exc
    return request._tahoe_organization


def _no_organization_message(request, site):
    """Say which site the Host resolved to; a Host that names no site resolves to the LMS's default one."""
    host = request.META.get("HTTP_HOST", "")
    if host.lower() == site.domain.lower():
        return f"The site {site.domain!r} has no Tahoe organization."
    return (
        f"The Host {host!r} resolved to the site {site.domain!r}, which has no Tahoe organization. "
        "The LMS matches the Host against its sites' domains exactly, port included, and falls back "
        "to its default site when none matches: send the site's domain as it is configured, "
        "usually without a port."
    )


def is_platform_staff(user):
    """Whether the user is active platform staff or a superuser."""
    return user.is_active and (user.is_staff or user.is_superuser)


def may_act_for_site(user, organization):
    """Whether the user acts for the organization's site: its active admin, or staff where the operator allows."""
    if settings.TAHOE_REGISTRATION_API_ALLOW_STAFF and is_platform_staff(user):
        return True
    return is_active_admin_on_organization(user, organization)


class IsSiteAdmin(BasePermission):
    """Allow an authenticated, active admin of the organization of the site named by the Host."""

    def has_permission(self, request, view):
        """Raise a clear 403 error object unless the caller may register learners on this site."""
        user = request.user
        if not (user and user.is_authenticated):
            return False  # DRF answers 401: no credentials
        organization = request_organization(request)
        if not registration_api_enabled(cached_site_switches(api.platform_adapter(), request.site)):
            raise RegistrationApiDisabled(f"The registration API is switched off for {request.site.domain!r}.")
        if not may_act_for_site(user, organization):
            raise NotSiteAdmin(f"User {user.pk} is not an active admin of {organization.short_name!r}.")
        return True
