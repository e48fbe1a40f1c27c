"""Hostile requests to every endpoint, and what each answer must be: never a 5xx, a refusal writes nothing."""

from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.test import Client, TestCase

from devlms.management.commands.devlms_seed import seed_courses
from devlms.models import (
    CourseEnrollment,
    CourseEnrollmentAllowed,
    LearnerProfile,
    ManualEnrollmentRecord,
    PasswordToggleHistory,
)
from tahoe_registration_api.models import (
    IdempotencyRecord,
    OutboxMessage,
    RegistrationJob,
    RegistrationJobRow,
    WebhookEndpoint,
)
from tests.rows import row_counts

V1 = "/tahoe/api/v1/"
SINGLE = f"{V1}registrations/"
SINGLE_V2 = "/tahoe/api/v2/registrations/"
BULK = f"{V1}registrations/bulk/"
JOBS = f"{V1}registration-jobs/"
COURSES = f"{V1}courses/"
ENROLLMENTS = f"{V1}enrollments/"
LEARNERS = f"{V1}learners/"
JSON_ENDPOINTS = (SINGLE, SINGLE_V2, BULK, JOBS)  # every endpoint reading learners from a JSON body
JSON_BODY_ENDPOINTS = (*JSON_ENDPOINTS, ENROLLMENTS)  # every endpoint reading a JSON body
LISTS = (COURSES, ENROLLMENTS, LEARNERS)  # every paginated list (GET, with query parameters)
INTRO, DATA = "course-v1:alpha+Intro+2026", "course-v1:alpha+Data+2026"  # alpha's seeded courses
BETA_INTRO = "course-v1:beta+Intro+2026"
COURSE = f"{COURSES}{INTRO}/"  # one course's URL
# The methods each endpoint answers (OPTIONS aside: DRF answers it on every view); any other is a 405.
ALLOWED_METHODS = {SINGLE: {"POST"}, SINGLE_V2: {"POST"}, BULK: {"POST"}, JOBS: {"POST"}, COURSES: {"GET", "HEAD"},
                   COURSE: {"GET", "HEAD"}, ENROLLMENTS: {"GET", "HEAD", "POST"}, LEARNERS: {"GET", "HEAD"},
                   f"{LEARNERS}1/": {"GET", "HEAD", "PATCH"}}
TOKEN_PAGE = "/tahoe/api/token/"
TOKEN_CHANGES = tuple(f"{TOKEN_PAGE}{change}/" for change in ("create", "rotate", "revoke"))
WEBHOOK_CHANGES = tuple(f"{TOKEN_PAGE}webhooks/{change}/" for change in ("create", "rotate", "remove", "switch-on"))
CSRF = "h" * 32
ERROR_KEYS = {"error_code", "user_message", "developer_message", "field_errors"}


def resend_url(user_id, version="v1"):
    """The resend URL of a learner id (any text) in v1 or v2."""
    return f"/tahoe/api/{version}/registrations/{user_id}/resend/"


def learner_url(user_id):
    """The URL of one learner (any text, put in the path as it is)."""
    return f"{LEARNERS}{user_id}/"


def course_url(course_id):
    """The URL of one course (any text, put in the path as it is)."""
    return f"{COURSES}{course_id}/"


def enrollment_body(**overrides):
    """A valid enrollment call: enroll an address of nobody (a pre-enrollment) in alpha's Intro course."""
    body = {"action": "enroll", "identifiers": ["dee@example.com"], "courses": [INTRO]}
    body.update(overrides)
    return body


def seed_both(alpha, beta):
    """Seed each site's two courses (audit and verified modes); return alpha's keys and beta's."""
    return seed_courses(alpha.organization), seed_courses(beta.organization)


def written():
    """
    Count every row a call can write.

    Users and what comes with them, jobs, job rows, idempotency records, emails owed,
    enrollments, pre-enrollments and the platform's records of manual enrollments (their state is
    compared too: an unenrollment changes a row without adding one), and what a learner's change
    changes: their email and password, their profile's name, language and meta, the platform's
    disable and enable history.
    """
    return {
        **row_counts(),
        "jobs": RegistrationJob.objects.count(),
        "job_rows": RegistrationJobRow.objects.count(),
        "idempotency_records": IdempotencyRecord.objects.count(),
        "enrollments": sorted(CourseEnrollment.objects.values_list("user_id", "course_id", "mode", "is_active")),
        "enrollments_allowed": sorted(CourseEnrollmentAllowed.objects.values_list("email", "course_id",
                                                                                  "auto_enroll")),
        "manual_enrollment_records": ManualEnrollmentRecord.objects.count(),
        "outbox_messages": OutboxMessage.objects.count(),
        "webhooks": sorted(WebhookEndpoint.objects.values_list("pk", "url", "events", "secret", "enabled")),
        "learners": sorted(get_user_model().objects.values_list("pk", "email", "password")),
        "learner_profiles": sorted(LearnerProfile.objects.values_list("user_id", "name", "language", "meta")),
        "password_toggles": PasswordToggleHistory.objects.count(),
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
