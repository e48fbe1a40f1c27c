"""The hostile requests a probe answered with a 5xx or an HTML page, each now a JSON 4xx naming what is wrong."""

import csv
import io
import json
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.parsers import JSONParser
from rest_framework.test import APIClient

from tahoe_registration_api.models import AuditEntry
from tahoe_registration_api.rest_api.parsers import JsonBodyParser
from tahoe_registration_api.rest_api.renderers import RENDERER_CLASSES, AsciiJsonRenderer
from tahoe_registration_api.rest_api.scim.views import ScimJsonRenderer
from tahoe_registration_api.rest_api.v1.views import TahoeApiView
from tests.conftest import learner_body, make_user
from tests.hostile import (
    ALLOWED_METHODS,
    BETA_INTRO,
    BULK,
    COURSE,
    COURSES,
    CSRF,
    DATA,
    ENROLLMENTS,
    INTRO,
    JOBS,
    JSON_BODY_ENDPOINTS,
    LEARNERS,
    SINGLE,
    SINGLE_V2,
    TOKEN_PAGE,
    assert_json_answer,
    assert_refused,
    browser,
    course_url,
    enrollment_body,
    learner_url,
    resend_url,
    seed_both,
    send,
    written,
)
from tests.test_structure import plugin_views

ADA = '"username": "ada", "email": "ada@example.com", "name": "Ada Lovelace"'
LONE_SURROGATE = "\\ud800"  # the JSON escape of half a UTF-16 pair, sent without its other half


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):
    """Many calls per test: the rate limits are tested elsewhere."""
    settings.TAHOE_REGISTRATION_API_RATE = None
    settings.TAHOE_REGISTRATION_API_BULK_RATE = None


def body_for(endpoint, learner):
    """The JSON body of one learner (the text of its fields) for a single call, a bulk call or a job."""
    return "{%s}" % learner if endpoint in (SINGLE, SINGLE_V2) else '{"learners": [{%s}]}' % learner


def field_for(endpoint, field):
    """The name of a learner's field in an answer of ``endpoint``: ``username`` or ``learners[0].username``."""
    return field if endpoint in (SINGLE, SINGLE_V2) else f"learners[0].{field}"


# 1. A lone surrogate ---------------------------------------------------------------------------

def test_a_bulk_call_whose_ref_holds_a_lone_surrogate_is_a_400_naming_it_and_registers_no_one(alpha, alpha_admin):
    body = '{"learners": [{%s, "ref": "%s"}]}' % (ADA, LONE_SURROGATE)
    before = written()
    for _ in range(2):  # a retry with the same key gets the same answer: nothing was kept for the key
        response = send(alpha_admin, alpha, "POST", BULK, body, HTTP_IDEMPOTENCY_KEY="crm-batch-1")
        assert response["Content-Type"] == "application/json"
        answer = assert_refused(response, 400, "malformed-request", "learners[0].ref")
        assert answer["developer_message"] == "The body holds text that is not Unicode: learners[0].ref."
        assert written() == before


@pytest.mark.parametrize("endpoint", JSON_BODY_ENDPOINTS)
@pytest.mark.parametrize("field", ["username", "name", "password", "language"])
def test_a_lone_surrogate_in_a_field_of_any_json_endpoint_is_a_400_naming_it(alpha, alpha_admin, endpoint, field):
    learner = json.dumps({**learner_body(), field: "x"})[1:-1].replace('"x"', f'"x{LONE_SURROGATE}"')
    before = written()
    response = send(alpha_admin, alpha, "POST", endpoint, body_for(endpoint, learner))
    assert_refused(response, 400, "malformed-request", field_for(endpoint, field))
    assert written() == before


def test_every_key_and_string_with_a_lone_surrogate_is_named_a_key_by_its_escape(alpha, alpha_admin):
    body = '{"learners": [{%s, "\\udc00": 1}, {%s, "ref": ["ok", "\\ud83d\\ude00", "%s"]}]}' % (
        ADA, ADA, LONE_SURROGATE)
    answer = assert_refused(send(alpha_admin, alpha, "POST", BULK, body), 400, "malformed-request")
    assert sorted(answer["field_errors"]) == ["learners[0].\\udc00", "learners[1].ref[2]"]  # the pair is text


def test_a_surrogate_pair_is_text(alpha, alpha_admin):
    response = send(alpha_admin, alpha, "POST", SINGLE, '{%s, "title": "\\ud83d\\ude00"}' % ADA)
    assert response.status_code == 200, response.content


# 1b. Answers always render ---------------------------------------------------------------------

API_VIEWS = {"RegistrationView", "RegistrationV2View", "ResendView", "BulkRegistrationView", "JobsView", "JobView",
             "JobResultsView", "CoursesView", "CourseView", "EnrollmentsView", "LearnersView", "LearnerView",
             "WebhooksView", "WebhookView", "WebhookRotateView", "WebhookEnableView", "WebhookDeliveriesView"}


SCIM_VIEWS = {"ServiceProviderConfigView", "ResourceTypesView", "ResourceTypeView", "SchemasView", "SchemaView",
              "UsersView", "SearchView", "UserView"}


def test_every_api_view_answers_through_the_ascii_json_renderer_and_reads_json_through_the_plugins_parser():
    views = {view.view_class for view in plugin_views() if hasattr(view, "view_class")}
    # a new view is added here once it is checked below
    assert {view.__name__ for view in views} == API_VIEWS | SCIM_VIEWS
    for view in views:
        if view.__name__ in SCIM_VIEWS:  # SCIM's media type first, through the same escaping renderer
            assert [type(renderer) for renderer in view().get_renderers()] == [ScimJsonRenderer, AsciiJsonRenderer]
            assert issubclass(ScimJsonRenderer, AsciiJsonRenderer)
        else:
            assert view.renderer_classes == RENDERER_CLASSES == (AsciiJsonRenderer,)
        assert not any(isinstance(parser, JSONParser) and not isinstance(parser, JsonBodyParser)
                       for parser in view().get_parsers()), view


def test_the_renderer_escapes_what_utf_8_cannot_carry():
    rendered = AsciiJsonRenderer().render({"ref": "\ud800", "name": "Zoë"})
    assert rendered == b'{"ref":"\\ud800","name":"Zo\\u00eb"}'
    assert json.loads(rendered) == {"ref": "\ud800", "name": "Zoë"}


def test_an_answer_holding_a_lone_surrogate_still_renders_after_its_commit_and_when_replayed(
        alpha, alpha_admin, monkeypatch):
    """Were a lone surrogate to get past the parser (DRF's own, here), the committed call's answer still renders."""
    monkeypatch.setattr(TahoeApiView, "get_parsers", lambda view: [JSONParser()])
    body = '{"learners": [{%s, "ref": "%s"}]}' % (ADA, LONE_SURROGATE)
    first = send(alpha_admin, alpha, "POST", BULK, body, HTTP_IDEMPOTENCY_KEY="crm-batch-2")
    assert first.status_code == 200, first.content
    assert b'"ref":"\\ud800"' in first.content and first.json()["created"] == 1
    again = send(alpha_admin, alpha, "POST", BULK, body, HTTP_IDEMPOTENCY_KEY="crm-batch-2")
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert get_user_model().objects.filter(username="ada").count() == 1


# 2. Deep nesting -------------------------------------------------------------------------------

@pytest.mark.parametrize("endpoint", JSON_BODY_ENDPOINTS)
def test_a_body_nested_2000_levels_deep_is_a_400_saying_so(alpha, alpha_admin, endpoint):
    before = written()
    response = send(alpha_admin, alpha, "POST", endpoint, '{"learners": %s}' % ("[" * 2000 + "]" * 2000))
    answer = assert_refused(response, 400, "malformed-request", "non_field_errors")
    assert answer["developer_message"] == "The body is nested more than 32 levels deep."
    assert written() == before


def test_32_levels_are_accepted_33_are_not(alpha, alpha_admin):
    def nested(levels):  # an ignored field nested inside the body, itself one level
        return '{%s, "extra": %s}' % (ADA, "[" * (levels - 1) + "]" * (levels - 1))

    assert_refused(send(alpha_admin, alpha, "POST", SINGLE, nested(33)), 400, "malformed-request")
    assert send(alpha_admin, alpha, "POST", SINGLE, nested(32)).status_code == 200


# 3. Charsets -----------------------------------------------------------------------------------

REFUSED_CHARSETS = ["rot13", "zlib", "base64", "bogus", "utf-16", "latin-1", "idna"]
ACCEPTED_CHARSETS = {"application/json": ["utf-8", "UTF8", "utf-8-sig", "us-ascii"],
                     "application/x-www-form-urlencoded": ["utf-8", "UTF-8", '"utf-8"']}
BODIES = {
    "application/json": json.dumps(learner_body()).encode(),
    "application/x-www-form-urlencoded": b"username=auserton&email=alex.userton%40example.com&name=Alex+Userton",
}


@pytest.mark.parametrize("media_type", sorted(BODIES))
@pytest.mark.parametrize("charset", REFUSED_CHARSETS)
def test_a_body_in_any_charset_but_utf_8_is_a_415_naming_it(alpha, alpha_admin, media_type, charset):
    before = written()
    response = send(alpha_admin, alpha, "POST", SINGLE, BODIES[media_type], f"{media_type}; charset={charset}")
    answer = assert_refused(response, 415, "unsupported-media-type", "Content-Type")
    assert answer["developer_message"] == f"The charset {charset!r} is not accepted: the body is read as UTF-8."
    assert written() == before


@pytest.mark.parametrize("media_type,charset", [(media_type, charset) for media_type, charsets in
                                                ACCEPTED_CHARSETS.items() for charset in charsets])
def test_utf_8_is_read(alpha, alpha_admin, media_type, charset):
    response = send(alpha_admin, alpha, "POST", SINGLE, BODIES[media_type], f"{media_type}; charset={charset}")
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("endpoint,media_type", [(BULK, "application/json"), (JOBS, "application/json"),
                                                 (JOBS, "text/csv"), (resend_url(1), "application/json")])
def test_every_endpoint_refuses_a_charset_other_than_utf_8(alpha, alpha_admin, endpoint, media_type):
    before = written()
    response = send(alpha_admin, alpha, "POST", endpoint, b"username,email,name\n", f"{media_type}; charset=rot13")
    assert_refused(response, 415, "unsupported-media-type", "Content-Type")
    assert written() == before


@pytest.mark.parametrize("charset", ["latin-1", "utf8", "rot13"])
def test_a_session_callers_form_in_another_charset_is_a_415_not_a_failed_csrf_check(alpha, charset):
    """The session's CSRF check reads a form body: Django 5.1+ refuses there any charset but "utf-8"."""
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(make_user("alpha_admin", alpha, is_admin=True))
    client.cookies[django_settings.CSRF_COOKIE_NAME] = CSRF
    response = client.generic("POST", SINGLE, BODIES["application/x-www-form-urlencoded"],
                              content_type=f"application/x-www-form-urlencoded; charset={charset}",
                              HTTP_HOST=alpha.domain, HTTP_X_CSRFTOKEN=CSRF)
    assert_refused(response, 415, "unsupported-media-type", "Content-Type")


# 4. A job's rows -------------------------------------------------------------------------------

def test_a_job_whose_username_holds_a_lone_surrogate_is_a_400_and_writes_no_job(alpha, alpha_admin):
    before = written()
    body = '{"learners": [{"username": "%s", "email": "b@example.com", "name": "B"}]}' % LONE_SURROGATE
    response = send(alpha_admin, alpha, "POST", JOBS, body)
    assert_refused(response, 400, "malformed-request", "learners[0].username")
    assert written() == before


# 5. Resend -------------------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize("user_id", [10**26 - 1, 2**63, 2**63 - 1, 2**31])  # past any column; past MariaDB's INT
def test_a_resend_for_an_id_past_the_databases_integer_is_a_404_learner_not_found(
        alpha, alpha_admin, version, user_id):
    response = send(alpha_admin, alpha, "POST", resend_url(user_id, version), b"")
    assert_refused(response, 404, "learner-not-found")


# 6. Form-encoded bodies ------------------------------------------------------------------------

@pytest.mark.parametrize("username", [b"%zz", b"%", b"\xff\xfe", b"%ED%A0%80", b"\xed\xa0\x80", b"%00", b"a\x00b",
                                      b"x" * 15000])
def test_a_form_with_a_hostile_username_is_a_400_naming_it(alpha, alpha_admin, username):
    before = written()
    body = b"username=" + username + b"&email=ada%40example.com&name=Ada"
    response = send(alpha_admin, alpha, "POST", SINGLE, body, "application/x-www-form-urlencoded")
    assert_refused(response, 400, "validation-error", "username")
    assert written() == before


def test_a_form_over_the_size_limit_is_a_413_and_one_of_too_many_fields_a_400(alpha, alpha_admin):
    form = "application/x-www-form-urlencoded"
    assert_refused(send(alpha_admin, alpha, "POST", SINGLE, b"username=" + b"x" * 17000, form),
                   413, "request-too-large")
    answer = assert_refused(send(alpha_admin, alpha, "POST", SINGLE, b"a=1&" * 1001, form), 400, "bad-request")
    assert answer["developer_message"] == "Django refused it (TooManyFieldsSent)."


# 7. The token page -----------------------------------------------------------------------------

@pytest.mark.parametrize("page", ["0", "-1", "1" * 5000, "1e309", "nan", "%ff", "%00", "%D9%A1"])
def test_the_token_page_with_any_page_number_shows_a_page(alpha, page):
    response = browser(make_user("alpha_admin", alpha, is_admin=True)).get(
        TOKEN_PAGE, HTTP_HOST=alpha.domain, QUERY_STRING=f"page={page}")
    assert response.status_code == 200


@pytest.mark.parametrize("media_type", ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x"])
@pytest.mark.parametrize("charset", ["rot13", "zlib", "bogus", "latin-1"])
def test_a_token_change_in_a_charset_other_than_utf_8_is_a_415_page_and_changes_nothing(alpha, media_type, charset):
    admin = make_user("alpha_admin", alpha, is_admin=True)
    key = Token.objects.create(user=admin).key
    body = (b'--x\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n' + CSRF.encode()
            + b"\r\n--x--\r\n") if "multipart" in media_type else b"csrfmiddlewaretoken=" + CSRF.encode()
    response = browser(admin).generic("POST", f"{TOKEN_PAGE}rotate/", body,
                                      content_type=f"{media_type}; charset={charset}", HTTP_HOST=alpha.domain)
    assert response.status_code == 415
    assert b"Your token was not changed" in response.content and charset.encode() in response.content
    assert Token.objects.get(user=admin).key == key and not AuditEntry.objects.exists()


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded; charset=UTF-8",
                                          "multipart/form-data; boundary=x; charset=utf8"])
def test_a_token_change_in_utf_8_is_made(alpha, content_type):
    admin = make_user("alpha_admin", alpha, is_admin=True)
    key = Token.objects.create(user=admin).key
    body = (b'--x\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n' + CSRF.encode()
            + b"\r\n--x--\r\n") if "multipart" in content_type else b"csrfmiddlewaretoken=" + CSRF.encode()
    response = browser(admin).generic("POST", f"{TOKEN_PAGE}rotate/", body, content_type=content_type,
                                      HTTP_HOST=alpha.domain)
    assert response.status_code == 200 and Token.objects.get(user=admin).key != key


def test_a_post_to_the_page_itself_in_another_charset_is_a_405(alpha):
    response = browser(make_user("alpha_admin", alpha, is_admin=True)).generic(
        "POST", TOKEN_PAGE, b"csrfmiddlewaretoken=" + CSRF.encode(),
        content_type="application/x-www-form-urlencoded; charset=rot13", HTTP_HOST=alpha.domain)
    assert response.status_code == 405


@pytest.mark.parametrize("body,media_type", [
    (b"garbage", "multipart/form-data"),
    (b"garbage", "multipart/form-data; boundary="),
    (b"csrfmiddlewaretoken=" + CSRF.encode() + b"&x=" + b"a" * (3 * 1024 * 1024), "application/x-www-form-urlencoded"),
    (b"csrfmiddlewaretoken=" + CSRF.encode() + b"&" + b"a=1&" * 1001, "application/x-www-form-urlencoded"),
])
def test_a_token_change_django_cannot_read_is_a_400(alpha, body, media_type):
    admin = make_user("alpha_admin", alpha, is_admin=True)
    Token.objects.create(user=admin)
    response = browser(admin).generic("POST", f"{TOKEN_PAGE}revoke/", body, content_type=media_type,
                                      HTTP_HOST=alpha.domain)
    assert response.status_code == 400 and Token.objects.filter(user=admin).exists()


# 8. Paths, headers, methods, empty bodies, lying lengths, CSV files -----------------------------

@pytest.mark.parametrize("path", [f"{JOBS}not-a-uuid/", f"{JOBS}{'9' * 5000}/results/", f"{JOBS}%C3%A9/",
                                  "/tahoe/api/v1/r%C3%A9/", resend_url("-1"), resend_url("%D9%A1"),
                                  "/tahoe/api/v1/r%0A/", resend_url("%0A"), learner_url("%0A"), f"{JOBS}%0A/"])
def test_a_path_that_names_nothing_is_a_json_404(alpha, alpha_admin, path):
    response = send(alpha_admin, alpha, "GET" if path.startswith(JOBS) else "POST", path)
    assert_refused(response, 404, "not-found")


@pytest.mark.parametrize("accept", ["text/html", "application/xml", "\xff"])
def test_an_accept_header_without_json_is_a_json_406(alpha, alpha_admin, accept):
    response = send(alpha_admin, alpha, "POST", SINGLE, json.dumps(learner_body()), HTTP_ACCEPT=accept)
    assert response["Content-Type"] == "application/json"
    assert_refused(response, 406, "not-acceptable")


@pytest.mark.parametrize("endpoint", [SINGLE, BULK, ENROLLMENTS])  # named alone, whatever the body holds
@pytest.mark.parametrize("key", ["\x00", "\xff\xfe", "é", "k\r\n", "a" * 256, ""])
def test_a_malformed_idempotency_key_is_a_400_naming_it(alpha, alpha_admin, endpoint, key):
    body = body_for(endpoint, json.dumps(learner_body())[1:-1])
    answer = assert_refused(send(alpha_admin, alpha, "POST", endpoint, body, HTTP_IDEMPOTENCY_KEY=key),
                            400, "validation-error", "Idempotency-Key")
    assert set(answer["field_errors"]) == {"Idempotency-Key"}
    assert not get_user_model().objects.filter(username="auserton").exists()


@pytest.mark.parametrize("request_id", ["\x00", "x" * 65, "é", "a b", ""])
def test_an_x_request_id_that_is_no_plain_token_is_replaced(alpha, alpha_admin, request_id):
    response = send(alpha_admin, alpha, "POST", SINGLE, b"{}", HTTP_X_REQUEST_ID=request_id)
    assert response.status_code == 400
    assert response["X-Request-ID"] != request_id and len(response["X-Request-ID"]) == 32


@pytest.mark.parametrize("endpoint,method", [
    (endpoint, method) for endpoint in [*JSON_BODY_ENDPOINTS, resend_url(1), COURSES, COURSE, LEARNERS, learner_url(1)]
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE", "TRACE", "PROPFIND"]
    if method not in ALLOWED_METHODS.get(endpoint, {"POST"})])
def test_another_method_is_a_json_405(alpha, alpha_admin, endpoint, method):
    before = written()
    answer = assert_refused(send(alpha_admin, alpha, method, endpoint, json.dumps(enrollment_body())), 405,
                            "method-not-allowed")
    assert answer["field_errors"] == {} and written() == before


@pytest.mark.parametrize("endpoint,media_type,field,code", [
    (SINGLE, "application/json", "username", "validation-error"),
    (SINGLE_V2, "application/json", "username", "validation-error"),
    (BULK, "application/json", "learners", "validation-error"),
    (JOBS, "application/json", "learners", "validation-error"),
    (JOBS, "text/csv", "file", "invalid-file"),  # a CSV that cannot be read, as docs/reference/rest_api.rst names it
])
def test_an_empty_body_is_a_400_naming_what_is_missing(alpha, alpha_admin, endpoint, media_type, field, code):
    assert_refused(send(alpha_admin, alpha, "POST", endpoint, b"", media_type), 400, code, field)


@pytest.mark.parametrize("declared,status", [("100000", 200), ("5", 400), ("-5", 400), ("abc", 400)])
@pytest.mark.parametrize("endpoint", [SINGLE, BULK, JOBS])
def test_a_content_length_that_lies_reads_what_came(alpha, alpha_admin, endpoint, declared, status):
    """
    A server hands the body over up to the length declared, or up to what came if less (the test client would not).

    The single call's limit refuses a declared 100,000 bytes; bulk and jobs read the body that came.
    """
    body = body_for(endpoint, json.dumps(learner_body())[1:-1]).encode()
    response = send(alpha_admin, alpha, "POST", endpoint, b"", CONTENT_TYPE="application/json",
                    CONTENT_LENGTH=declared, **{"wsgi.input": io.BytesIO(body)})
    expected = 413 if endpoint == SINGLE and status == 200 else 202 if endpoint == JOBS and status == 200 else status
    assert response.status_code == expected and response["Content-Type"] == "application/json"


def job_results(caller, site, response):
    """The results of the job a submission answered, as rows of text."""
    assert response.status_code == 202, response.content
    results = send(caller, site, "GET", f"{JOBS}{response.json()['job_id']}/results/")
    return list(csv.reader(io.StringIO(b"".join(results.streaming_content).decode("utf-8"))))[1:]


@pytest.mark.parametrize("body,line", [
    (b"username,email,name\nada,ada@example.com,Ada\rbob,bob@example.com,Bob\n", 2),  # a lone CR: one line
    (b"username,email,name\nada,ada@example.com,\xffAda\n", 2),
    (b"username,email,name\nada,ada@example.com," + b"x" * 140000 + b"\n", 2),
    (b"\x00\x00", 1),
    ("username,email,name\n".encode("utf-16"), 1),
])
def test_a_csv_that_cannot_be_read_is_a_400_naming_the_line(alpha, alpha_admin, body, line):
    before = written()
    answer = assert_refused(send(alpha_admin, alpha, "POST", JOBS, body, "text/csv"), 400, "invalid-file", "file")
    assert answer["field_errors"]["file"]["user_message"].startswith(f"Line {line}: ")
    assert written() == before


def test_a_csv_with_a_bom_crlf_a_nul_and_formulas_is_a_job_whose_results_are_spreadsheet_safe(alpha, alpha_admin):
    body = (b"\xef\xbb\xbfusername,email,name,ref\r\nada,ada@example.com,Ada,=HYPERLINK(\"x\")\r\n"
            b"b\x00b,bob@example.com,Bob,@SUM(A1)\r\n")
    rows = job_results(alpha_admin, alpha, send(alpha_admin, alpha, "POST", JOBS, body, "text/csv"))
    assert [(row[1], row[2], row[4]) for row in rows] == [
        ("'=HYPERLINK(\"x\")", "ada", "200"), ("'@SUM(A1)", "b\x00b", "400")]


@pytest.mark.parametrize("host", ["alpha.localhost", "unknown.localhost"])
def test_a_visitors_change_in_another_charset_is_a_415_page(alpha, host):  # pylint: disable=unused-argument
    response = Client().generic("POST", f"{TOKEN_PAGE}rotate/", b"x", content_type="text/plain; charset=rot13",
                                HTTP_HOST=host)
    assert response.status_code == 415


# 9. The site's courses and its enrollments -----------------------------------------------------

@pytest.fixture
def courses(alpha, beta):
    """Each site's two courses; a learner of alpha (ada) and one of beta (stranger)."""
    make_user("ada", alpha)
    make_user("stranger", beta)
    return seed_both(alpha, beta)


def get_list(caller, site, url, query):
    """GET a list with a raw query string (percent-escapes as they are)."""
    return send(caller, site, "GET", url, QUERY_STRING=query)


@pytest.mark.parametrize("url", [COURSES, ENROLLMENTS, LEARNERS])
@pytest.mark.parametrize("query,field", [
    ("page=-1", "page"), ("page=abc", "page"), ("page=0", "page"), ("page=1.5", "page"), ("page=1e3", "page"),
    ("page=%D9%A1", "page"), ("page=%00", "page"), ("page=" + "9" * 300, "page"), ("page=0x10", "page"),
    ("page_size=abc", "page_size"), ("page_size=-5", "page_size"), ("page_size=0", "page_size"),
    ("page_size=1e3", "page_size"), ("page_size=%EF%BC%95", "page_size"), ("page_size=" + "9" * 5000, "page_size"),
], ids=lambda value: value[:24] if isinstance(value, str) else value)
def test_a_page_or_page_size_that_is_no_whole_number_is_a_400_naming_it(alpha, alpha_admin, courses, url, query,
                                                                        field):
    answer = assert_refused(get_list(alpha_admin, alpha, url, query), 400, "validation-error", field)
    assert answer["developer_message"] == f"Invalid query parameter: {field}."
    assert list(answer["field_errors"]) == [field]


@pytest.mark.parametrize("url,query,field", [
    (ENROLLMENTS, "user_id=1e9999", "user_id"),
    (ENROLLMENTS, "user_id=99999999999999999999", "user_id"),
    (ENROLLMENTS, "user_id=-1", "user_id"),
    (ENROLLMENTS, "user_id=0", "user_id"),
    (ENROLLMENTS, "user_id=%D9%A1", "user_id"),  # an Arabic-Indic one: a digit to Python, not to a database
    (ENROLLMENTS, "user_id=1%00", "user_id"),
    (ENROLLMENTS, "is_active=maybe", "is_active"),
    (ENROLLMENTS, "is_active=%00", "is_active"),
    (ENROLLMENTS, "course_id=%00", "course_id"),
    (ENROLLMENTS, f"course_id={quote(INTRO)}%00", "course_id"),
    (ENROLLMENTS, "course_id=" + "c" * 256, "course_id"),
    (ENROLLMENTS, "course_id=course-v1:", "course_id"),
    (ENROLLMENTS, "course_id=not%20a%20key", "course_id"),
    (ENROLLMENTS, "username=" + "u" * 256, "username"),
    (ENROLLMENTS, "username=a%0Ab", "username"),
    (COURSES, "org=%00", "org"),
    (COURSES, "number=" + "n" * 256, "number"),
    (COURSES, "display_name=a%1Bb", "display_name"),
    (COURSES, "display_name=" + "d" * 5000, "display_name"),
], ids=lambda value: value[:24] if isinstance(value, str) else value)
def test_a_hostile_filter_is_a_400_naming_it(alpha, alpha_admin, courses, url, query, field):
    answer = assert_refused(get_list(alpha_admin, alpha, url, query), 400, "validation-error", field)
    assert list(answer["field_errors"]) == [field]


@pytest.mark.parametrize("url,query,count", [
    (COURSES, "page_size=" + "1" * 31, 2),  # 10**30 and more: capped at 500
    (COURSES, "page=last", 2),
    (COURSES, "page=1&page=1", 2),
    (COURSES, "page=&page_size=", 2),  # empty: absent
    (COURSES, "display_name=%25", 0),  # "%" and "_" are text, no pattern
    (COURSES, "display_name=_", 0),
    (COURSES, "org=ALPHA&unknown=%00", 2),  # an unknown parameter is ignored
    (COURSES, "number=%C3%A9", 0),
    (ENROLLMENTS, f"user_id={2**63 - 1}", 0),
    (ENROLLMENTS, f"user_id={2**31}", 0),
    (ENROLLMENTS, f"course_id={quote(BETA_INTRO)}", 0),
    (ENROLLMENTS, f"course_id={quote(INTRO)}&is_active=TRUE", 0),
    (ENROLLMENTS, "username=%ff%fe", 0),
    (ENROLLMENTS, "username=%25", 0),
])
def test_well_formed_odd_queries_answer_a_page(alpha, alpha_admin, courses, url, query, count):
    response = get_list(alpha_admin, alpha, url, query)
    assert response.status_code == 200, response.content
    assert response.json()["count"] == count


@pytest.mark.parametrize("url", [COURSES, ENROLLMENTS, LEARNERS])
@pytest.mark.parametrize("page", ["2", "3", "9" * 30])
def test_a_page_past_the_last_is_a_json_404(alpha, alpha_admin, courses, url, page):
    answer = assert_refused(get_list(alpha_admin, alpha, url, f"page={page}&page_size=2"), 404, "not-found")
    assert answer["developer_message"].startswith(f"There is no page {page}")


@pytest.mark.parametrize("segment,error_code", [
    ("%00", "course-not-found"),
    ("x" * 5000, "course-not-found"),
    ("course-v1:" + "a" * 300 + "+b+c", "course-not-found"),
    ("%C3%A9", "course-not-found"),
    ("%ED%A0%80", "course-not-found"),  # a surrogate's UTF-8: not text
    ("%ff", "course-not-found"),
    ("course-v1:", "course-not-found"),
    ("course-v1:alpha", "course-not-found"),
    (f"{INTRO}%00", "course-not-found"),
    (quote(BETA_INTRO, safe=""), "course-not-found"),
    ("course-v1:ALPHA+INTRO+2026", "course-not-found"),
    ("block-v1:alpha+Intro+2026+type@course+block@course", "course-not-found"),
    ("..", "course-not-found"),
    ("%20", "course-not-found"),
    ("course-v1:alpha%2FIntro%2F2026", "not-found"),  # an encoded slash is a slash: no route
    (f"{INTRO}%2F", "not-found"),
    ("alpha/Intro/2026", "not-found"),
    (f"{INTRO}/enrollments", "not-found"),
], ids=lambda value: value[:24])
def test_a_course_path_that_names_no_course_of_the_site_is_a_json_404(alpha, alpha_admin, courses, segment,
                                                                      error_code):
    answer = assert_refused(send(alpha_admin, alpha, "GET", f"{COURSES}{segment}/"), 404, error_code)
    assert len(answer["developer_message"]) < 6000


@pytest.mark.parametrize("segment", [INTRO, quote(INTRO, safe=""), quote(f" {DATA} ", safe="")])
def test_a_course_by_its_key_escaped_or_not_is_found(alpha, alpha_admin, courses, segment):
    response = send(alpha_admin, alpha, "GET", course_url(segment))
    assert response.status_code == 200 and response.json()["id"] in (INTRO, DATA)


@pytest.mark.parametrize("field,value,error_code", [
    ("action", None, "validation-error"), ("action", "ENROLL", "validation-error"), ("action", 1, "validation-error"),
    ("action", ["enroll"], "validation-error"), ("action", "enroll\x00", "validation-error"),
    ("identifiers", None, "validation-error"), ("identifiers", [], "validation-error"),
    ("identifiers", "", "validation-error"), ("identifiers", {"ada": 1}, "validation-error"),
    ("identifiers", 7, "validation-error"), ("identifiers", [None], "validation-error"),
    ("identifiers", [True], "validation-error"), ("identifiers", [1.5], "validation-error"),
    ("identifiers", [0], "validation-error"), ("identifiers", [-1], "validation-error"),
    ("identifiers", [2**63], "validation-error"), ("identifiers", [10**30], "validation-error"),
    ("identifiers", [["ada"]], "validation-error"), ("identifiers", [{"id": 1}], "validation-error"),
    ("identifiers", ["ada\x00"], "validation-error"), ("identifiers", ["\u200bada"], "validation-error"),
    ("identifiers", [" "], "validation-error"), ("identifiers", ["x" * 255], "validation-error"),
    ("courses", None, "validation-error"), ("courses", [], "validation-error"), ("courses", 1, "validation-error"),
    ("courses", {INTRO: True}, "validation-error"), ("courses", [1], "validation-error"),
    ("courses", [None], "validation-error"), ("courses", [[INTRO]], "validation-error"),
    ("courses", [INTRO + "\x00"], "validation-error"), ("courses", ["\ufeff" + INTRO], "validation-error"),
    ("courses", ["c" * 256], "validation-error"),
    ("courses", ["course-v1:"], "invalid-course-ids"), ("courses", ["not a key"], "invalid-course-ids"),
    ("courses", [INTRO, BETA_INTRO], "invalid-course-ids"), ("courses", f"{INTRO},{BETA_INTRO}", "invalid-course-ids"),
    ("courses", ["course-v1:alpha+Nope+2026"], "invalid-course-ids"),
    ("auto_enroll", "yes", "validation-error"), ("auto_enroll", 1, "validation-error"),
    ("auto_enroll", [], "validation-error"), ("email_learners", "1", "validation-error"),
    ("email_learners", {}, "validation-error"), ("email_students", 0, "validation-error"),
    ("mode", 1, "validation-error"), ("mode", [], "validation-error"), ("mode", "", "validation-error"),
    ("mode", "audit\x00", "validation-error"), ("mode", "m" * 101, "validation-error"),
    ("mode", "honor", "validation-error"), ("mode", "AUDIT", "validation-error"),
], ids=lambda value: repr(value)[:24])
def test_a_hostile_enrollment_field_is_a_400_naming_it_and_changes_nothing(
        alpha, alpha_admin, courses, field, value, error_code):
    before = written()
    body = enrollment_body(**{"identifiers": ["ada", "dee@example.com"], "courses": [INTRO, DATA], field: value})
    response = send(alpha_admin, alpha, "POST", ENROLLMENTS, json.dumps(body))
    assert_refused(response, 400, error_code, "email_learners" if field == "email_students" else field)
    assert_json_answer(response, before, succeeded=())


@pytest.mark.parametrize("raw,field,error_code", [
    ('{"action": "enroll", "identifiers": ["%s"], "courses": ["%s"]}' % (LONE_SURROGATE, INTRO), "identifiers[0]",
     "malformed-request"),
    ('{"action": "enroll", "identifiers": ["ada"], "courses": ["x%s"]}' % LONE_SURROGATE, "courses[0]",
     "malformed-request"),
    ('{"action": "enroll", "identifiers": ["ada"], "courses": ["%s"], "mode": "%s"}' % (INTRO, LONE_SURROGATE),
     "mode", "malformed-request"),
    ('{"action": "enroll", "identifiers": ["ada"], "courses": ["%s"], "%s": 1}' % (INTRO, LONE_SURROGATE),
     "\\ud800", "malformed-request"),
    ('{"action": "enroll", "identifiers": [1e99999], "courses": ["%s"]}' % INTRO, "identifiers", "validation-error"),
    ('{"action": "enroll", "identifiers": [1E400], "courses": ["%s"]}' % INTRO, "identifiers", "validation-error"),
    ('{"action": "enroll", "identifiers": [%s], "courses": ["%s"]}' % ("9" * 5000, INTRO), None,
     "malformed-request"),
    ('{"action": "enroll", "identifiers": [NaN], "courses": ["%s"]}' % INTRO, None, "malformed-request"),
    ('{"action": "enroll", "identifiers": [-Infinity], "courses": ["%s"]}' % INTRO, None, "malformed-request"),
    ('{"action": 1e99999, "identifiers": ["ada"], "courses": ["%s"]}' % INTRO, "action", "validation-error"),
    ('{"action": "enroll", "identifiers": ["ada"], "courses": %s}' % ("[" * 40 + "]" * 40), "non_field_errors",
     "malformed-request"),
    ("[]", "non_field_errors", "validation-error"),
    ('"enroll"', "non_field_errors", "validation-error"),
    ("null", "non_field_errors", "validation-error"),
    ("1e99999", "non_field_errors", "validation-error"),
    ("{", None, "malformed-request"),
    ('{"action": "enroll"} trailing', None, "malformed-request"),
    ("", "identifiers", "validation-error"),
    ("{}", "courses", "validation-error"),
], ids=lambda value: value[:30] if isinstance(value, str) else value)
def test_an_enrollment_body_that_cannot_be_used_is_a_400_and_changes_nothing(
        alpha, alpha_admin, courses, raw, field, error_code):
    before = written()
    response = send(alpha_admin, alpha, "POST", ENROLLMENTS, raw)
    assert_refused(response, 400, error_code, field)
    assert_json_answer(response, before, succeeded=())


@pytest.mark.parametrize("media_type,body", [
    ("application/x-www-form-urlencoded", f"action=enroll&identifiers=ada&courses={quote(INTRO)}"),
    ("multipart/form-data; boundary=x", "--x--"),
    ("text/csv", "identifier,course\nada,%s\n" % INTRO),
    ("text/plain", json.dumps(enrollment_body())),
    ("application/xml", "<enroll/>"),
])
def test_an_enrollment_body_that_is_not_json_is_a_415(alpha, alpha_admin, courses, media_type, body):
    before = written()
    assert_refused(send(alpha_admin, alpha, "POST", ENROLLMENTS, body, media_type), 415, "unsupported-media-type")
    assert written() == before


def test_an_enrollment_body_in_another_charset_is_a_415_naming_it(alpha, alpha_admin, courses):
    before = written()
    response = send(alpha_admin, alpha, "POST", ENROLLMENTS, json.dumps(enrollment_body()),
                    "application/json; charset=utf-16")
    assert_refused(response, 415, "unsupported-media-type", "Content-Type")
    assert written() == before


def test_an_enrollment_body_over_the_bulk_size_limit_is_a_413(alpha, alpha_admin, courses, settings):
    settings.TAHOE_REGISTRATION_API_BULK_MAX_BODY_BYTES = 4096
    before = written()
    body = json.dumps(enrollment_body(identifiers=["ada"], padding="x" * 5000))
    assert_refused(send(alpha_admin, alpha, "POST", ENROLLMENTS, body), 413, "request-too-large")
    assert written() == before


def test_a_mode_of_one_course_but_not_the_other_refuses_the_whole_call(alpha, alpha_admin, courses):
    from devlms.models import CourseMode  # pylint: disable=import-outside-toplevel

    CourseMode.objects.create(course_id=INTRO, mode_slug="honor", mode_display_name="Honor")
    before = written()
    response = send(alpha_admin, alpha, "POST", ENROLLMENTS, json.dumps(enrollment_body(
        identifiers=["ada", "dee@example.com"], courses=[INTRO, DATA], mode="honor")))
    answer = assert_refused(response, 400, "validation-error", "mode")
    assert DATA in answer["field_errors"]["mode"]["developer_message"]
    assert written() == before


@pytest.mark.parametrize("key", ["\x00", "é", "a" * 256, ""])
def test_a_malformed_idempotency_key_on_an_enrollment_call_is_a_400_naming_it(alpha, alpha_admin, courses, key):
    before = written()
    response = send(alpha_admin, alpha, "POST", ENROLLMENTS, json.dumps(enrollment_body()), HTTP_IDEMPOTENCY_KEY=key)
    assert_refused(response, 400, "validation-error", "Idempotency-Key")
    assert written() == before


def test_a_refused_enrollment_body_keeps_nothing_for_its_idempotency_key(alpha, alpha_admin, courses):
    before = written()
    refused = send(alpha_admin, alpha, "POST", ENROLLMENTS, json.dumps(enrollment_body(action="junk")),
                   HTTP_IDEMPOTENCY_KEY="cohort-1")
    assert_refused(refused, 400, "validation-error", "action")
    assert written() == before
    made = send(alpha_admin, alpha, "POST", ENROLLMENTS, json.dumps(enrollment_body()), HTTP_IDEMPOTENCY_KEY="cohort-1")
    assert made.status_code == 200 and "Idempotent-Replayed" not in made


@pytest.mark.parametrize("value", ["maybe", "", "%00", "yes"])
def test_a_dry_run_that_is_no_boolean_is_a_400_naming_it(alpha, alpha_admin, courses, value):
    before = written()
    response = send(alpha_admin, alpha, "POST", f"{ENROLLMENTS}?dry_run={value}", json.dumps(enrollment_body()))
    assert_refused(response, 400, "validation-error", "dry_run")
    assert written() == before


@pytest.mark.parametrize("endpoint", [SINGLE, SINGLE_V2])
@pytest.mark.parametrize("field,value,error_code", [
    ("courses", 1, "validation-error"), ("courses", {INTRO: 1}, "validation-error"),
    ("courses", [1], "validation-error"), ("courses", [None], "validation-error"),
    ("courses", [[INTRO]], "validation-error"), ("courses", [INTRO + "\x00"], "validation-error"),
    ("courses", ["c" * 256], "validation-error"), ("courses", ["course-v1:"], "invalid-course-ids"),
    ("courses", [INTRO] * 21, "validation-error"), ("courses", "not;keys", "invalid-course-ids"),
    ("courses", [BETA_INTRO], "invalid-course-ids"), ("courses", f"{INTRO};{BETA_INTRO}", "invalid-course-ids"),
    ("mode", 1, "validation-error"), ("mode", ["audit"], "validation-error"), ("mode", "audit\x00", "validation-error"),
    ("mode", "m" * 101, "validation-error"), ("mode", "honor", "validation-error"),
], ids=lambda value: repr(value)[:24])
def test_a_registration_with_hostile_courses_or_mode_is_a_400_naming_it_and_registers_no_one(
        alpha, alpha_admin, courses, endpoint, field, value, error_code):
    body = learner_body(**{"courses": [INTRO], field: value})
    before = written()
    response = send(alpha_admin, alpha, "POST", endpoint, json.dumps(body))
    assert_refused(response, 400, error_code, field)
    assert_json_answer(response, before, succeeded=())


def test_a_registration_with_a_mode_and_no_courses_is_a_400_naming_mode(alpha, alpha_admin, courses):
    before = written()
    response = send(alpha_admin, alpha, "POST", SINGLE, json.dumps(learner_body(mode="audit")))
    assert_refused(response, 400, "validation-error", "mode")
    assert written() == before


def test_a_lone_surrogate_in_a_registrations_courses_is_a_400_naming_it(alpha, alpha_admin, courses):
    before = written()
    body = '{%s, "courses": ["%s", "x%s"]}' % (ADA, INTRO, LONE_SURROGATE)
    assert_refused(send(alpha_admin, alpha, "POST", SINGLE, body), 400, "malformed-request", "courses[1]")
    assert written() == before


# 10. The site's learners --------------------------------------------------------------------------

def patch_learner(caller, site, user_id, raw, query="", **extra):
    """PATCH learner ``user_id`` of ``site`` with the raw body ``raw``."""
    return send(caller, site, "PATCH", f"{learner_url(user_id)}{query}", raw, **extra)


def ada_id():
    """The id of alpha's learner ada (the ``courses`` fixture's)."""
    return get_user_model().objects.get(username="ada").pk


@pytest.mark.parametrize("query,field", [
    ("email=%00", "email"), ("email=" + "e" * 256, "email"), ("email=a%0Ab", "email"),
    ("username=" + "u" * 256, "username"), ("username=%1B", "username"),
    ("include_admins=maybe", "include_admins"), ("include_admins=%00", "include_admins"),
    ("include_admins=true", "include_admins"),  # not platform staff
], ids=lambda value: value[:24])
def test_a_hostile_learner_filter_is_a_400_naming_it(alpha, alpha_admin, courses, query, field):
    answer = assert_refused(get_list(alpha_admin, alpha, LEARNERS, query), 400, "validation-error", field)
    assert list(answer["field_errors"]) == [field]


@pytest.mark.parametrize("query,count", [
    ("email=ADA%40EXAMPLE.COM", 1), ("email=%25", 0), ("email=_da%40example.com", 0), ("username=%ff%fe", 0),
    ("username=stranger", 0), ("email=stranger%40example.com", 0), ("include_admins=false&username=ada", 1),
    ("email=ada%40example.com&email=x", 0), ("page=last", 1), ("unknown=%00", 1),
])
def test_well_formed_odd_learner_queries_answer_a_page(alpha, alpha_admin, courses, query, count):
    response = get_list(alpha_admin, alpha, LEARNERS, query)
    assert response.status_code == 200, response.content
    assert response.json()["count"] == count


@pytest.mark.parametrize("segment,error_code", [
    ("0", "learner-not-found"), (str(2**63), "learner-not-found"), ("9" * 300, "learner-not-found"),
    ("-1", "not-found"), ("%D9%A1", "not-found"), ("1.5", "not-found"), ("ada", "not-found"), ("%00", "not-found"),
    ("1%2F", "not-found"), ("..", "not-found"),
], ids=lambda value: value[:24])
@pytest.mark.parametrize("method", ["GET", "PATCH"])
def test_a_learner_path_that_names_no_learner_of_the_site_is_a_json_404(alpha, alpha_admin, courses, segment,
                                                                        error_code, method):
    before = written()
    response = send(alpha_admin, alpha, method, learner_url(segment), json.dumps({"name": "Mallory"}))
    assert_refused(response, 404, error_code)
    assert written() == before


@pytest.mark.parametrize("field,value", [
    ("name", None), ("name", ""), ("name", " "), ("name", 1), ("name", ["Ada"]), ("name", {"first": "Ada"}),
    ("name", "Ada\x00"), ("name", "Ada\x1b"), ("name", "<script>"), ("name", "http://evil.example"),
    ("name", "N" * 256), ("email", None), ("email", ""), ("email", 1), ("email", "ada"), ("email", "a@b\u200b.com"),
    ("email", "ada\x00@example.com"), ("email", "e" * 245 + "@example.com"), ("email", ["ada@example.com"]),
    ("language", None), ("language", ""), ("language", "xx"), ("language", "l" * 17), ("language", "fr\x00"),
    ("language", ["fr"]), ("disabled", None), ("disabled", "yes"), ("disabled", 1), ("disabled", 0),
    ("disabled", []), ("disabled", "maybe"), ("username", "ada"), ("username", None),
], ids=lambda value: repr(value)[:24])
def test_a_hostile_learner_field_is_a_400_naming_it_and_changes_nothing(alpha, alpha_admin, courses, field, value):
    before = written()
    response = patch_learner(alpha_admin, alpha, ada_id(), json.dumps({field: value, "name": "Ada"} if field != "name"
                                                                      else {field: value}))
    answer = assert_refused(response, 400, "validation-error", field)
    assert list(answer["field_errors"]) == [field]
    assert_json_answer(response, before, succeeded=())


@pytest.mark.parametrize("raw,field,error_code", [
    ('{"name": "x%s"}' % LONE_SURROGATE, "name", "malformed-request"),
    ('{"%s": 1}' % LONE_SURROGATE, "\\ud800", "malformed-request"),
    ('{"name": %s}' % ("[" * 40 + "]" * 40), "non_field_errors", "malformed-request"),
    ('{"disabled": NaN}', None, "malformed-request"),
    ('{"name": "Ada"} trailing', None, "malformed-request"),
    ("{", None, "malformed-request"),
    ("[]", "non_field_errors", "validation-error"),
    ('"Ada"', "non_field_errors", "validation-error"),
    ("null", "non_field_errors", "validation-error"),
    ("1e99999", "non_field_errors", "validation-error"),
], ids=lambda value: value[:30] if isinstance(value, str) else value)
def test_a_learner_change_that_cannot_be_used_is_a_400_and_changes_nothing(alpha, alpha_admin, courses, raw, field,
                                                                           error_code):
    before = written()
    response = patch_learner(alpha_admin, alpha, ada_id(), raw)
    assert_refused(response, 400, error_code, field)
    assert_json_answer(response, before, succeeded=())


@pytest.mark.parametrize("raw", ["", "{}", '{"shoe_size": 44, "learners": [1]}'])
def test_a_learner_change_naming_nothing_to_change_changes_nothing_and_answers_the_learner(
        alpha, alpha_admin, courses, raw):
    before = written()
    response = patch_learner(alpha_admin, alpha, ada_id(), raw)
    assert response.status_code == 200 and response.json()["username"] == "ada"
    assert written() == before


@pytest.mark.parametrize("media_type,body", [
    ("application/x-www-form-urlencoded", "name=Mallory"),
    ("multipart/form-data; boundary=x", "--x--"),
    ("text/plain", '{"name": "Mallory"}'),
    ("application/json; charset=utf-16", '{"name": "Mallory"}'),
])
def test_a_learner_change_that_is_not_utf_8_json_is_a_415(alpha, alpha_admin, courses, media_type, body):
    before = written()
    assert_refused(send(alpha_admin, alpha, "PATCH", learner_url(ada_id()), body, media_type), 415,
                   "unsupported-media-type")
    assert written() == before


@pytest.mark.parametrize("key", ["\x00", "é", "a" * 256, ""])
def test_a_malformed_idempotency_key_on_a_learner_change_is_a_400_naming_it(alpha, alpha_admin, courses, key):
    before = written()
    response = patch_learner(alpha_admin, alpha, ada_id(), '{"name": "Ada"}', HTTP_IDEMPOTENCY_KEY=key)
    assert list(assert_refused(response, 400, "validation-error", "Idempotency-Key")["field_errors"]) == [
        "Idempotency-Key"]
    assert written() == before


@pytest.mark.parametrize("value", ["maybe", "", "%00", "yes"])
def test_a_learner_change_whose_dry_run_is_no_boolean_is_a_400_naming_it(alpha, alpha_admin, courses, value):
    before = written()
    response = patch_learner(alpha_admin, alpha, ada_id(), '{"name": "Ada"}', query=f"?dry_run={value}")
    assert_refused(response, 400, "validation-error", "dry_run")
    assert written() == before


def test_a_learner_change_over_the_size_limit_is_a_413(alpha, alpha_admin, courses, settings):
    settings.TAHOE_REGISTRATION_API_MAX_BODY_BYTES = 1024
    before = written()
    response = patch_learner(alpha_admin, alpha, ada_id(), json.dumps({"name": "Ada", "padding": "x" * 2000}))
    assert_refused(response, 413, "request-too-large")
    assert written() == before


def test_a_refused_learner_change_keeps_nothing_but_its_answer_for_its_key(alpha, alpha_admin, courses):
    before = written()
    refused = patch_learner(alpha_admin, alpha, ada_id(), '{"username": "x"}', HTTP_IDEMPOTENCY_KEY="fix-1")
    assert_refused(refused, 400, "validation-error", "username")
    assert_json_answer(refused, before, succeeded=(), kept_for_key=True)
    again = patch_learner(alpha_admin, alpha, ada_id(), '{"username": "x"}', HTTP_IDEMPOTENCY_KEY="fix-1")
    assert again["Idempotent-Replayed"] == "true" and again.json() == refused.json()
