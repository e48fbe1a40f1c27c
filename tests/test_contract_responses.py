"""The contract's responses table, and "all bodies are JSON"."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient
from tahoe_sites.models import UserOrganizationMapping

from tests.conftest import Caller, learner_body, make_user
from tests.rows import row_counts

ERROR_KEYS = {"error_code", "user_message", "developer_message", "field_errors"}


def assert_error_object(response, status, error_code):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body["error_code"] == error_code
    assert body["user_message"] and body["developer_message"]
    return body


def test_200_answers_user_id_exactly(alpha, alpha_admin):
    response = alpha_admin.register(alpha, learner_body())
    assert response.status_code == 200
    body = response.json()
    assert "user_id " not in body  # the original v1's trailing-space key
    assert body == {"user_id": get_user_model().objects.get(username="auserton").id}


def test_200_learner_joins_the_sites_organization_as_a_non_admin(alpha, alpha_admin):
    user_id = alpha_admin.register(alpha, learner_body()).json()["user_id"]
    mapping = UserOrganizationMapping.objects.get(user_id=user_id)
    assert mapping.organization == alpha.organization
    assert mapping.is_admin is False


def test_400_names_every_offending_field(alpha, alpha_admin):
    body = assert_error_object(
        alpha_admin.register(alpha, learner_body(email="not-an-email", username="a b", name="<script>",
                                                 password="Qz7x", send_activation_email="maybe")),
        400, "validation-error",
    )
    assert set(body["field_errors"]) == {"email", "username", "name", "password", "send_activation_email"}
    for details in body["field_errors"].values():
        assert set(details) == {"user_message", "developer_message"}


@pytest.mark.parametrize("name", ["Alex <Userton>", "Alex > Userton", "see https://evil.example.com"])
def test_400_for_names_the_platform_refuses(alpha, alpha_admin, name):
    body = assert_error_object(alpha_admin.register(alpha, learner_body(name=name)), 400, "validation-error")
    assert list(body["field_errors"]) == ["name"]


def test_400_for_a_password_the_policy_refuses(alpha, alpha_admin):
    before = row_counts()
    body = assert_error_object(alpha_admin.register(alpha, learner_body(password="Qz7x")), 400, "validation-error")
    assert list(body["field_errors"]) == ["password"]
    assert "Qz7x" not in str(body)
    assert row_counts() == before


@pytest.mark.parametrize("username", ["a", "x" * 31, "has space", "semi;colon", "ünïcode"])
def test_400_for_usernames_the_platform_refuses(alpha, alpha_admin, username):
    body = assert_error_object(alpha_admin.register(alpha, learner_body(username=username)), 400, "validation-error")
    assert list(body["field_errors"]) == ["username"]


def test_unicode_usernames_when_the_platform_allows_them(alpha, alpha_admin, settings):
    settings.FEATURES = {**settings.FEATURES, "ENABLE_UNICODE_USERNAME": True}
    assert alpha_admin.register(alpha, learner_body(username="ünïcode")).status_code == 200


def test_401_without_credentials(alpha, anonymous):
    response = anonymous.register(alpha, learner_body())
    assert_error_object(response, 401, "not-authenticated")
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("header", ["Token 0123456789abcdef", "Token", "Token a b", "Bearer abc", "Basic Zm9vOmJhcg=="])
def test_401_for_invalid_credentials(alpha, header, db):  # pylint: disable=unused-argument
    caller = Caller()
    caller.client.credentials(HTTP_AUTHORIZATION=header)
    response = caller.register(alpha, learner_body())
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert set(response.json()) == ERROR_KEYS


def test_401_for_the_token_of_an_inactive_admin(alpha):
    caller = Caller(make_user("gone_admin", alpha, is_admin=True, is_active=False))
    assert_error_object(caller.register(alpha, learner_body()), 401, "authentication-failed")


def test_403_for_a_learner_of_the_site(alpha, alpha_learner):
    assert_error_object(alpha_learner.register(alpha, learner_body()), 403, "not-site-admin")
    assert not get_user_model().objects.filter(username="auserton").exists()


def test_403_for_a_user_of_no_site(alpha):
    caller = Caller(make_user("loner"))
    assert_error_object(caller.register(alpha, learner_body()), 403, "not-site-admin")


def test_403_for_staff_and_superusers_who_are_not_site_admins(alpha):
    for caller in (Caller(make_user("staffer", is_staff=True)), Caller(make_user("root", is_superuser=True))):
        assert_error_object(caller.register(alpha, learner_body()), 403, "not-site-admin")


def test_403_for_a_host_that_is_no_tahoe_site(alpha, alpha_admin):  # pylint: disable=unused-argument
    assert_error_object(alpha_admin.register("unknown.localhost", learner_body()), 403, "site-not-found")


def test_409_for_a_username_taken_case_insensitively(alpha, alpha_admin):
    assert alpha_admin.register(alpha, learner_body()).status_code == 200
    before = row_counts()
    body = assert_error_object(
        alpha_admin.register(alpha, learner_body(username="AUserton", email="other@example.com")),
        409, "duplicate-username",
    )
    assert list(body["field_errors"]) == ["username"]
    assert row_counts() == before


def test_409_for_an_email_taken_on_the_site_case_insensitively(alpha, alpha_admin):
    assert alpha_admin.register(alpha, learner_body()).status_code == 200
    body = assert_error_object(
        alpha_admin.register(alpha, learner_body(username="other", email="Alex.USERTON@example.com")),
        409, "duplicate-email",
    )
    assert list(body["field_errors"]) == ["email"]


def test_409_names_both_fields_when_both_are_taken(alpha, alpha_admin):
    assert alpha_admin.register(alpha, learner_body()).status_code == 200
    body = assert_error_object(alpha_admin.register(alpha, learner_body()), 409, "duplicate-email-username")
    assert set(body["field_errors"]) == {"username", "email"}


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_405_in_json_for_any_other_method(alpha, alpha_admin, method):
    response = getattr(alpha_admin.client, method)("/tahoe/api/v1/registrations/", HTTP_HOST=alpha.domain)
    assert_error_object(response, 405, "method-not-allowed")


@pytest.mark.parametrize("path", [
    "/tahoe/api/v1/", "/tahoe/api/v1/nothing/", "/tahoe/api/v2/nothing/", "/tahoe/api/v3/registrations/",
])
def test_404_in_json_under_the_prefix(alpha, alpha_admin, path):
    assert_error_object(alpha_admin.client.post(path, HTTP_HOST=alpha.domain), 404, "not-found")


@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
def test_404_in_json_for_a_browser_like_client_with_csrf_checks(alpha, method):
    client = APIClient(enforce_csrf_checks=True)
    response = getattr(client, method)("/tahoe/api/v9/anything", HTTP_HOST=alpha.domain)
    assert_error_object(response, 404, "not-found")


def test_the_trailing_slash_is_optional(alpha, alpha_admin):
    response = alpha_admin.client.post("/tahoe/api/v1/registrations", learner_body(), format="json",
                                       HTTP_HOST=alpha.domain)
    assert response.status_code == 200


def test_no_session_cookie_is_ever_set_for_the_learner(alpha, alpha_admin):
    response = alpha_admin.register(alpha, learner_body(password="Str0ng-enough-pw", send_activation_email=False))
    assert response.status_code == 200
    assert not response.cookies


def test_an_unexpected_error_is_a_json_500_and_writes_nothing(alpha, alpha_admin, monkeypatch):
    from devlms import fake_platform

    def explode(*args, **kwargs):
        raise RuntimeError("secret-detail")

    monkeypatch.setattr(fake_platform, "create_account", explode)
    before = row_counts()
    body = assert_error_object(alpha_admin.register(alpha, learner_body()), 500, "internal-error")
    assert "secret-detail" not in str(body)
    assert row_counts() == before
