"""URLs of the SCIM 2.0 service (under ``/tahoe/scim/v2/``); SCIM's own names, with or without a trailing slash."""

from django.urls import re_path

from tahoe_registration_api.rest_api.scim import views
from tahoe_registration_api.rest_api.scim.errors import not_found

urlpatterns = [
    re_path(r"^ServiceProviderConfig/?\Z", views.ServiceProviderConfigView.as_view(), name="scim-config"),
    re_path(r"^ResourceTypes/?\Z", views.ResourceTypesView.as_view(), name="scim-resource-types"),
    re_path(r"^ResourceTypes/(?P<resource_type>[^/]+)/?\Z", views.ResourceTypeView.as_view()),
    re_path(r"^Schemas/?\Z", views.SchemasView.as_view(), name="scim-schemas"),
    re_path(r"^Schemas/(?P<schema_id>[^/]+)/?\Z", views.SchemaView.as_view()),
    re_path(r"^Users/?\Z", views.UsersView.as_view(), name="scim-users"),
    re_path(r"^(?:Users/)?\.search/?\Z", views.SearchView.as_view(), name="scim-search"),
    re_path(r"^Users/(?P<user_id>[^/]+)/?\Z", views.UserView.as_view(), name="scim-user"),
    re_path(r"^\Z", not_found, name="scim-root"),
    # Anything else under the service's root is a SCIM 404, never the LMS's HTML page.
    re_path(r"^[\s\S]*\Z", not_found),
]
