"""
The SCIM 2.0 service of a site (RFC 7644), under ``/tahoe/scim/v2/``: discovery and ``Users``.

The same caller, switches, rate limit and audit trail as the rest of the API: an active admin of
the site (its API token, sent as ``Authorization: Bearer <token>`` as identity providers send it).
Bodies are read as ``application/scim+json`` or ``application/json``; answers are
``application/scim+json`` (``application/json`` when asked for), errors SCIM ``Error`` objects.
The work is ``scim.users``'s.
"""

from django.db import transaction
from django.urls import reverse
from django.utils.decorators import method_decorator
from rest_framework import status
from rest_framework.response import Response

from tahoe_registration_api.rest_api.authentication import SCIM_AUTHENTICATION_CLASSES
from tahoe_registration_api.rest_api.parsers import JsonBodyParser
from tahoe_registration_api.rest_api.renderers import AsciiJsonRenderer
from tahoe_registration_api.rest_api.scim.errors import MEDIA_TYPE, scim_exception_handler
from tahoe_registration_api.rest_api.throttling import ScimRateThrottle
from tahoe_registration_api.rest_api.v1.permissions import request_organization
from tahoe_registration_api.rest_api.v1.views import TahoeApiView
from tahoe_registration_api.scim import schemas
from tahoe_registration_api.scim.errors import ScimProblem, invalid_value
from tahoe_registration_api.scim.resources import attribute_list, project
from tahoe_registration_api.scim.users import USER_ID, ScimUsers


class ScimJsonParser(JsonBodyParser):
    """The plugin's JSON parser for SCIM's media type."""

    media_type = MEDIA_TYPE


class ScimJsonRenderer(AsciiJsonRenderer):
    """The plugin's JSON renderer in SCIM's media type."""

    media_type = MEDIA_TYPE
    format = "scim"


class ScimView(TahoeApiView):
    """Base of the SCIM views: bearer credentials, SCIM's media type and errors."""

    authentication_classes = SCIM_AUTHENTICATION_CLASSES
    parser_classes = (ScimJsonParser, JsonBodyParser)
    renderer_classes = (ScimJsonRenderer, AsciiJsonRenderer)
    throttle_classes = (ScimRateThrottle,)
    audit_action = None  # reads are not audited; each change is (``audit_actions_by_method``)

    def get_exception_handler(self):
        """Answer every error as a SCIM ``Error``."""
        return scim_exception_handler

    def base_url(self):
        """Return the service's root URL on the request's site (``.../tahoe/scim/v2/``)."""
        return self.request.build_absolute_uri(reverse("tahoe-api:scim-root"))

    def users(self):
        """Return the site's SCIM ``Users`` for this caller."""
        return ScimUsers(site=self.request.site, organization=request_organization(self.request),
                         caller=self.request.user, request=self.request, base_url=self.base_url())


MAX_INTEGER = 2 ** 31 - 1


def list_response(resources, total=None, start_index=1):
    """Return a SCIM ``ListResponse``."""
    return {
        "schemas": [schemas.LIST_RESPONSE], "totalResults": len(resources) if total is None else total,
        "startIndex": start_index, "itemsPerPage": len(resources), "Resources": resources,
    }


def integer(name, value, default):
    """Read ``startIndex`` or ``count`` (an integer); a 400 naming it otherwise."""
    if value is None or value == "":
        return default
    try:
        number = int(str(value).strip())
    except ValueError as exc:
        raise invalid_value(name, "Must be an integer.") from exc
    return max(min(number, MAX_INTEGER), -MAX_INTEGER)  # past any list's end, never past the database's integers


def read_query(values):
    """Return ``(filter, startIndex, count, attributes, excludedAttributes)`` of a list's query or a search's body."""
    filter_text = values.get("filter")
    if filter_text is not None and not isinstance(filter_text, str):
        raise invalid_value("filter", "Must be a string.")
    start_index = max(integer("startIndex", values.get("startIndex"), 1), 1)  # RFC 7644: below 1 is 1
    count = min(max(integer("count", values.get("count"), schemas.MAX_RESULTS), 0), schemas.MAX_RESULTS)
    attributes, excluded = (_attribute_names(name, values.get(name)) for name in ("attributes", "excludedAttributes"))
    return filter_text, start_index, count, attributes, excluded


def _attribute_names(name, value):
    """Read ``attributes`` / ``excludedAttributes``: comma-separated text (a query) or a list of names (a search)."""
    if value is None:
        return []
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        value = ",".join(value)
    if not isinstance(value, str):
        raise invalid_value(name, "Must be attribute names separated by commas.")
    return attribute_list(value)


class ServiceProviderConfigView(ScimView):
    """``GET /ServiceProviderConfig``: what the service supports."""

    def get(self, request):
        """Answer the configuration."""
        return Response(schemas.service_provider_config(self.base_url()))


class ResourceTypesView(ScimView):
    """``GET /ResourceTypes``: the kinds of resources (``User``)."""

    def get(self, request):
        """Answer them all."""
        return Response(list_response(schemas.resource_types(self.base_url())))


def one_of(documents, wanted, what):
    """Answer the discovery document whose ``id`` is ``wanted``; a SCIM 404 naming ``what`` otherwise."""
    found = [document for document in documents if document["id"] == wanted]
    if not found:
        raise ScimProblem(404, f"No {what} {wanted!r}.")
    return Response(found[0])


class ResourceTypeView(ScimView):
    """``GET /ResourceTypes/<id>``."""

    def get(self, request, resource_type):
        """Answer one, or a 404."""
        return one_of(schemas.resource_types(self.base_url()), resource_type, "resource type")


class SchemasView(ScimView):
    """``GET /Schemas``: every schema the service publishes."""

    def get(self, request):
        """Answer them all."""
        return Response(list_response(schemas.all_schemas(self.base_url())))


class SchemaView(ScimView):
    """``GET /Schemas/<urn>``."""

    def get(self, request, schema_id):
        """Answer one, or a 404."""
        return one_of(schemas.all_schemas(self.base_url()), schema_id, "schema")


def _answer_page(users, values):
    """Answer a list or a search: the learners of a filter, a page of them, with the attributes asked for."""
    filter_text, start_index, count, attributes, excluded = read_query(values)
    total, resources = users.page(filter_text, start_index, count)
    resources = [project(resource, attributes, excluded) for resource in resources]
    return Response(list_response(resources, total, start_index))


# A change manages its own transactions (the registration's, the learner change's), as the v1 API's do.
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class UsersView(ScimView):
    """``GET /Users`` (``filter``, ``startIndex``, ``count``, ``attributes``) and ``POST /Users`` (create)."""

    audit_actions_by_method = {"POST": "scim_create"}

    def get(self, request):
        """Answer a page of the site's learners."""
        return _answer_page(self.users(), request.query_params)

    def post(self, request):
        """Register the learner; answer 201 with the ``User`` and its ``Location``."""
        resource = self.users().create(request.data)
        self.audit_learner_id = int(resource["id"])
        return Response(resource, status=status.HTTP_201_CREATED, headers={"Location": resource["meta"]["location"]})


class SearchView(ScimView):
    """``POST /.search`` and ``POST /Users/.search``: a list whose query is a ``SearchRequest`` body."""

    def post(self, request):
        """Answer the search."""
        body = request.data
        if not isinstance(body, dict):
            raise invalid_value("body", "A SearchRequest must be a JSON object.")
        schema_list = body.get("schemas")
        if schema_list is not None and (not isinstance(schema_list, list) or schemas.SEARCH_REQUEST not in schema_list):
            raise ScimProblem(400, f"schemas: Must list {schemas.SEARCH_REQUEST}.", "invalidSyntax")
        return _answer_page(self.users(), body)


@method_decorator(transaction.non_atomic_requests, name="dispatch")
class UserView(ScimView):
    """``GET``, ``PUT``, ``PATCH`` and ``DELETE /Users/<id>``."""

    audit_actions_by_method = {"PUT": "scim_replace", "PATCH": "scim_update", "DELETE": "scim_delete"}

    def users_of(self, user_id):
        """Return the site's SCIM ``Users``, naming learner ``user_id`` in the audit trail (a refused change too)."""
        self.audit_learner_id = int(user_id) if USER_ID.fullmatch(user_id) and len(user_id) < 10 else None
        return self.users()

    def get(self, request, user_id):
        """Answer the learner."""
        attributes = attribute_list(request.query_params.get("attributes"))
        excluded = attribute_list(request.query_params.get("excludedAttributes"))
        return Response(project(self.users().get(user_id), attributes, excluded))

    def put(self, request, user_id):
        """Replace the learner's attributes; answer the ``User``."""
        return Response(self.users_of(user_id).replace(user_id, request.data))

    def patch(self, request, user_id):
        """Apply a ``PatchOp``; answer the ``User``."""
        return Response(self.users_of(user_id).patch(user_id, request.data))

    def delete(self, request, user_id):
        """Switch the learner off and hide them from SCIM; answer 204."""
        self.users_of(user_id).delete(user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
