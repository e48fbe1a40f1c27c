"""Who may see a site's token page: the API's own rule (its active admins; staff where allowed)."""

from tahoe_registration_api.exceptions import SiteNotFound
from tahoe_registration_api.rest_api.v1.permissions import may_act_for_site, request_organization


def managed_organization(request):
    """Return the organization of the request's site when the signed-in user acts for it, else None."""
    try:
        organization = request_organization(request)
    except SiteNotFound:
        return None
    return organization if may_act_for_site(request.user, organization) else None
