"""Input limits: body size, the platform's field lengths, names and control characters, with field errors."""

import json

import pytest
from django.test import RequestFactory

from tahoe_registration_api.exceptions import RequestTooLarge
from tahoe_registration_api.rest_api.parsers import enforce_body_limit
from tests.conftest import learner_body
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
