"""
Hostile input inside the LMS, through its own middleware (Django 4.2, DRF 3.14 in Teak).

Each request a probe answered with a 5xx or an HTML page is a JSON 4xx naming what is wrong, and a
refused call writes nothing; the token page (HTML by design) never answers a 5xx. The site's
courses (the platform's course overviews and modes, linked to the site's organization) and its
enrollments get the same hostile bodies, query parameters and paths, and so do the site's learners.
"""

import json
from urllib.parse import quote

import pytest
from common.djangoapps.course_modes.tests.factories import CourseModeFactory
from common.djangoapps.student.models import (
    CourseEnrollment,
    CourseEnrollmentAllowed,
    UserPasswordToggleHistory,
    UserProfile,
)
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from openedx.core.djangoapps.content.course_overviews.tests.factories import CourseOverviewFactory
from openedx.core.djangoapps.user_api.models import UserPreference
from organizations.models import OrganizationCourse
from rest_framework.authtoken.models import Token
from rest_framework.parsers import JSONParser

from tahoe_registration_api.models import AuditEntry
from tahoe_registration_api.rest_api.v1.views import TahoeApiView

from conftest import PASSWORD, REGISTRATIONS_URL, REGISTRATIONS_V2_URL, learner_body, make_user
from rows import row_counts

BULK_URL = "/tahoe/api/v1/registrations/bulk/"
JOBS_URL = "/tahoe/api/v1/registration-jobs/"
COURSES_URL = "/tahoe/api/v1/courses/"
ENROLLMENTS_URL = "/tahoe/api/v1/enrollments/"
JSON_ENDPOINTS = (REGISTRATIONS_URL, REGISTRATIONS_V2_URL, BULK_URL, JOBS_URL, ENROLLMENTS_URL)
INTRO, BETA_INTRO = "course-v1:alpha+Intro+2026", "course-v1:beta+Intro+2026"
TOKEN_PAGE = "/tahoe/api/token/"
ADA = '"username": "ada", "email": "ada@example.com", "name": "Ada Lovelace"'
LONE_SURROGATE = "\\ud800"  # the JSON escape of half a UTF-16 pair, sent without its other half


def send(caller, site, path, body=b"", content_type="application/json", method="POST", **extra):
    """Send one request as ``caller`` to ``site`` through the LMS."""
    return caller.client.generic(method, path, body, content_type=content_type,
                                 **caller.headers(site.domain, extra))


def assert_refused(response, status, error_code, field=None):
    """The answer is the Open edX error object, in JSON, with this status and code, naming ``field``."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["error_code"] == error_code, body
    assert {"user_message", "developer_message", "field_errors"} <= set(body)
    if field is not None:
        assert field in body["field_errors"], body["field_errors"]
    return body


# 1. A lone surrogate ---------------------------------------------------------------------------

def test_a_bulk_call_whose_ref_holds_a_lone_surrogate_is_a_400_naming_it_and_registers_no_one(alpha, alpha_admin):
    body = '{"learners": [{%s, "ref": "%s"}]}' % (ADA, LONE_SURROGATE)
    before = row_counts()
    for _ in range(2):  # a retry with the same key gets the same answer: nothing was kept for the key
        response = send(alpha_admin, alpha, BULK_URL, body, HTTP_IDEMPOTENCY_KEY="crm-batch-1")
        assert_refused(response, 400, "malformed-request", "learners[0].ref")
        assert row_counts() == before


def test_an_answer_holding_a_lone_surrogate_still_renders_after_its_commit(alpha, alpha_admin, monkeypatch):
    """Were a lone surrogate to get past the parser (DRF's own, here), the committed call's answer renders, twice."""
    monkeypatch.setattr(TahoeApiView, "get_parsers", lambda view: [JSONParser()])
    body = '{"learners": [{%s, "ref": "%s"}]}' % (ADA, LONE_SURROGATE)
    first = send(alpha_admin, alpha, BULK_URL, body, HTTP_IDEMPOTENCY_KEY="crm-batch-2")
    assert first.status_code == 200 and first["Content-Type"] == "application/json", first.content[:500]
    assert b'"ref":"\\ud800"' in first.content and first.json()["created"] == 1
    again = send(alpha_admin, alpha, BULK_URL, body, HTTP_IDEMPOTENCY_KEY="crm-batch-2")
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true" and again.content == first.content
    assert get_user_model().objects.filter(username="ada").count() == 1


# 2. Deep nesting -------------------------------------------------------------------------------

@pytest.mark.parametrize("endpoint", JSON_ENDPOINTS)
def test_a_body_nested_2000_levels_deep_is_a_400_saying_so(alpha, alpha_admin, endpoint):
    before = row_counts()
    response = send(alpha_admin, alpha, endpoint, '{"learners": %s}' % ("[" * 2000 + "]" * 2000))
    body = assert_refused(response, 400, "malformed-request", "non_field_errors")
    assert body["developer_message"] == "The body is nested more than 32 levels deep."
    assert row_counts() == before


# 3. Charsets -----------------------------------------------------------------------------------

@pytest.mark.parametrize("content_type,body", [
    ("application/json", json.dumps(learner_body())),
    ("application/x-www-form-urlencoded", "username=auserton&email=alex.userton%40example.com&name=Alex"),
])
@pytest.mark.parametrize("charset", ["rot13", "zlib", "bogus", "latin-1"])
def test_a_body_in_a_charset_other_than_utf_8_is_a_415_naming_it(alpha, alpha_admin, content_type, body, charset):
    before = row_counts()
    response = send(alpha_admin, alpha, REGISTRATIONS_URL, body.encode(), f"{content_type}; charset={charset}")
    assert_refused(response, 415, "unsupported-media-type", "Content-Type")
    assert row_counts() == before


@pytest.mark.parametrize("charset", ["rot13", "latin-1", "utf8"])
def test_a_session_callers_form_in_another_charset_is_a_415_before_the_csrf_check_reads_it(alpha, charset):
    admin = make_user("alpha_admin", alpha, is_admin=True)
    client, csrf = signed_in(admin)
    before = row_counts()
    response = client.generic("POST", REGISTRATIONS_URL, b"username=auserton&email=a%40example.com&name=A",
                              content_type=f"application/x-www-form-urlencoded; charset={charset}",
                              HTTP_HOST=alpha.domain, HTTP_X_CSRFTOKEN=csrf)
    assert_refused(response, 415, "unsupported-media-type", "Content-Type")
    assert row_counts() == before


def test_a_body_in_utf_8_by_another_name_is_read(alpha, alpha_admin):
    response = send(alpha_admin, alpha, REGISTRATIONS_URL, json.dumps(learner_body()).encode(),
                    "application/json; charset=UTF8")
    assert response.status_code == 200, response.content


# 4. A job's rows -------------------------------------------------------------------------------

def test_a_job_whose_username_holds_a_lone_surrogate_is_a_400_and_writes_no_job(alpha, alpha_admin):
    before = row_counts()
    body = '{"learners": [{"username": "%s", "email": "b@example.com", "name": "B"}]}' % LONE_SURROGATE
    assert_refused(send(alpha_admin, alpha, JOBS_URL, body), 400, "malformed-request", "learners[0].username")
    assert row_counts() == before


# 5. Resend -------------------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize("user_id", [10**26 - 1, 2**63, 2**31])  # past any integer column; past MariaDB's INT
def test_a_resend_for_an_id_past_the_databases_integer_is_a_404_learner_not_found(
        alpha, alpha_admin, version, user_id):
    response = send(alpha_admin, alpha, f"/tahoe/api/{version}/registrations/{user_id}/resend/")
    assert_refused(response, 404, "learner-not-found")


# 6. Form-encoded bodies ------------------------------------------------------------------------

@pytest.mark.parametrize("username", [b"%zz", b"\xff\xfe", b"%ED%A0%80", b"a%00b"])
def test_a_form_with_a_hostile_username_is_a_400_naming_it(alpha, alpha_admin, username):
    before = row_counts()
    response = send(alpha_admin, alpha, REGISTRATIONS_URL, b"username=" + username + b"&email=a%40example.com&name=A",
                    "application/x-www-form-urlencoded")
    assert_refused(response, 400, "validation-error", "username")
    assert row_counts() == before


# 7. The token page -----------------------------------------------------------------------------

def signed_in(user):
    """A browser of the LMS, signed in as ``user``, holding the LMS's CSRF cookie and a token from the page."""
    client = Client(enforce_csrf_checks=True)
    assert client.login(username=user.username, password=PASSWORD)
    client.get("/login", HTTP_HOST="alpha.localhost")
    return client, client.cookies[settings.CSRF_COOKIE_NAME].value


@pytest.mark.parametrize("charset", ["rot13", "zlib", "latin-1"])
@pytest.mark.parametrize("media_type", ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x"])
def test_a_token_change_in_a_charset_other_than_utf_8_is_a_415_page_and_changes_nothing(alpha, charset, media_type):
    admin = make_user("alpha_admin", alpha, is_admin=True)
    key = Token.objects.create(user=admin).key
    client, csrf = signed_in(admin)
    field = b"csrfmiddlewaretoken=" + csrf.encode()
    if media_type.startswith("multipart"):
        field = (b'--x\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n' + csrf.encode()
                 + b"\r\n--x--\r\n")
    response = client.generic("POST", f"{TOKEN_PAGE}rotate/", field, content_type=f"{media_type}; charset={charset}",
                              HTTP_HOST=alpha.domain)
    assert response.status_code == 415 and b"Your token was not changed" in response.content
    assert Token.objects.get(user=admin).key == key and not AuditEntry.objects.filter(action="token_rotated").exists()


def test_a_token_change_in_utf_8_is_made_with_the_lms_csrf_check(alpha):
    admin = make_user("alpha_admin", alpha, is_admin=True)
    key = Token.objects.create(user=admin).key
    client, csrf = signed_in(admin)
    refused = client.post(f"{TOKEN_PAGE}rotate/", "csrfmiddlewaretoken=" + "x" * 32,
                          content_type="application/x-www-form-urlencoded; charset=utf-8", HTTP_HOST=alpha.domain)
    assert refused.status_code == 403 and Token.objects.get(user=admin).key == key
    made = client.post(f"{TOKEN_PAGE}rotate/", f"csrfmiddlewaretoken={csrf}",
                       content_type="application/x-www-form-urlencoded; charset=utf-8", HTTP_HOST=alpha.domain)
    assert made.status_code == 200 and Token.objects.get(user=admin).key != key


@pytest.mark.parametrize("body,media_type", [
    (b"garbage", "multipart/form-data"),
    (b"garbage", "multipart/form-data; boundary="),
    (b"x=" + b"a" * (3 * 1024 * 1024), "application/x-www-form-urlencoded"),
    (b"a=1&" * 1001, "application/x-www-form-urlencoded"),
], ids=["multipart without boundary", "multipart, empty boundary", "3 MiB", "1001 fields"])
def test_a_token_change_with_an_odd_body_is_no_5xx(alpha, body, media_type):
    """The LMS's own limits (and its CSRF check of a form it cannot read) decide: never a 5xx."""
    admin = make_user("alpha_admin", alpha, is_admin=True)
    key = Token.objects.create(user=admin).key
    client, csrf = signed_in(admin)
    response = client.generic("POST", f"{TOKEN_PAGE}revoke/", b"csrfmiddlewaretoken=" + csrf.encode() + b"&" + body,
                              content_type=media_type, HTTP_HOST=alpha.domain)
    assert response.status_code in (200, 400, 403), response.status_code
    assert (Token.objects.filter(user=admin, key=key).exists()) == (response.status_code != 200)


@pytest.mark.parametrize("page", ["0", "-1", "1" * 5000, "1e309", "%ff", "%00"], ids=lambda page: page[:12])
def test_the_token_page_with_any_page_number_shows_a_page(alpha, page):
    client, _ = signed_in(make_user("alpha_admin", alpha, is_admin=True))
    assert client.get(TOKEN_PAGE, HTTP_HOST=alpha.domain, QUERY_STRING=f"page={page}").status_code == 200


# 8. Paths, headers, methods --------------------------------------------------------------------

@pytest.mark.parametrize("method,path", [("GET", f"{JOBS_URL}not-a-uuid/"), ("GET", f"{JOBS_URL}{'9' * 5000}/"),
                                         ("GET", f"{JOBS_URL}%C3%A9/results/"), ("POST", "/tahoe/api/v1/r%C3%A9/")],
                         ids=["not a uuid", "5,000 digits", "unicode job id", "unicode path"])
def test_a_path_that_names_nothing_is_a_json_404(alpha, alpha_admin, method, path):
    assert_refused(send(alpha_admin, alpha, path, method=method), 404, "not-found")


def test_an_accept_header_without_json_is_a_json_406(alpha, alpha_admin):
    response = send(alpha_admin, alpha, REGISTRATIONS_URL, json.dumps(learner_body()), HTTP_ACCEPT="text/html")
    assert_refused(response, 406, "not-acceptable")


@pytest.mark.parametrize("key", ["\xff\xfe", "a" * 256], ids=["not ASCII", "256 characters"])
def test_a_malformed_idempotency_key_is_a_400_naming_it(alpha, alpha_admin, key):
    before = row_counts()
    response = send(alpha_admin, alpha, REGISTRATIONS_URL, json.dumps(learner_body()), HTTP_IDEMPOTENCY_KEY=key)
    assert_refused(response, 400, "validation-error", "Idempotency-Key")
    assert row_counts() == before


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PROPFIND"])
def test_another_method_is_a_json_405(alpha, alpha_admin, method):
    assert_refused(send(alpha_admin, alpha, BULK_URL, method=method), 405, "method-not-allowed")


# 9. The site's courses and its enrollments -----------------------------------------------------

def make_course(site, number):
    """A course of ``site`` as the platform has one: its overview, audit and verified modes, its organization's link."""
    overview = CourseOverviewFactory(org=site.short_name, display_number_with_default=number, run="2026",
                                     display_name=f"{number} of {site.short_name}")
    for slug in ("audit", "verified"):
        CourseModeFactory(course=overview, mode_slug=slug, mode_display_name=slug.title())
    OrganizationCourse.objects.create(organization=site.organization, course_id=str(overview.id), active=True)
    return str(overview.id)


@pytest.fixture(name="courses")
def fixture_courses(alpha, beta):
    """Alpha's Intro course and beta's; ada, a learner of alpha."""
    make_user("ada", alpha)
    return make_course(alpha, "Intro"), make_course(beta, "Intro")


def enrollments():
    """Every enrollment and pre-enrollment, with its state (an unenrollment changes a row, adds none)."""
    return (sorted(CourseEnrollment.objects.values_list("user__username", "course_id", "mode", "is_active")),
            sorted(CourseEnrollmentAllowed.objects.values_list("email", "course_id", "auto_enroll")))


def enroll_body(**overrides):
    """An enrollment call: ada and an address of nobody in alpha's Intro course, but for ``overrides``."""
    return {"action": "enroll", "identifiers": ["ada", "dee@example.com"], "courses": [INTRO], **overrides}


def test_the_courses_are_the_platforms(alpha, alpha_admin, courses):
    assert courses[0] == INTRO
    response = send(alpha_admin, alpha, f"{COURSES_URL}{INTRO}/", method="GET")
    assert response.status_code == 200 and response.json()["id"] == INTRO, response.content[:500]


@pytest.mark.parametrize("field,value,error_code", [
    ("action", "ENROLL", "validation-error"),
    ("identifiers", [None], "validation-error"),
    ("identifiers", [2**63], "validation-error"),
    ("identifiers", [10**30], "validation-error"),
    ("identifiers", ["ada\x00"], "validation-error"),
    ("identifiers", ["\u200bada"], "validation-error"),
    ("identifiers", [["ada"]], "validation-error"),
    ("courses", [], "validation-error"),
    ("courses", [{"id": INTRO}], "validation-error"),
    ("courses", [INTRO + "\x00"], "validation-error"),
    ("courses", ["c" * 256], "validation-error"),
    ("courses", ["course-v1:"], "invalid-course-ids"),
    ("courses", [INTRO, BETA_INTRO], "invalid-course-ids"),
    ("courses", ["course-v1:alpha+Nope+2026"], "invalid-course-ids"),
    ("auto_enroll", "yes", "validation-error"),
    ("email_learners", [], "validation-error"),
    ("mode", "honor", "validation-error"),
    ("mode", "m" * 101, "validation-error"),
], ids=lambda value: repr(value)[:24])
def test_a_hostile_enrollment_field_is_a_400_naming_it_and_changes_nothing(
        alpha, alpha_admin, courses, field, value, error_code):
    before, state = row_counts(), enrollments()
    response = send(alpha_admin, alpha, ENROLLMENTS_URL, json.dumps(enroll_body(**{field: value})))
    assert_refused(response, 400, error_code, field)
    assert row_counts() == before and enrollments() == state


@pytest.mark.parametrize("raw,field,error_code", [
    ('{"action": "enroll", "identifiers": ["%s"], "courses": ["%s"]}' % (LONE_SURROGATE, INTRO), "identifiers[0]",
     "malformed-request"),
    ('{"action": "enroll", "identifiers": ["ada"], "courses": ["%s"], "mode": "%s"}' % (INTRO, LONE_SURROGATE),
     "mode", "malformed-request"),
    ('{"action": "enroll", "identifiers": [1e99999], "courses": ["%s"]}' % INTRO, "identifiers", "validation-error"),
    ('{"action": "enroll", "identifiers": [%s], "courses": ["%s"]}' % ("9" * 5000, INTRO), None,
     "malformed-request"),
    ('{"action": "enroll", "identifiers": [NaN], "courses": ["%s"]}' % INTRO, None, "malformed-request"),
    ("[]", "non_field_errors", "validation-error"),
    ("", "identifiers", "validation-error"),
], ids=["surrogate identifier", "surrogate mode", "1e99999", "5000 digits", "NaN", "a list", "empty"])
def test_an_enrollment_body_that_cannot_be_used_is_a_400_and_changes_nothing(
        alpha, alpha_admin, courses, raw, field, error_code):
    before = row_counts()
    assert_refused(send(alpha_admin, alpha, ENROLLMENTS_URL, raw), 400, error_code, field)
    assert row_counts() == before


def test_user_ids_past_the_databases_integer_are_no_one(alpha, alpha_admin, courses):
    before = row_counts()
    response = send(alpha_admin, alpha, ENROLLMENTS_URL, json.dumps(enroll_body(
        identifiers=[2**63 - 1, 2**31, "9" * 19, "9" * 40])))
    assert response.status_code == 200, response.content[:500]
    assert all(result.get("invalidIdentifier") for result in response.json()["courses"][INTRO]["results"])
    assert row_counts() == before


@pytest.mark.parametrize("content_type", ["application/json; charset=rot13", "application/x-www-form-urlencoded",
                                          "text/csv"])
def test_an_enrollment_body_that_is_no_utf_8_json_is_a_415(alpha, alpha_admin, courses, content_type):
    before = row_counts()
    response = send(alpha_admin, alpha, ENROLLMENTS_URL, json.dumps(enroll_body()).encode(), content_type)
    assert_refused(response, 415, "unsupported-media-type")
    assert row_counts() == before


@pytest.mark.parametrize("key", ["\xff\xfe", "a" * 256], ids=["not ASCII", "256 characters"])
def test_a_malformed_idempotency_key_on_an_enrollment_call_is_a_400_naming_it(alpha, alpha_admin, courses, key):
    before = row_counts()
    response = send(alpha_admin, alpha, ENROLLMENTS_URL, json.dumps(enroll_body()), HTTP_IDEMPOTENCY_KEY=key)
    assert_refused(response, 400, "validation-error", "Idempotency-Key")
    assert row_counts() == before


@pytest.mark.parametrize("url,query,field", [
    (COURSES_URL, "page=-1", "page"),
    (COURSES_URL, "page=abc", "page"),
    (COURSES_URL, "page_size=1e3", "page_size"),
    (COURSES_URL, "org=%00", "org"),
    (COURSES_URL, "display_name=" + "d" * 256, "display_name"),
    (ENROLLMENTS_URL, "page=0", "page"),
    (ENROLLMENTS_URL, "user_id=1e9999", "user_id"),
    (ENROLLMENTS_URL, "user_id=99999999999999999999", "user_id"),
    (ENROLLMENTS_URL, "is_active=maybe", "is_active"),
    (ENROLLMENTS_URL, "course_id=%00", "course_id"),
    (ENROLLMENTS_URL, "course_id=course-v1:", "course_id"),
    (ENROLLMENTS_URL, "username=" + "u" * 256, "username"),
], ids=lambda value: value[:24])
def test_a_hostile_query_parameter_is_a_400_naming_it(alpha, alpha_admin, courses, url, query, field):
    response = send(alpha_admin, alpha, f"{url}?{query}", method="GET")
    body = assert_refused(response, 400, "validation-error", field)
    assert list(body["field_errors"]) == [field]


@pytest.mark.parametrize("url,query,count", [
    (COURSES_URL, "page_size=" + "1" * 31, 1),  # capped at 500
    (COURSES_URL, "display_name=%25", 0),
    (ENROLLMENTS_URL, f"user_id={2**63 - 1}", 0),
    (ENROLLMENTS_URL, f"user_id={2**31}", 0),
    (ENROLLMENTS_URL, f"course_id={quote(BETA_INTRO)}", 0),
])
def test_well_formed_odd_queries_answer_a_page(alpha, alpha_admin, courses, url, query, count):
    response = send(alpha_admin, alpha, f"{url}?{query}", method="GET")
    assert response.status_code == 200 and response["Content-Type"] == "application/json", response.content[:500]
    assert response.json()["count"] == count


@pytest.mark.parametrize("url", [COURSES_URL, ENROLLMENTS_URL])
def test_a_page_past_the_last_is_a_json_404(alpha, alpha_admin, courses, url):
    assert_refused(send(alpha_admin, alpha, f"{url}?page={'9' * 30}", method="GET"), 404, "not-found")


@pytest.mark.parametrize("segment,error_code", [
    ("%00", "course-not-found"),
    ("x" * 5000, "course-not-found"),
    ("%C3%A9", "course-not-found"),
    ("%ED%A0%80", "course-not-found"),
    ("course-v1:", "course-not-found"),
    (f"{INTRO}%00", "course-not-found"),
    (quote(BETA_INTRO, safe=""), "course-not-found"),
    ("course-v1:alpha%2FIntro%2F2026", "not-found"),
    (f"{INTRO}%2F", "not-found"),
], ids=lambda value: value[:24])
def test_a_course_path_that_names_no_course_of_the_site_is_a_json_404(alpha, alpha_admin, courses, segment,
                                                                      error_code):
    assert_refused(send(alpha_admin, alpha, f"{COURSES_URL}{segment}/", method="GET"), 404, error_code)


@pytest.mark.parametrize("method,path", [("POST", COURSES_URL), ("DELETE", COURSES_URL),
                                         ("POST", f"{COURSES_URL}{INTRO}/"), ("PUT", f"{COURSES_URL}{INTRO}/"),
                                         ("DELETE", ENROLLMENTS_URL), ("PATCH", ENROLLMENTS_URL)])
def test_another_method_on_the_courses_and_enrollments_is_a_json_405(alpha, alpha_admin, courses, method, path):
    before = row_counts()
    assert_refused(send(alpha_admin, alpha, path, json.dumps(enroll_body()), method=method), 405,
                   "method-not-allowed")
    assert row_counts() == before


def test_an_accept_header_without_json_on_a_list_is_a_json_406(alpha, alpha_admin, courses):
    assert_refused(send(alpha_admin, alpha, COURSES_URL, method="GET", HTTP_ACCEPT="text/html"), 406,
                   "not-acceptable")


@pytest.mark.parametrize("body,field,error_code", [
    ({"courses": [BETA_INTRO]}, "courses", "invalid-course-ids"),
    ({"courses": ["course-v1:"]}, "courses", "invalid-course-ids"),
    ({"courses": [INTRO + "\x00"]}, "courses", "validation-error"),
    ({"courses": [INTRO] * 21}, "courses", "validation-error"),
    ({"courses": [INTRO], "mode": "m" * 101}, "mode", "validation-error"),
    ({"courses": [INTRO], "mode": "honor"}, "mode", "validation-error"),
], ids=["another site's", "no key", "NUL", "21 courses", "101-character mode", "no mode of the course"])
def test_a_registration_with_hostile_courses_is_a_400_naming_them_and_registers_no_one(
        alpha, alpha_admin, courses, body, field, error_code):
    before = row_counts()
    assert_refused(send(alpha_admin, alpha, REGISTRATIONS_URL, json.dumps(learner_body(**body))), 400, error_code,
                   field)
    assert row_counts() == before


# 10. The site's learners ------------------------------------------------------------------------

LEARNERS_URL = "/tahoe/api/v1/learners/"


def learner_state():
    """Everything a learner's change can change: users' emails and passwords, profiles, languages, the history."""
    return (sorted(get_user_model().objects.values_list("pk", "email", "password")),
            sorted(UserProfile.objects.values_list("user_id", "name", "meta")),
            sorted(UserPreference.objects.values_list("user_id", "key", "value")),
            UserPasswordToggleHistory.objects.count(), row_counts())


@pytest.fixture(name="ada")
def fixture_ada(alpha):
    """Ada, a learner of alpha, as the platform keeps one (a profile)."""
    user = make_user("ada", alpha)
    UserProfile.objects.create(user=user, name="Ada Lovelace")
    return user


@pytest.mark.parametrize("field,value", [
    ("name", ""), ("name", "<b>Ada</b>"), ("name", "Ada\x00"), ("name", "N" * 256), ("name", ["Ada"]),
    ("email", "ada"), ("email", "ada\u200b@example.org"), ("email", "e" * 245 + "@example.com"), ("email", None),
    ("language", "xx"), ("language", None), ("language", "l" * 17), ("disabled", "yes"), ("disabled", None),
    ("username", "ada2"),
], ids=lambda value: repr(value)[:24])
def test_a_hostile_learner_field_is_a_400_naming_it_and_changes_nothing(alpha, alpha_admin, ada, field, value):
    before = learner_state()
    response = send(alpha_admin, alpha, f"{LEARNERS_URL}{ada.pk}/", json.dumps({field: value}), method="PATCH")
    assert list(assert_refused(response, 400, "validation-error", field)["field_errors"]) == [field]
    assert learner_state() == before


@pytest.mark.parametrize("raw,field,error_code", [
    ('{"name": "x%s"}' % LONE_SURROGATE, "name", "malformed-request"),
    ('{"name": %s}' % ("[" * 2000 + "]" * 2000), "non_field_errors", "malformed-request"),
    ('{"disabled": NaN}', None, "malformed-request"),
    ("[]", "non_field_errors", "validation-error"),
], ids=["surrogate name", "2000 levels", "NaN", "a list"])
def test_a_learner_change_that_cannot_be_used_is_a_400_and_changes_nothing(alpha, alpha_admin, ada, raw, field,
                                                                           error_code):
    before = learner_state()
    assert_refused(send(alpha_admin, alpha, f"{LEARNERS_URL}{ada.pk}/", raw, method="PATCH"), 400, error_code, field)
    assert learner_state() == before


@pytest.mark.parametrize("segment,error_code", [
    (str(2**63), "learner-not-found"), ("9" * 40, "learner-not-found"), ("-1", "not-found"), ("%0A", "not-found"),
    ("%D9%A1", "not-found"),
], ids=["2^63", "40 digits", "negative", "a line break", "an Arabic-Indic digit"])
@pytest.mark.parametrize("method", ["GET", "PATCH"])
def test_a_learner_path_that_names_no_learner_is_a_json_404(alpha, alpha_admin, ada, segment, error_code, method):
    before = learner_state()
    response = send(alpha_admin, alpha, f"{LEARNERS_URL}{segment}/", json.dumps({"name": "Mallory"}), method=method)
    assert_refused(response, 404, error_code)
    assert learner_state() == before


@pytest.mark.parametrize("query,field", [("email=%00", "email"), ("username=" + "u" * 256, "username"),
                                         ("include_admins=true", "include_admins"), ("page=0", "page")])
def test_a_hostile_learner_query_is_a_400_naming_it(alpha, alpha_admin, ada, query, field):
    response = alpha_admin.client.get(LEARNERS_URL, QUERY_STRING=query, **alpha_admin.headers(alpha.domain, {}))
    assert list(assert_refused(response, 400, "validation-error", field)["field_errors"]) == [field]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_another_method_on_a_learner_is_a_json_405(alpha, alpha_admin, ada, method):
    before = learner_state()
    assert_refused(send(alpha_admin, alpha, f"{LEARNERS_URL}{ada.pk}/", json.dumps({"name": "X"}), method=method),
                   405, "method-not-allowed")
    assert learner_state() == before
