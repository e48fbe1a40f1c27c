"""Input limits: body size, the platform's field lengths, names and control characters, with field errors."""

import json
from urllib.parse import quote

import pytest
from django.test import RequestFactory

from tahoe_registration_api.exceptions import RequestTooLarge
from tahoe_registration_api.rest_api.parsers import enforce_body_limit
from tests.conftest import learner_body, make_user
from tests.hostile import COURSES, ENROLLMENTS, LEARNERS, enrollment_body, learner_url, seed_both, send, written
from tests.rows import row_counts


def assert_field_error(response, field):
    assert response.status_code == 400, response.content
    assert field in response.json()["field_errors"]


def test_a_body_over_the_limit_is_a_json_413(alpha, alpha_admin, settings):
    settings.TAHOE_REGISTRATION_API_MAX_BODY_BYTES = 1024
    before = row_counts()
    response = alpha_admin.register(alpha, learner_body(padding="x" * 2000))
    assert response.status_code == 413
    assert response.json()["error_code"] == "request-too-large"
    assert row_counts() == before


def test_a_body_without_a_declared_length_is_never_read(alpha, alpha_admin, settings):
    """DRF reads a body only as far as its declared length: none declared, nothing read, nothing large."""
    settings.TAHOE_REGISTRATION_API_MAX_BODY_BYTES = 1024
    payload = json.dumps(learner_body(padding="x" * 2000)).encode()
    response = alpha_admin.client.generic("POST", "/tahoe/api/v1/registrations/", payload,
                                          content_type="application/json", HTTP_HOST=alpha.domain,
                                          CONTENT_LENGTH="")
    assert response.status_code in (400, 413)
    assert response.json()["error_code"] in ("request-too-large", "validation-error")
    assert response.status_code == 400  # the body was not parsed: every required field is missing
    assert set(response.json()["field_errors"]) == {"username", "email", "name"}


def test_a_length_declared_only_in_the_http_content_length_header_is_limited_too(settings):
    """DRF falls back to that header when CONTENT_LENGTH is absent; the limit reads the same one."""
    settings.TAHOE_REGISTRATION_API_MAX_BODY_BYTES = 1024
    request = RequestFactory().post("/tahoe/api/v1/registrations/", data=b"{}", content_type="application/json")
    del request.META["CONTENT_LENGTH"]
    request.META["HTTP_CONTENT_LENGTH"] = "1025"
    with pytest.raises(RequestTooLarge):
        enforce_body_limit(request)
    request.META["HTTP_CONTENT_LENGTH"] = "1024"
    enforce_body_limit(request)  # at the limit: accepted


def test_a_body_just_under_the_limit_is_accepted(alpha, alpha_admin, settings):
    body = learner_body()
    body["padding"] = "x" * (1024 - len(json.dumps({**body, "padding": ""})))
    settings.TAHOE_REGISTRATION_API_MAX_BODY_BYTES = 1024
    assert len(json.dumps(body)) == 1024
    assert alpha_admin.register(alpha, body).status_code == 200


@pytest.mark.parametrize("field,value", [
    ("username", "u" * 31),                   # the platform's USERNAME_MAX_LENGTH (30)
    ("email", "e" * 245 + "@example.com"),   # 257 > 254
    ("name", "N" * 256),                      # auth_userprofile.name is 255
    ("password", "Pw1-" * 1251),              # the platform's 5000
])
def test_lengths_over_the_platforms_columns(alpha, alpha_admin, field, value):
    assert_field_error(alpha_admin.register(alpha, learner_body(**{field: value})), field)


def test_lengths_at_the_platforms_limits_are_accepted(alpha, alpha_admin):
    body = learner_body(username="u" * 30, email="e" * 242 + "@example.com", name="N" * 255)
    assert alpha_admin.register(alpha, body).status_code == 200


def test_the_operators_username_length_applies(alpha, alpha_admin, settings):
    settings.USERNAME_MAX_LENGTH = 40
    assert alpha_admin.register(alpha, learner_body(username="u" * 40)).status_code == 200


@pytest.mark.parametrize("name", ["<b>Alex</b>", "Alex > Bob", "http://example.com", "Alex ftp://x"])
def test_names_the_platform_refuses(alpha, alpha_admin, name):
    assert_field_error(alpha_admin.register(alpha, learner_body(name=name)), "name")


@pytest.mark.parametrize("field", ["username", "email", "name"])
@pytest.mark.parametrize("char", ["\x00", "\x07", "\n", "\x1b", "\x7f", "\x85"])
def test_control_characters_are_refused(alpha, alpha_admin, field, char):
    value = {"username": "aus{}erton", "email": "alex{}@example.com", "name": "Alex{}Userton"}[field].format(char)
    assert_field_error(alpha_admin.register(alpha, learner_body(**{field: value})), field)


@pytest.mark.parametrize("field", ["username", "email"])
@pytest.mark.parametrize("char", ["\u200b", "\u200d", "\u2060", "\ufeff", "\u202e"])
def test_invisible_characters_are_refused_in_identifiers(alpha, alpha_admin, field, char):
    value = {"username": "aus{}erton", "email": "alex{}@example.com"}[field].format(char)
    assert_field_error(alpha_admin.register(alpha, learner_body(**{field: value})), field)


def test_names_may_keep_joiners_some_scripts_need(alpha, alpha_admin):
    assert alpha_admin.register(alpha, learner_body(name="می\u200cخواهم")).status_code == 200


def test_a_nul_in_the_password_is_refused(alpha, alpha_admin):
    assert_field_error(alpha_admin.register(alpha, learner_body(password="Str0ng\x00enough")), "password")


# The enrollment call, its lists' query parameters, and courses at registration --------------------

INTRO, DATA = "course-v1:alpha+Intro+2026", "course-v1:alpha+Data+2026"


@pytest.fixture
def courses(alpha, beta):
    """Each site's two courses and a learner of alpha (ada)."""
    make_user("ada", alpha)
    return seed_both(alpha, beta)


def enroll(caller, site, **overrides):
    """POST an enrollment call: ada and an address of nobody in alpha's Intro course, but for ``overrides``."""
    return send(caller, site, "POST", ENROLLMENTS, json.dumps(enrollment_body(**overrides)))


def test_an_enrollment_body_over_its_limit_is_a_json_413_and_changes_nothing(alpha, alpha_admin, courses, settings):
    settings.TAHOE_REGISTRATION_API_BULK_MAX_BODY_BYTES = 1024
    before = written()
    response = enroll(alpha_admin, alpha, identifiers=[f"learner{index}@example.com" for index in range(60)])
    assert response.status_code == 413 and response.json()["error_code"] == "request-too-large"
    assert written() == before


def test_an_enrollment_body_at_its_limit_is_read(alpha, alpha_admin, courses, settings):
    body = enrollment_body()
    body["padding"] = "x" * (1024 - len(json.dumps({**body, "padding": ""})))
    settings.TAHOE_REGISTRATION_API_BULK_MAX_BODY_BYTES = 1024
    assert len(json.dumps(body)) == 1024
    assert send(alpha_admin, alpha, "POST", ENROLLMENTS, json.dumps(body)).status_code == 200


@pytest.mark.parametrize("identifiers,course_keys,status", [
    (2, 2, 200), (4, 1, 200), (1, 2, 200), (5, 1, 413), (3, 2, 413),
])
def test_identifiers_times_courses_up_to_the_maximum(alpha, alpha_admin, courses, settings, identifiers, course_keys,
                                                     status):
    settings.TAHOE_REGISTRATION_API_ENROLL_MAX = 4
    before = written()
    response = enroll(alpha_admin, alpha, identifiers=[f"l{index}@example.com" for index in range(identifiers)],
                      courses=[INTRO, DATA][:course_keys])
    if status == 413:
        assert response.status_code == 413 and response.json()["error_code"] == "too-many-enrollments"
        assert "identifiers" in response.json()["field_errors"] and written() == before
    else:
        assert response.status_code == 200, response.content


def test_the_maximum_counts_before_the_courses_are_looked_up(alpha, alpha_admin, courses, settings):
    settings.TAHOE_REGISTRATION_API_ENROLL_MAX = 1
    response = enroll(alpha_admin, alpha, identifiers=["ada", "bo"], courses=["not a key"])
    assert response.status_code == 413 and response.json()["error_code"] == "too-many-enrollments"


@pytest.mark.parametrize("field,value,accepted", [
    ("identifiers", ["e" * 242 + "@example.com"], True),  # 254: the longest email
    ("identifiers", ["e" * 243 + "@example.com"], False),
    ("courses", ["course-v1:alpha+" + "N" * 234 + "+2026"], True),  # 255: parsed, then no course of the site
    ("courses", ["course-v1:alpha+" + "N" * 235 + "+2026"], False),
    ("mode", "m" * 100, True),  # 100: read, then no mode of the course
    ("mode", "m" * 101, False),
])
def test_lengths_of_the_enrollment_fields(alpha, alpha_admin, courses, field, value, accepted):
    response = enroll(alpha_admin, alpha, **{field: value})
    assert response.status_code in (200, 400), response.content
    message = response.json().get("field_errors", {}).get(field, {}).get("developer_message", "")
    assert ("longer than" in message) is (not accepted), message


@pytest.mark.parametrize("field", ["identifiers", "courses", "mode"])
@pytest.mark.parametrize("char", ["\x00", "\x07", "\n", "\x1b", "\x7f", "\x85", "\u200b", "\u2060", "\ufeff",
                                  "\u202e"])
def test_control_and_invisible_characters_are_refused_in_enrollment_fields(alpha, alpha_admin, courses, field, char):
    value = {"identifiers": [f"a{char}da"], "courses": [f"{INTRO}{char}"], "mode": f"aud{char}it"}[field]
    before = written()
    assert_field_error(enroll(alpha_admin, alpha, **{field: value}), field)
    assert written() == before


@pytest.mark.parametrize("url,name", [(COURSES, "org"), (COURSES, "number"), (COURSES, "display_name"),
                                      (ENROLLMENTS, "username"), (ENROLLMENTS, "course_id"),
                                      (LEARNERS, "email"), (LEARNERS, "username")])
def test_a_query_parameter_of_at_most_255_characters_is_read_longer_is_a_400(alpha, alpha_admin, courses, url, name):
    value = "course-v1:alpha+" + "N" * 234 + "+2026" if name == "course_id" else "x" * 255
    assert send(alpha_admin, alpha, "GET", url, QUERY_STRING=f"{name}={quote(value)}").status_code == 200
    assert_field_error(send(alpha_admin, alpha, "GET", url, QUERY_STRING=f"{name}={'x' * 256}"), name)


@pytest.mark.parametrize("body,field", [
    ({"courses": [INTRO] * 21}, "courses"),  # COURSES_MAX (20)
    ({"courses": ["course-v1:alpha+" + "N" * 235 + "+2026"]}, "courses"),  # 256 characters
    ({"courses": [INTRO], "mode": "m" * 101}, "mode"),
    ({"courses": [f"{INTRO}\x00"]}, "courses"),
    ({"courses": [INTRO], "mode": "aud\x00it"}, "mode"),
])
def test_limits_of_courses_at_registration(alpha, alpha_admin, courses, body, field):
    before = written()
    assert_field_error(alpha_admin.register(alpha, learner_body(**body)), field)
    assert written() == before


def test_twenty_courses_at_registration_are_read(alpha, alpha_admin, courses):
    response = alpha_admin.register(alpha, learner_body(courses=[INTRO] * 20))
    assert response.status_code == 200, response.content


# A learner's change ------------------------------------------------------------------------------

def change(caller, site, user, **body):
    """PATCH ``user`` of ``site`` with ``body``."""
    return send(caller, site, "PATCH", learner_url(user.pk), json.dumps(body))


@pytest.mark.parametrize("field,value", [
    ("name", "N" * 256),                       # auth_userprofile.name is 255
    ("email", "e" * 245 + "@example.com"),    # 257 > 254
    ("language", "l" * 17),                   # LANGUAGE_MAX_LENGTH (16)
    ("name", "Ada\x00Lovelace"), ("name", "Ada\x1bLovelace"), ("email", "ada\u200b@example.com"),
    ("email", "ada\x7f@example.com"), ("name", "<b>Ada</b>"), ("name", "Ada http://example.com"),
])
def test_a_learners_change_has_the_registrations_limits(alpha, alpha_admin, courses, field, value):
    ada = make_user("ada2", alpha)
    before = written()
    response = change(alpha_admin, alpha, ada, **{field: value})
    assert_field_error(response, field)
    assert list(response.json()["field_errors"]) == [field]
    assert written() == before


def test_a_learners_change_at_the_platforms_limits_is_applied(alpha, alpha_admin, courses):
    ada = make_user("ada2", alpha)
    response = change(alpha_admin, alpha, ada, name="N" * 255, email="e" * 242 + "@example.com")
    assert response.status_code == 200, response.content
    assert (len(response.json()["name"]), len(response.json()["email"])) == (255, 254)


def test_a_learners_change_over_the_body_limit_is_a_413(alpha, alpha_admin, courses, settings):
    settings.TAHOE_REGISTRATION_API_MAX_BODY_BYTES = 512
    ada = make_user("ada2", alpha)
    before = written()
    response = change(alpha_admin, alpha, ada, name="N" * 255, notes="x" * 300)
    assert response.status_code == 413 and response.json()["error_code"] == "request-too-large"
    assert written() == before
