"""Hostile requests to every endpoint, and what each answer must be: never a 5xx, a refusal writes nothing."""

from django.conf import settings as django_settings
from django.test import Client, TestCase

from tahoe_registration_api.models import IdempotencyRecord, RegistrationJob, RegistrationJobRow
from tests.rows import row_counts

V1 = "/tahoe/api/v1/"
SINGLE = f"{V1}registrations/"
SINGLE_V2 = "/tahoe/api/v2/registrations/"
BULK = f"{V1}registrations/bulk/"
JOBS = f"{V1}registration-jobs/"
JSON_ENDPOINTS = (SINGLE, SINGLE_V2, BULK, JOBS)
TOKEN_PAGE = "/tahoe/api/token/"
TOKEN_CHANGES = tuple(f"{TOKEN_PAGE}{change}/" for change in ("create", "rotate", "revoke"))
CSRF = "h" * 32
ERROR_KEYS = {"error_code", "user_message", "developer_message", "field_errors"}


def resend_url(user_id, version="v1"):
    """The resend URL of a learner id (any text) in v1 or v2."""
    return f"/tahoe/api/{version}/registrations/{user_id}/resend/"


def written():
    """Count every row a call can write: users and what comes with them, jobs, job rows, idempotency records."""
    return {
        **row_counts(),
        "jobs": RegistrationJob.objects.count(),
        "job_rows": RegistrationJobRow.objects.count(),
        "idempotency_records": IdempotencyRecord.objects.count(),
    }


def send(caller, site, method, path, body=b"", content_type="application/json", **extra):
    """Send one request as ``caller`` to ``site``; what waits for the commit runs once it is answered."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return caller.client.generic(method, path, body, content_type=content_type, HTTP_HOST=site.domain,
                                     **extra)


def assert_json_answer(response, before, succeeded=(200, 202), kept_for_key=False):
    """
    Assert an API answer: never a 5xx, always JSON; a 4xx is the error object and has written nothing.

    ``before`` is ``written()`` before the request; ``succeeded`` the statuses of a call that ran;
    ``kept_for_key``: the request had a well-formed ``Idempotency-Key``, for which a 400 or 409 is
    kept (by design): the one row a refusal may leave.
    """
    assert response.status_code < 500, (response.status_code, response.content[:300])
    assert response["Content-Type"] == "application/json", response["Content-Type"]
    body = response.json()
    if response.status_code in succeeded:
        return body
    assert 400 <= response.status_code < 500, response.status_code
    assert ERROR_KEYS <= set(body), body
    assert body["error_code"] and isinstance(body["error_code"], str)
    assert isinstance(body["field_errors"], dict)
    after = written()
    if kept_for_key and response.status_code in (400, 409):
        after["idempotency_records"] = before["idempotency_records"]
    assert after == before
    return body


def assert_refused(response, status, error_code, field=None):
    """Assert the error object of a refusal: its status, code and (if given) the field it names."""
    assert response.status_code == status, (response.status_code, response.content[:300])
    body = response.json()
    assert body["error_code"] == error_code, body
    if field is not None:
        assert field in body["field_errors"], body["field_errors"]
    return body


def browser(user):
    """A browser signed in as ``user``, CSRF checked, holding the CSRF cookie the page's forms carry."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.cookies[django_settings.CSRF_COOKIE_NAME] = CSRF
    return client
