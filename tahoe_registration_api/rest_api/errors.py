"""
The one place where errors become HTTP: the Open edX error object, always JSON.

Body: ``error_code`` (stable, machine-readable), ``user_message``, ``developer_message``
and ``field_errors`` (``{field: {"user_message": ..., "developer_message": ...}}``).
"""

import logging
import math

from django.core.exceptions import BadRequest, PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.db import DatabaseError
from django.http import Http404, JsonResponse
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response

from tahoe_registration_api.exceptions import (
    CourseNotFound,
    DuplicateAccount,
    InvalidJobFile,
    InvalidRegistration,
    JobNotFound,
    LearnerNotFound,
    NothingToSend,
    NotSiteAdmin,
    RegistrationApiDisabled,
    RegistrationError,
    RequestTooLarge,
    ServiceUnavailable,
    SiteNotFound,
)
from tahoe_registration_api.i18n import Message, english_of, gettext_noop, join, user_text

log = logging.getLogger(__name__)

DOMAIN_STATUS = {
    InvalidRegistration: status.HTTP_400_BAD_REQUEST,
    DuplicateAccount: status.HTTP_409_CONFLICT,
    NothingToSend: status.HTTP_409_CONFLICT,
    LearnerNotFound: status.HTTP_404_NOT_FOUND,
    JobNotFound: status.HTTP_404_NOT_FOUND,
    CourseNotFound: status.HTTP_404_NOT_FOUND,
    InvalidJobFile: status.HTTP_400_BAD_REQUEST,
    NotSiteAdmin: status.HTTP_403_FORBIDDEN,
    SiteNotFound: status.HTTP_403_FORBIDDEN,
    RegistrationApiDisabled: status.HTTP_403_FORBIDDEN,
    RequestTooLarge: status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    ServiceUnavailable: status.HTTP_503_SERVICE_UNAVAILABLE,
}

DRF_CODES = {
    exceptions.NotAuthenticated: ("not-authenticated", gettext_noop("Authentication credentials were not provided.")),
    exceptions.AuthenticationFailed: ("authentication-failed", gettext_noop("The credentials are not valid.")),
    exceptions.PermissionDenied: ("permission-denied", gettext_noop("You do not have permission to do this.")),
    exceptions.MethodNotAllowed: (
        "method-not-allowed", gettext_noop("This method is not allowed here; the Allow header lists those that are.")),
    exceptions.UnsupportedMediaType: ("unsupported-media-type", gettext_noop("Send the body as application/json.")),
    exceptions.NotAcceptable: ("not-acceptable", gettext_noop("This API answers in application/json only.")),
    exceptions.ParseError: ("malformed-request", gettext_noop("The request body is not valid JSON.")),
    exceptions.Throttled: ("rate-limited", gettext_noop("Too many requests; retry later.")),
    exceptions.ValidationError: ("validation-error", gettext_noop("Some of the registration details are not valid.")),
    exceptions.NotFound: ("not-found", gettext_noop("There is nothing at this address.")),
}


def error_body(error_code, user_message, developer_message=None, field_errors=None):
    """Build the Open edX error object: ``user_message`` in the request's language, ``developer_message`` in English."""
    return {
        "error_code": error_code,
        "user_message": user_text(user_message),
        "developer_message": str(developer_message or user_message),
        "field_errors": {
            field: {"user_message": user_text(message), "developer_message": str(message)}
            for field, message in (field_errors or {}).items()
        },
    }


def validation_field_errors(detail):
    """Flatten DRF's validation detail into ``{field: message}``, as DRF says them (in the active language)."""
    return {field: message.translated for field, message in field_messages(detail).items()}


def field_messages(detail):
    """Flatten DRF's validation detail into ``{field: message}``, each message in English beside its translation."""
    def both(messages):
        items = messages if isinstance(messages, list) else [messages]
        return join([Message(english_of(str(item)), str(item)) for item in items])
    if not isinstance(detail, dict):
        return {"non_field_errors": both(list(detail))}
    return {field: both(messages) for field, messages in detail.items()}


def _english_detail(exc, request):
    """
    Return a DRF exception's ``detail`` in English (DRF translated it into the request's language).

    Its default detail is said again in English (with the method or media type it names); a
    detail the plugin gave is English already.
    """
    default = getattr(type(exc), "default_detail", None)
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        return _english_throttled(exc)
    with translation.override("en"):
        if isinstance(exc, exceptions.MethodNotAllowed) and request is not None:
            return str(exceptions.MethodNotAllowed(request.method).detail)
        if isinstance(exc, exceptions.UnsupportedMediaType) and request is not None:
            return str(exceptions.UnsupportedMediaType(request.content_type).detail)
    if default is not None and str(exc.detail) == str(default):
        with translation.override("en"):
            return str(default)
    return english_of(str(exc.detail))  # DRF's own details are translated as they are raised ("Invalid token.")


def _throttled_wait(wait):
    """Return what DRF adds to a 429's detail, in the active language: "Expected available in N seconds."."""
    return str(exceptions.Throttled(wait=wait, detail="").detail).strip()


def _english_throttled(exc):
    """Return a 429's detail in English: DRF added its wait in the request's language to the plugin's text."""
    text, wait = str(exc.detail), _throttled_wait(exc.wait)
    if not text.endswith(wait):
        return english_of(text)
    head = english_of(text[:-len(wait)].rstrip())
    with translation.override("en"):
        return f"{head} {_throttled_wait(exc.wait)}"


def _drf_response(exc, request=None):
    """Map a DRF exception to the error object, keeping DRF's status and headers."""
    code, message = next(
        (value for cls, value in DRF_CODES.items() if isinstance(exc, cls)),
        ("request-error", gettext_noop("The request could not be processed.")),
    )
    field_errors = {}
    developer_message = _english_detail(exc, request) if isinstance(exc.detail, str) else message
    if isinstance(exc, exceptions.ValidationError):
        field_errors = field_messages(exc.detail)
        developer_message = "Invalid fields: " + ", ".join(sorted(field_errors)) + "."
    response = Response(error_body(code, message, developer_message, field_errors), status=exc.status_code)
    if getattr(exc, "auth_header", None):
        response["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None) is not None:
        response["Retry-After"] = str(math.ceil(exc.wait))
    return response


def _as_known_error(exc):
    """Return the domain or DRF error that a Django exception stands for, else ``exc`` itself."""
    if isinstance(exc, RequestDataTooBig):
        return RequestTooLarge()
    if isinstance(exc, DatabaseError):
        log.error("Registration API: database unavailable (%s).", type(exc).__name__)
        return ServiceUnavailable()
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        return exceptions.PermissionDenied()
    return exc


def status_of(exc):
    """Return the HTTP status of a domain error (a refusing filter names its own)."""
    status_code = getattr(exc, "status_code", None)
    if status_code:
        return status_code
    return next((code for cls, code in DOMAIN_STATUS.items() if isinstance(exc, cls)), status.HTTP_400_BAD_REQUEST)


def domain_error_body(exc):
    """Return the error object of a domain error."""
    return error_body(exc.error_code, exc.user_message, exc.developer_message, exc.field_errors)


def _domain_response(exc):
    """Answer a domain error with its status and error object."""
    status_code = status_of(exc)
    body = domain_error_body(exc)
    headers = {"Retry-After": "30"} if status_code == status.HTTP_503_SERVICE_UNAVAILABLE else None
    if getattr(exc, "retry_after_seconds", None):
        headers = {"Retry-After": str(exc.retry_after_seconds)}
    return Response(body, status=status_code, headers=headers)


def exception_handler(exc, context):
    """Turn every exception a view raises into a JSON error object: never HTML, never a bare 500."""
    exc = _as_known_error(exc)
    if isinstance(exc, RegistrationError):
        return _domain_response(exc)
    if isinstance(exc, exceptions.APIException):
        return _drf_response(exc, (context or {}).get("request"))
    if isinstance(exc, (SuspiciousOperation, BadRequest)):  # e.g. TooManyFieldsSent; a form Django will not read
        body = error_body("bad-request", gettext_noop("The request was refused."),
                          f"Django refused it ({type(exc).__name__}).")
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    log.exception("Registration API: unexpected error.")
    body = error_body("internal-error", gettext_noop("Something went wrong; the learner was not registered."))
    return Response(body, status=status.HTTP_500_INTERNAL_SERVER_ERROR)


@csrf_exempt  # it changes nothing; without this, Django's CSRF check would answer an HTML 403 first
def not_found(request, *args, **kwargs):
    """Answer any unknown address under the plugin's prefix with a JSON 404."""
    return JsonResponse(
        error_body("not-found", gettext_noop("There is nothing at this address."),
                   f"No API route matches {request.path!r}."),
        status=404,
    )
