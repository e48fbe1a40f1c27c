"""
Hostile input never breaks an endpoint: every answer is JSON, a success or a 4xx error object, never a 5xx.

The single endpoint first, then every endpoint (v1 and v2 registrations, bulk, jobs with JSON and
CSV bodies, resend, a job's status and results, the courses, a course, the enrollments and an
enrollment call, the learners, a learner and a learner's change, the token page) with lone
surrogates, control characters, deep nesting, odd charsets, odd headers, odd query parameters and
paths, and huge fields; a refused call writes nothing.
"""

import io
import json
import re
import string
import uuid
from urllib.parse import quote, quote_from_bytes

import pytest
from django.contrib.auth import get_user_model
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from tahoe_sites.models import UserOrganizationMapping

from tahoe_registration_api.learner_input import parse_course_key
from tahoe_registration_api.models import WebhookEndpoint
from tests.conftest import learner_body, make_user
from tests.hostile import (
    BETA_INTRO,
    COURSE,
    COURSES,
    CSRF,
    DATA,
    ENROLLMENTS,
    INTRO,
    JOBS,
    JSON_BODY_ENDPOINTS,
    LEARNERS,
    LISTS,
    SINGLE,
    SINGLE_V2,
    TOKEN_CHANGES,
    TOKEN_PAGE,
    WEBHOOK_CHANGES,
    assert_json_answer,
    assert_refused,
    browser,
    course_url,
    learner_url,
    resend_url,
    seed_both,
    send,
    written,
)

ALLOWED = {200, 400, 409, 413, 415}
FIELDS = ["username", "email", "name", "password", "send_activation_email"]
HYPOTHESIS = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)

weird_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp"]), max_size=10),  # control, zero-width
    st.text(alphabet="аеорсхАВЕКМНОРСТХ" + string.ascii_letters, min_size=1, max_size=20),  # homoglyphs
    st.sampled_from(["", " ", "\u200b", "\x00", "a\u200bb", "Ａｌｅｘ", "ǅ", "ß", "İ", "\ud7ff", "true", "False"]),
    st.text(min_size=5000, max_size=6000),  # huge
)
json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | weird_text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)
bodies = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), json_value, max_size=7)


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):
    """Hundreds of examples per test: the rate limits are tested elsewhere."""
    settings.TAHOE_REGISTRATION_API_RATE = None
    settings.TAHOE_REGISTRATION_API_BULK_RATE = None
    settings.TAHOE_REGISTRATION_API_BULK_LEARNER_RATE = None


def post_raw(caller, site, payload, content_type):
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        return caller.client.generic("POST", "/tahoe/api/v1/registrations/", payload,
                                     content_type=content_type, HTTP_HOST=site.domain)


def assert_json_and_allowed(response):
    assert response.status_code in ALLOWED, (response.status_code, response.content[:300])
    body = response.json()
    if response.status_code == 200:
        assert set(body) == {"user_id"}
    else:
        assert body["error_code"] and isinstance(body["field_errors"], dict)


@HYPOTHESIS
@given(body=bodies)
def test_random_json_bodies(alpha, alpha_admin, body):
    assert_json_and_allowed(post_raw(alpha_admin, alpha, json.dumps(body), "application/json"))


@HYPOTHESIS
@given(username=weird_text, email=weird_text, name=weird_text, password=st.none() | weird_text)
def test_random_strings_in_every_field(alpha, alpha_admin, username, email, name, password):
    body = learner_body(username=username, email=email, name=name, password=password)
    assert_json_and_allowed(post_raw(alpha_admin, alpha, json.dumps(body), "application/json"))


CONTENT_TYPES = ["application/json", "application/x-www-form-urlencoded", "text/plain", "multipart/form-data",
                 "application/xml", "", "application/json; charset=latin-1"]


@HYPOTHESIS
@given(payload=st.binary(max_size=300), content_type=st.sampled_from(CONTENT_TYPES))
def test_random_bytes_and_content_types(alpha, alpha_admin, payload, content_type):
    assert_json_and_allowed(post_raw(alpha_admin, alpha, payload, content_type))


@HYPOTHESIS
@given(local=st.text(alphabet=string.ascii_letters + string.digits + "._-", min_size=1, max_size=20),
       flips=st.lists(st.booleans(), min_size=1, max_size=40))
def test_emails_differing_only_in_case_never_both_register_on_one_site(alpha, alpha_admin, local, flips):
    assume(local[0] not in "._-" and local[-1] not in "._-" and ".." not in local)
    email = f"{local}@Example.com"
    variant = "".join(c.upper() if flip else c.lower() for c, flip in zip(email, flips + [False] * len(email)))
    assume(variant != email)
    users = get_user_model().objects
    first = post_raw(alpha_admin, alpha, json.dumps(learner_body(username=f"u{users.count()}a", email=email)),
                     "application/json")
    second = post_raw(alpha_admin, alpha, json.dumps(learner_body(username=f"u{users.count()}b", email=variant)),
                      "application/json")
    assert_json_and_allowed(first)
    assert second.status_code == 409 or first.status_code != 200
    members = UserOrganizationMapping.objects.filter(organization=alpha.organization, user__email__iexact=email)
    assert members.count() <= 1


@HYPOTHESIS
@given(username=st.text(alphabet=st.characters(categories=["L", "N", "M", "Pc", "Pd"]), min_size=2, max_size=30),
       unicode_allowed=st.booleans())
def test_unicode_usernames_with_and_without_the_platform_setting(alpha, alpha_admin, username, unicode_allowed):
    from django.conf import settings as django_settings
    from django.test import override_settings

    with override_settings(FEATURES={**django_settings.FEATURES, "ENABLE_UNICODE_USERNAME": unicode_allowed}):
        response = post_raw(alpha_admin, alpha, json.dumps(learner_body(
            username=username, email=f"x{get_user_model().objects.count()}@example.com")), "application/json")
    assert_json_and_allowed(response)
    if response.status_code == 200 and not unicode_allowed:
        assert username.isascii()


def test_an_empty_body(alpha, alpha_admin):
    response = post_raw(alpha_admin, alpha, b"", "application/json")
    assert response.status_code == 400
    assert set(response.json()["field_errors"]) == {"username", "email", "name"}


# Every endpoint ---------------------------------------------------------------------------------

EVERY_ENDPOINT = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
lone_surrogates = st.text(alphabet=st.characters(categories=["Cs"]), min_size=1, max_size=3)
hostile_text = st.one_of(
    weird_text,
    lone_surrogates,
    st.tuples(st.text(max_size=5), lone_surrogates, st.text(max_size=5)).map("".join),
    st.text(alphabet=st.characters(categories=["Cc"]), min_size=1, max_size=5),
)
hostile_value = st.recursive(
    st.none() | st.booleans() | st.integers() | hostile_text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(hostile_text, children, max_size=3),
    max_leaves=6,
)
learner_fields = st.dictionaries(st.sampled_from(FIELDS + ["ref", "language"]) | hostile_text, hostile_value,
                                 max_size=7)
hostile_bodies = st.one_of(
    learner_fields,
    st.fixed_dictionaries({"learners": st.lists(learner_fields, min_size=1, max_size=3)}),
    hostile_value,
)
POST_ENDPOINTS = [*JSON_BODY_ENDPOINTS, resend_url(1), resend_url(1, "v2")]
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND", "post"]
latin_1_text = st.text(alphabet=st.characters(max_codepoint=0xFF), max_size=300)


def as_read(body):
    """What the server reads of ``json.dumps(body)``: an escaped surrogate pair is the one character it encodes."""
    return json.loads(json.dumps(body))


def holds_lone_surrogate(value):
    """Whether any key or string of ``value`` holds a surrogate."""
    return re.search("[\ud800-\udfff]", json.dumps(value, ensure_ascii=False)) is not None


def site_admin(site):
    """The admin of ``site`` (alpha_admin), created by the first example that needs one."""
    return get_user_model().objects.filter(username="alpha_admin").first() or make_user(
        "alpha_admin", site, is_admin=True)


@EVERY_ENDPOINT
@given(endpoint=st.sampled_from(JSON_BODY_ENDPOINTS), body=hostile_bodies)
def test_a_json_body_with_a_lone_surrogate_anywhere_is_refused_before_anything_runs(
        alpha, alpha_admin, endpoint, body):
    before = written()
    response = send(alpha_admin, alpha, "POST", endpoint, json.dumps(body))
    answer = assert_json_answer(response, before)
    if holds_lone_surrogate(as_read(body)):
        assert_refused(response, 400, "malformed-request")
        assert answer["field_errors"]
        assert all("lone surrogate" in error["user_message"] for error in answer["field_errors"].values())
    else:
        assert answer.get("error_code") != "malformed-request", answer


@EVERY_ENDPOINT
@given(endpoint=st.sampled_from(JSON_BODY_ENDPOINTS),
       depth=st.integers(min_value=1, max_value=3000),
       where=st.sampled_from(["body", "learners", "a learner's field"]))
def test_a_json_body_nested_deeper_than_32_levels_is_refused(alpha, alpha_admin, endpoint, depth, where):
    nested = "[" * depth + "]" * depth
    body, total = {
        "body": (nested, depth),
        "learners": ('{"learners": %s}' % nested, depth + 1),
        "a learner's field": ('{"learners": [{"username": "ada", "email": "ada@example.com", "name": "Ada", '
                              '"extra": %s}], "extra": %s}' % (nested, nested), depth + 3),
    }[where]
    before = written()
    response = send(alpha_admin, alpha, "POST", endpoint, body)
    answer = assert_json_answer(response, before)
    if total > 32:
        assert_refused(response, 400, "malformed-request", "non_field_errors")
        assert answer["developer_message"] == "The body is nested more than 32 levels deep."
    else:
        assert answer.get("error_code") != "malformed-request", answer


FORM_UTF_8_SPELLINGS = ["utf-8", "UTF-8", "Utf-8", '"utf-8"']  # as Django 5.1+ reads a form
UTF_8_SPELLINGS = FORM_UTF_8_SPELLINGS + ["utf8", "utf_8", "utf-8-sig", "us-ascii", "ascii"]
OTHER_CHARSETS = ["rot13", "zlib", "zlib_codec", "base64", "hex", "bz2", "uu", "quopri", "utf-16", "utf-16-le",
                  "utf-32", "latin-1", "iso-8859-1", "cp1252", "cp037", "idna", "punycode", "unicode_escape",
                  "raw_unicode_escape", "utf-7", "undefined", "", "bogus", "x" * 300]


def reads(media_type, charset):
    """Whether a body of ``media_type`` in ``charset`` is read (a form's is the one spelling Django 5.1+ reads)."""
    return charset in (FORM_UTF_8_SPELLINGS if media_type.startswith("application/x-www-form-urlencoded")
                       else UTF_8_SPELLINGS)


CHARSET_BODIES = {
    "application/json": json.dumps(learner_body()).encode(),
    "application/x-www-form-urlencoded": b"username=auserton&email=alex.userton%40example.com&name=Alex",
    "text/csv": b"username,email,name\nauserton,alex.userton@example.com,Alex\n",
}


@EVERY_ENDPOINT
@given(endpoint=st.sampled_from(POST_ENDPOINTS), media_type=st.sampled_from(sorted(CHARSET_BODIES)),
       charset=st.sampled_from(UTF_8_SPELLINGS + OTHER_CHARSETS)
       | st.text(alphabet=string.ascii_letters + string.digits + "-_.", max_size=20).map("x-{}".format))
def test_only_utf_8_bodies_are_read(alpha, alpha_admin, endpoint, media_type, charset):
    before = written()
    response = send(alpha_admin, alpha, "POST", endpoint, CHARSET_BODIES[media_type],
                    f"{media_type}; charset={charset}")
    answer = assert_json_answer(response, before)
    if reads(media_type, charset):
        assert "Content-Type" not in answer.get("field_errors", {}), answer  # a 415 is the media type's, if any
    else:
        assert_refused(response, 415, "unsupported-media-type", "Content-Type")


form_values = st.one_of(
    st.binary(max_size=30),
    st.text(alphabet="%0123456789abcdefXYZ", max_size=12),  # percent-escapes, broken or not
    st.sampled_from([b"%ED%A0%80", b"%ff%fe", b"%00", b"%", b"%zz", b"\xc3\x28", b"\xed\xa0\x80"]),
    st.integers(min_value=0, max_value=20000).map(lambda size: b"x" * size),
)


def form_body(pairs):
    """A form-encoded body of (name, value) pairs, joined as they are: broken escapes stay broken."""
    return b"&".join(name + b"=" + (value.encode() if isinstance(value, str) else value) for name, value in pairs)


@EVERY_ENDPOINT
@given(endpoint=st.sampled_from([SINGLE, SINGLE_V2]),
       pairs=st.lists(st.tuples(st.sampled_from([b"username", b"email", b"name", b"password", b"%ff", b""])
                                | st.binary(max_size=8), form_values), max_size=8),
       too_many_fields=st.booleans())
def test_any_form_encoded_body(alpha, alpha_admin, endpoint, pairs, too_many_fields):
    body = form_body(pairs + [(b"f", b"1")] * (1001 if too_many_fields else 0))
    before = written()
    response = send(alpha_admin, alpha, "POST", endpoint, body, "application/x-www-form-urlencoded")
    answer = assert_json_answer(response, before)
    if response.status_code == 413:
        assert len(body) > 16384
    elif too_many_fields:
        assert_refused(response, 400, "bad-request")
    elif response.status_code == 400:
        assert answer["field_errors"], answer


csv_cells = st.one_of(
    st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=12),
    st.sampled_from(["=cmd|' /C calc'!A0", "+1", "-1", "@SUM(A1)", "\tx", "\x00", "\ufeff", '"', 'a"b', "\r", "\n",
                     "x" * 140000]),
)


@EVERY_ENDPOINT
@given(header=st.sampled_from(["username,email,name", "username,email,name,ref,password", "name,email", ""]),
       rows=st.lists(st.tuples(st.lists(csv_cells, max_size=5),
                               st.sampled_from([b"", b"\xff", b"\xef\xbb\xbf", b"\x00", b"\xed\xa0\x80", b"\xc3"])),
                     max_size=4),
       bom=st.booleans(), endings=st.lists(st.sampled_from([b"\n", b"\r\n", b"\r"]), min_size=1, max_size=3))
def test_any_csv_job(alpha, alpha_admin, header, rows, bom, endings):
    lines = [header.encode()] + [",".join(cells).encode("utf-8") + raw for cells, raw in rows]
    body = (b"\xef\xbb\xbf" if bom else b"") + b"".join(
        line + endings[index % len(endings)] for index, line in enumerate(lines))
    before = written()
    response = send(alpha_admin, alpha, "POST", JOBS, body, "text/csv")
    answer = assert_json_answer(response, before)
    if response.status_code == 202:
        job_url = f"{JOBS}{answer['job_id']}/"
        assert send(alpha_admin, alpha, "GET", job_url).json()["status"] == "done"
        results = send(alpha_admin, alpha, "GET", f"{job_url}results/")
        assert results.status_code == 200 and results["Content-Type"] == "text/csv; charset=utf-8"
        b"".join(results.streaming_content).decode("utf-8")
    else:
        assert answer["error_code"] == "invalid-file", answer


@EVERY_ENDPOINT
@given(user_id=st.integers(min_value=0) | st.integers(min_value=2**31 - 2, max_value=10**40),
       version=st.sampled_from(["v1", "v2"]))
def test_a_resend_for_any_id_that_is_no_learner_of_the_site_is_a_404(alpha, alpha_admin, user_id, version):
    before = written()
    response = send(alpha_admin, alpha, "POST", resend_url(user_id, version))
    assert_json_answer(response, before, succeeded=())
    assert_refused(response, 404, "learner-not-found")


@EVERY_ENDPOINT
@given(segment=st.text(min_size=1, max_size=50) | st.uuids().map(str) | st.integers().map(str),
       template=st.sampled_from([resend_url("{}"), resend_url("{}", "v2"), f"{JOBS}{{}}/", f"{JOBS}{{}}/results/"]))
def test_any_path_segment_is_a_json_404(alpha, alpha_admin, segment, template):
    before = written()
    response = send(alpha_admin, alpha, "POST" if "resend" in template else "GET",
                    template.format(quote(segment, safe="")))
    answer = assert_json_answer(response, before, succeeded=())
    assert response.status_code == 404
    assert answer["error_code"] in ("not-found", "learner-not-found", "job-not-found")


@EVERY_ENDPOINT
@given(endpoint=st.sampled_from(POST_ENDPOINTS + [f"{JOBS}{uuid.uuid4()}/", f"{JOBS}{uuid.uuid4()}/results/",
                                                  COURSES, COURSE, LEARNERS, learner_url(1)]),
       method=st.sampled_from(METHODS), accept=st.none() | latin_1_text, key=st.none() | latin_1_text,
       request_id=st.none() | latin_1_text)
def test_any_method_and_headers(alpha, alpha_admin, endpoint, method, accept, key, request_id):
    headers = {name: value for name, value in (("HTTP_ACCEPT", accept), ("HTTP_IDEMPOTENCY_KEY", key),
                                               ("HTTP_X_REQUEST_ID", request_id)) if value is not None}
    well_formed_key = key is not None and re.fullmatch(r"[\x20-\x7e]{1,255}", key)
    before = written()
    response = send(alpha_admin, alpha, method, endpoint, json.dumps({"learners": [learner_body()]}), **headers)
    assert response.status_code < 500 and response["Content-Type"] == "application/json", response.status_code
    if method != "HEAD":
        answer = assert_json_answer(response, before, kept_for_key=bool(well_formed_key))
        if answer.get("error_code") == "validation-error" and not well_formed_key and key is not None:
            assert "Idempotency-Key" in answer["field_errors"], answer
    assert response["X-Request-ID"] == request_id or re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


@EVERY_ENDPOINT
@given(endpoint=st.sampled_from(POST_ENDPOINTS), media_type=st.sampled_from(["application/json", "text/csv"]),
       body=st.binary(max_size=200), declared=st.sampled_from(["", "0", "-5", "abc", "1e3", "99999999999999999999"])
       | st.integers(min_value=0, max_value=2**21).map(str))
def test_any_declared_length(alpha, alpha_admin, endpoint, media_type, body, declared):
    """The server hands over at most the bytes it has, as a WSGI server does: a length that lies is a 4xx."""
    before = written()
    response = send(alpha_admin, alpha, "POST", endpoint, b"", media_type, CONTENT_TYPE=media_type,
                    CONTENT_LENGTH=declared, **{"wsgi.input": io.BytesIO(body)})
    assert_json_answer(response, before)


@EVERY_ENDPOINT
@given(page=st.binary(max_size=40) | st.sampled_from([b"0", b"-1", b"1e309", b"nan", b"9" * 5000, b"%ff"]))
def test_the_token_page_with_any_page_number(alpha, page):
    response = browser(site_admin(alpha)).get(TOKEN_PAGE, HTTP_HOST=alpha.domain,
                                              QUERY_STRING="page=" + quote_from_bytes(page))
    assert response.status_code == 200, response.status_code


@EVERY_ENDPOINT
@given(path=st.sampled_from([*TOKEN_CHANGES, *WEBHOOK_CHANGES, TOKEN_PAGE]),
       media_type=st.sampled_from(["application/x-www-form-urlencoded", "multipart/form-data",
                                   "multipart/form-data; boundary=x", "application/json", "text/plain", ""]),
       charset=st.none() | st.sampled_from(UTF_8_SPELLINGS + OTHER_CHARSETS),
       csrf=st.booleans(), extra=st.binary(max_size=100), oversized=st.booleans())
def test_the_token_page_with_any_post(alpha, path, media_type, charset, csrf, extra, oversized):
    admin = site_admin(alpha)
    tokens = list(Token.objects.values_list("key", flat=True))
    webhooks = sorted(WebhookEndpoint.objects.values_list("pk", "url", "events", "secret", "enabled"))
    padding = b"x" * (3 * 1024 * 1024 if oversized else 0)
    token_field = CSRF.encode() if csrf else b""
    if "boundary=x" in media_type:
        body = (b'--x\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n' + token_field
                + b"\r\n--x\r\n" + extra + padding + b"\r\n--x--\r\n")
    else:
        body = b"csrfmiddlewaretoken=" + token_field + b"&" + extra + padding
    content_type = media_type + (f"; charset={charset}" if charset is not None else "")
    response = browser(admin).generic("POST", path, body, content_type=content_type, HTTP_HOST=alpha.domain)
    assert response.status_code < 500, response.status_code
    if response.status_code != 200:
        assert list(Token.objects.values_list("key", flat=True)) == tokens
        assert sorted(WebhookEndpoint.objects.values_list("pk", "url", "events", "secret", "enabled")) == webhooks
    if path == TOKEN_PAGE:
        assert response.status_code == 405
    else:
        assert (response.status_code == 415) == (charset is not None and not reads(media_type, charset))


# The site's courses and its enrollments ---------------------------------------------------------

@pytest.fixture
def courses(alpha, beta):
    """Each site's two courses; a learner of alpha (ada) and one of beta (stranger)."""
    make_user("ada", alpha)
    make_user("stranger", beta)
    return seed_both(alpha, beta)


identifiers = st.one_of(
    st.sampled_from(["ada", "ADA", "ada@example.com", " ada ", "dee@example.com", "stranger", "stranger@example.com",
                     "nobody", "0", "1", "9" * 19, "9" * 40, "a@b", "@", "ada,dee@example.com"]),
    st.integers(), hostile_text, hostile_value,
)
course_keys = st.one_of(
    st.sampled_from([INTRO, DATA, BETA_INTRO, "course-v1:alpha+Nope+2026", "course-v1:", "not a key", INTRO.upper(),
                     f" {INTRO} ", f"{INTRO};{DATA}", "alpha/Intro/2026", "c" * 300]),
    hostile_text, hostile_value,
)
enrollment_bodies = st.one_of(
    st.fixed_dictionaries({
        "action": st.sampled_from(["enroll", "unenroll"]) | hostile_value,
        "identifiers": st.lists(identifiers, max_size=4) | identifiers,
        "courses": st.lists(course_keys, max_size=3) | course_keys,
    }, optional={
        "auto_enroll": st.booleans() | hostile_value,
        "email_learners": st.booleans() | hostile_value,
        "email_students": st.booleans() | hostile_value,
        "mode": st.sampled_from([None, "audit", "verified", "honor"]) | hostile_value,
        "learners": hostile_value,
    }),
    st.dictionaries(st.sampled_from(["action", "identifiers", "courses", "mode"]) | hostile_text, hostile_value,
                    max_size=6),
    hostile_value,
)
RESULT_SHAPES = ({"identifier", "before", "after"}, {"identifier", "invalidIdentifier"}, {"identifier", "error"})
STATE = {"user", "enrollment", "allowed", "auto_enroll"}


def assert_enrollment_answer(answer, dry_run):
    """Assert the shape of an enrollment call's 200: the platform's bulk enroll API's, plus the API's own keys."""
    assert set(answer) == {"action", "auto_enroll", "email_students", "email_learners", "mode", "courses"} | (
        {"dry_run"} if dry_run else set())
    for key, course in answer["courses"].items():
        assert key in (INTRO, DATA) and set(course) == {"action", "auto_enroll", "results"}
        for result in course["results"]:
            assert set(result) in RESULT_SHAPES, result
            if "before" in result:
                assert set(result["before"]) == set(result["after"]) == STATE


@EVERY_ENDPOINT
@given(body=enrollment_bodies, query=st.sampled_from(["", "?dry_run=true", "?dry_run=0", "?dry_run=maybe"]),
       key=st.none() | st.sampled_from(["cohort-1", "cohort-2"]))
def test_any_enrollment_body(alpha, alpha_admin, courses, body, query, key):
    before = written()
    extra = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    response = send(alpha_admin, alpha, "POST", f"{ENROLLMENTS}{query}", json.dumps(body), **extra)
    answer = assert_json_answer(response, before, succeeded=(200,), kept_for_key=key is not None)
    assert response.status_code in (200, 400, 413, 422), response.status_code
    if response.status_code == 200 and response.get("Idempotent-Replayed") != "true":
        assert_enrollment_answer(answer, dry_run=query == "?dry_run=true")
        if query == "?dry_run=true":
            assert written() == before
    elif response.status_code == 400:
        assert answer["field_errors"], answer


query_names = st.sampled_from(["page", "page_size", "org", "number", "display_name", "course_id", "user_id",
                               "username", "is_active", "dry_run", "email", "include_admins"]) | st.text(max_size=5)
query_values = st.one_of(
    st.binary(max_size=30),
    st.sampled_from([b"-1", b"0", b"1", b"2", b"abc", b"last", b"1e9999", b"99999999999999999999", b"\x00", b"maybe",
                     b"true", b"FALSE", b"9" * 400, b"\xd9\xa1", INTRO.encode(), BETA_INTRO.encode(), b"alpha", b"ada",
                     b"%", b"_", b"", b"ada@example.com", b"ADA"]),
    st.integers(min_value=-10**30, max_value=10**30).map(lambda number: str(number).encode()),
)


@EVERY_ENDPOINT
@given(url=st.sampled_from(LISTS), params=st.lists(st.tuples(query_names, query_values), max_size=4))
def test_any_query_on_the_lists(alpha, alpha_admin, courses, url, params):
    query = "&".join(f"{quote(name, safe='')}={quote_from_bytes(value, safe='')}" for name, value in params)
    before = written()
    response = send(alpha_admin, alpha, "GET", url, QUERY_STRING=query)
    answer = assert_json_answer(response, before, succeeded=(200,))
    assert response.status_code in (200, 400, 404), response.status_code
    if response.status_code == 200:
        assert set(answer) == {"count", "next", "previous", "results"}
    elif response.status_code == 400:
        assert answer["field_errors"] and set(answer["field_errors"]) <= {name for name, _ in params}, answer
    else:
        assert answer["error_code"] == "not-found" and "page" in {name for name, _ in params}, answer


@EVERY_ENDPOINT
@given(segment=st.one_of(
    st.text(alphabet=st.characters(exclude_categories=["Cs"]), min_size=1, max_size=300),
    st.sampled_from([INTRO, DATA, BETA_INTRO, "course-v1:", INTRO.upper(), f"{INTRO}\x00", f" {INTRO}", "x" * 6000,
                     "course-v1:alpha/Intro/2026", f"{INTRO}/", "..", "%2F"]),
    st.builds("{}{}{}".format, st.sampled_from(["course-v1:", "course-v1:alpha+", ""]),
              st.text(max_size=20).filter(lambda text: not re.search("[\ud800-\udfff]", text)),
              st.sampled_from(["", "+2026", "+Intro+2026"])),
))
def test_any_course_path_segment(alpha, alpha_admin, courses, segment):
    before = written()
    response = send(alpha_admin, alpha, "GET", course_url(quote(segment, safe="")))
    answer = assert_json_answer(response, before, succeeded=(200,))
    if "/" in segment or not segment:  # an escaped slash is a slash to the URL resolver: no route
        assert_refused(response, 404, "not-found")
    elif parse_course_key(segment) in (INTRO, DATA):
        assert response.status_code == 200 and answer["id"] == parse_course_key(segment)
    else:
        assert_refused(response, 404, "course-not-found")


@EVERY_ENDPOINT
@given(segment=st.binary(min_size=1, max_size=60))
def test_any_bytes_in_a_course_path_are_a_json_answer(alpha, alpha_admin, courses, segment):
    before = written()
    response = send(alpha_admin, alpha, "GET", course_url(quote_from_bytes(segment, safe="")))
    assert_json_answer(response, before, succeeded=(200,))
    assert response.status_code in (200, 404)


# The site's learners ------------------------------------------------------------------------------

LEARNER_FIELDS = {"user_id", "username", "email", "name", "is_active", "disabled", "language", "date_joined"}
learner_changes = st.one_of(
    st.fixed_dictionaries({}, optional={
        "name": st.sampled_from(["Ada Lovelace", "Ada Byron", "<b>Ada</b>", "Ada\u200dL", " "]) | hostile_value,
        "email": st.sampled_from(["ada@example.com", "ADA@example.com", "lovelace@example.com", "stranger@example.com",
                                  "not an email", "e" * 250 + "@x.com"]) | hostile_value,
        "language": st.sampled_from(["en", "fr", "es-419", "xx", "EN", None]) | hostile_value,
        "disabled": st.sampled_from([True, False, "true", "FALSE", "yes", None, 0]) | hostile_value,
        "username": hostile_value,
    }),
    st.dictionaries(st.sampled_from(["name", "email", "language", "disabled", "username"]) | hostile_text,
                    hostile_value, max_size=5),
    hostile_value,
)


@EVERY_ENDPOINT
@given(body=learner_changes, query=st.sampled_from(["", "?dry_run=true", "?dry_run=0", "?dry_run=maybe"]),
       key=st.none() | st.sampled_from(["fix-1", "fix-2"]))
def test_any_learner_change(alpha, alpha_admin, courses, body, query, key):
    ada = get_user_model().objects.get(username="ada")
    before = written()
    extra = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    response = send(alpha_admin, alpha, "PATCH", f"{learner_url(ada.pk)}{query}", json.dumps(body), **extra)
    answer = assert_json_answer(response, before, succeeded=(200,), kept_for_key=key is not None)
    assert response.status_code in (200, 400, 409, 422), response.status_code
    if response.status_code == 200 and response.get("Idempotent-Replayed") != "true":
        assert set(answer) == LEARNER_FIELDS | ({"dry_run"} if query == "?dry_run=true" else set())
        assert answer["user_id"] == ada.pk and answer["username"] == "ada"
        if query == "?dry_run=true":
            assert written() == before
    elif response.status_code == 400:
        assert answer["field_errors"], answer
    elif response.status_code == 409:
        assert answer["error_code"] in ("duplicate-email", "idempotency-key-in-flight"), answer


@EVERY_ENDPOINT
@given(segment=st.text(min_size=1, max_size=50) | st.integers().map(str) | st.binary(min_size=1, max_size=30),
       method=st.sampled_from(["GET", "PATCH"]))
def test_any_learner_path_segment(alpha, alpha_admin, courses, segment, method):
    ada = get_user_model().objects.get(username="ada")
    path = learner_url(quote_from_bytes(segment, safe="") if isinstance(segment, bytes) else quote(segment, safe=""))
    before = written()
    response = send(alpha_admin, alpha, method, path, json.dumps({"name": "Mallory"}))
    answer = assert_json_answer(response, before, succeeded=(200,))
    if response.status_code == 200:
        assert answer["user_id"] == ada.pk and path == learner_url(ada.pk)
        assert method == "GET" or answer["name"] == "Mallory"
    else:
        assert_refused(response, 404, answer["error_code"])
        assert answer["error_code"] in ("not-found", "learner-not-found")
