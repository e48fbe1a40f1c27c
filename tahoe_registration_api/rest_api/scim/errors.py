"""
Every error of the SCIM service as a SCIM ``Error`` (RFC 7644 section 3.12), in SCIM's media type.

The plugin's own handler decides the status and headers (``Retry-After``, ``WWW-Authenticate``) of
any exception, as for the rest of the API; its error object is then said in SCIM's words: ``status``
(a string), ``detail`` naming the attribute, and ``scimType`` for a 400 or a 409.
"""

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.response import Response

from tahoe_registration_api.rest_api.errors import exception_handler
from tahoe_registration_api.scim import schemas
from tahoe_registration_api.scim.errors import ScimProblem

MEDIA_TYPE = "application/scim+json"
# The registration's field names, as a SCIM User names them.
ATTRIBUTES = {"username": "userName", "email": "emails", "name": "name", "password": "password"}
SCIM_TYPES = {
    "duplicate-username": "uniqueness", "duplicate-email": "uniqueness", "duplicate-email-username": "uniqueness",
    "duplicate-userName": "uniqueness", "malformed-request": "invalidSyntax", "validation-error": "invalidValue",
}


def error_body(status, detail, scim_type=None):
    """Return a SCIM ``Error``."""
    body = {"schemas": [schemas.ERROR], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return body


def scim_exception_handler(exc, context):
    """Answer any exception of a SCIM view as a SCIM ``Error``, with the status and headers the plugin gives it."""
    if isinstance(exc, ScimProblem):
        return Response(error_body(exc.status, exc.detail, exc.scim_type), status=exc.status)
    response = exception_handler(exc, context)
    response.data = scim_error(response.status_code, response.data)
    return response


def scim_error(status, body):
    """Say the plugin's error object (``error_code``, ``developer_message``, ``field_errors``) as a SCIM ``Error``."""
    field_errors = body.get("field_errors") or {}
    details = [f"{ATTRIBUTES.get(field, field)}: {error['developer_message']}" for field, error in field_errors.items()]
    detail = " ".join(details) if details else body.get("developer_message") or body.get("user_message")
    scim_type = SCIM_TYPES.get(body.get("error_code")) if status in (400, 409) else None
    if status == 400 and scim_type is None:
        scim_type = "invalidValue"
    return error_body(status, detail, scim_type)


@csrf_exempt  # it changes nothing; without this, Django's CSRF check would answer an HTML 403 first
def not_found(request, *args, **kwargs):
    """Answer any unknown address under the SCIM service's root with a SCIM 404."""
    response = JsonResponse(error_body(404, f"No SCIM resource at {request.path!r}."), status=404)
    response["Content-Type"] = MEDIA_TYPE
    return response
