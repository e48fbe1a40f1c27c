"""URLs of the plugin, mounted by the LMS at ``^tahoe/`` (namespace ``tahoe-api``): the API and the SCIM service."""

from django.urls import include, path, re_path

from tahoe_registration_api.rest_api.errors import not_found

app_name = "tahoe-api"

api_patterns = [
    path("v1/", include("tahoe_registration_api.rest_api.v1.urls")),
    path("v2/", include("tahoe_registration_api.rest_api.v2.urls")),
    # The site admins' page (HTML, for a signed-in user), not part of the API.
    path("token/", include("tahoe_registration_api.pages.urls")),
]

urlpatterns = [
    path("api/", include(api_patterns)),
    # SCIM 2.0 for identity providers (RFC 7644): its own errors, even for an unknown address.
    path("scim/v2/", include("tahoe_registration_api.rest_api.scim.urls")),
    # Anything else under the prefix answers a JSON 404, never the LMS's HTML page: a path holding
    # a line break too ("." and "$" alone would stop at it).
    re_path(r"^[\s\S]*\Z", not_found, name="not-found"),
]
