"""Every row of the contract (../shared/docs/contract.md, docs/reference/rest_api.rst), through the whole LMS."""

import logging

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import override_settings
from openedx.core.djangoapps.site_configuration.models import SiteConfiguration
from tahoe_sites.models import UserOrganizationMapping

from conftest import PASSWORD, REGISTRATIONS_URL, Caller, learner_body, make_user
from rows import row_counts

User = get_user_model()
ACTIVATION_SUBJECT = "Action Required: Activate your Alpha Academy account"
RESET_SUBJECT = "Password reset on Alpha Academy"


def assert_error(response, status, error_code):
    """The answer is the Open edX error object, in JSON, with this status and code."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["error_code"] == error_code
    assert {"user_message", "developer_message", "field_errors"} <= set(body)
    return body


# Request body -------------------------------------------------------------------------------

def test_every_missing_required_field_is_named_at_once(alpha, alpha_admin):
    """username, email and name are required: a 400 names all three, and nothing is written."""
    before = row_counts()
    body = assert_error(alpha_admin.register(alpha, {}), 400, "validation-error")
    assert set(body["field_errors"]) == {"username", "email", "name"}
    assert row_counts() == before


@pytest.mark.parametrize("field, value", [("username", 7), ("email", ["a@b.c"]), ("name", {"x": 1}),
                                          ("password", 1234)])
def test_a_wrong_json_type_is_a_400_naming_the_field(alpha, alpha_admin, field, value):
    """Strings must be JSON strings."""
    body = assert_error(alpha_admin.register(alpha, learner_body(**{field: value})), 400, "validation-error")
    assert list(body["field_errors"]) == [field]


def test_the_username_is_unique_platform_wide_case_insensitively(alpha, beta, alpha_admin, beta_admin):
    """A username taken on alpha, in another case, is a 409 on beta."""
    assert alpha_admin.register(alpha, learner_body()).status_code == 200
    body = assert_error(beta_admin.register(beta, learner_body(username="AUserton", email="other@example.com")),
                        409, "duplicate-username")
    assert list(body["field_errors"]) == ["username"]


def test_the_email_is_unique_on_the_site_case_insensitively(alpha, alpha_admin):
    """The same email in another case on the same site is a 409."""
    assert alpha_admin.register(alpha, learner_body()).status_code == 200
    assert_error(alpha_admin.register(alpha, learner_body(username="other", email="Alex.Userton@Example.com")),
                 409, "duplicate-email")


def test_upstream_open_edx_refuses_an_email_used_on_another_site(alpha, beta, alpha_admin, beta_admin):
    """The platform enforces emails platform-wide: the same email on beta is a 409 too."""
    assert alpha_admin.register(alpha, learner_body()).status_code == 200
    before = row_counts()
    assert_error(beta_admin.register(beta, learner_body(username="other")), 409, "duplicate-email")
    assert row_counts() == before


def test_both_taken_is_one_409_naming_both(alpha, alpha_admin):
    """Username and email both taken: ``duplicate-email-username`` naming both."""
    assert alpha_admin.register(alpha, learner_body()).status_code == 200
    body = assert_error(alpha_admin.register(alpha, learner_body()), 409, "duplicate-email-username")
    assert set(body["field_errors"]) == {"username", "email"}


@pytest.mark.parametrize("password", ["short", "auserton1", "x" * 80])
def test_the_lms_password_policy_applies_to_a_given_password(alpha, alpha_admin, password):
    """The LMS's AUTH_PASSWORD_VALIDATORS refuse weak passwords: a 400 naming ``password``."""
    before = row_counts()
    body = assert_error(alpha_admin.register(alpha, learner_body(password=password)), 400, "validation-error")
    assert list(body["field_errors"]) == ["password"]
    assert row_counts() == before


@pytest.mark.parametrize("value, active", [(True, False), ("true", False), ("TRUE", False),
                                           (False, True), ("false", True), ("False", True)])
def test_booleans_and_their_strings_in_any_case(alpha, alpha_admin, value, active):
    """``send_activation_email`` takes JSON booleans and "true"/"false" in any case."""
    response = alpha_admin.register(alpha, learner_body(password=PASSWORD, send_activation_email=value))
    assert response.status_code == 200, response.content
    assert User.objects.get(id=response.json()["user_id"]).is_active is active


@pytest.mark.parametrize("value", ["yes", 1, "", None])
def test_any_other_boolean_is_a_400_naming_the_field(alpha, alpha_admin, value):
    """Anything else is a 400 naming ``send_activation_email``."""
    body = {**learner_body(password=PASSWORD), "send_activation_email": value}
    error = assert_error(alpha_admin.register(alpha, body), 400, "validation-error")
    assert list(error["field_errors"]) == ["send_activation_email"]


def test_unknown_fields_are_ignored(alpha, alpha_admin):
    """``title``, ``department``, ``company``: neither stored nor an error."""
    response = alpha_admin.register(alpha, learner_body(title="CTO", department="R&D", company="ACME"))
    assert response.status_code == 200
    profile = User.objects.get(id=response.json()["user_id"]).profile
    assert "CTO" not in (profile.meta or "") and "ACME" not in (profile.meta or "")


@override_settings(REGISTRATION_EXTRA_FIELDS={"terms_of_service": "required", "honor_code": "required"})
def test_terms_and_honor_code_are_accepted_on_the_learners_behalf(alpha, alpha_admin):
    """Where the LMS requires both agreements, the caller need not send them."""
    assert alpha_admin.register(alpha, learner_body()).status_code == 200


# What happens to the learner ----------------------------------------------------------------

def test_with_a_password_the_learner_gets_the_activation_email_and_is_inactive(alpha, alpha_admin):
    """Password, flag absent: the LMS's activation email; inactive until the link is followed."""
    response = alpha_admin.register(alpha, learner_body(password=PASSWORD))
    assert not User.objects.get(id=response.json()["user_id"]).is_active
    assert [message.subject for message in mail.outbox] == [ACTIVATION_SUBJECT]


def test_with_a_password_and_the_flag_false_no_email_and_active(alpha, alpha_admin):
    """Password, flag false: no email; active, and the password logs in."""
    response = alpha_admin.register(alpha, learner_body(password=PASSWORD, send_activation_email=False))
    user = User.objects.get(id=response.json()["user_id"])
    assert user.is_active and user.check_password(PASSWORD)
    assert mail.outbox == []


@pytest.mark.parametrize("flag", [None, True, "true", False])
def test_without_a_password_the_set_password_email_whatever_the_flag(alpha, alpha_admin, flag):
    """No password: the flag is forced false, the reset email goes out, the learner is inactive."""
    response = alpha_admin.register(alpha, learner_body(send_activation_email=flag))
    assert response.status_code == 200
    user = User.objects.get(id=response.json()["user_id"])
    assert not user.is_active
    assert [message.subject for message in mail.outbox] == [RESET_SUBJECT]


def test_a_failed_email_keeps_the_account_answers_200_and_logs_the_learner(alpha, alpha_admin, monkeypatch, caplog):
    """The email cannot be sent: the account stays, the answer is 200, the failure is logged."""
    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("SMTP down")

    monkeypatch.setattr("edx_ace.ace.send", refuse)
    caplog.set_level(logging.ERROR, logger="tahoe_registration_api.api")
    response = alpha_admin.register(alpha, learner_body())
    assert response.status_code == 200
    user_id = response.json()["user_id"]
    assert User.objects.filter(id=user_id).exists()
    assert any(f"email of learner {user_id} failed" in record.getMessage() for record in caplog.records)


# Responses ----------------------------------------------------------------------------------

def test_200_is_exactly_user_id_and_the_learner_joins_the_organization(alpha, alpha_admin):
    """``{"user_id": N}`` (no trailing space); the learner is a non-admin member of alpha's organization."""
    response = alpha_admin.register(alpha, learner_body())
    assert response.status_code == 200
    assert list(response.json()) == ["user_id"]
    mapping = UserOrganizationMapping.objects.get(user_id=response.json()["user_id"])
    assert mapping.organization == alpha.organization and not mapping.is_admin


def test_401_without_credentials(alpha, anonymous):
    """No credentials: 401 (never 403) with ``WWW-Authenticate: Token``."""
    response = anonymous.register(alpha, learner_body())
    assert_error(response, 401, "not-authenticated")
    assert response["WWW-Authenticate"] == "Token"


def test_401_for_invalid_credentials(alpha):
    """An unknown token: 401."""
    assert_error(Caller(authorization="Token not-a-token").register(alpha, learner_body()), 401,
                 "authentication-failed")


def test_401_for_the_token_of_an_inactive_admin(alpha):
    """An admin whose account was deactivated: 401."""
    caller = Caller(make_user("alpha_admin", alpha, is_admin=True))
    User.objects.filter(username="alpha_admin").update(is_active=False)
    assert_error(caller.register(alpha, learner_body()), 401, "authentication-failed")


def test_403_for_a_learner_of_the_site(alpha, alpha_learner):
    """Authenticated but no admin: 403, nothing written."""
    before = row_counts()
    assert_error(alpha_learner.register(alpha, learner_body()), 403, "not-site-admin")
    assert row_counts() == before


def test_403_for_the_admin_of_another_site(alpha, beta, beta_admin):
    """A token of beta never creates users on alpha."""
    before = row_counts()
    assert_error(beta_admin.register(alpha, learner_body()), 403, "not-site-admin")
    assert row_counts() == before


def test_403_for_platform_staff_who_are_not_site_admins(alpha):
    """Staff and superusers are no site admins (TAHOE_REGISTRATION_API_ALLOW_STAFF is off)."""
    staff = Caller(make_user("staff", is_staff=True, is_superuser=True))
    assert_error(staff.register(alpha, learner_body()), 403, "not-site-admin")


def test_403_where_the_site_switched_the_api_off(alpha, alpha_admin):
    """The site's configuration value turns the API off for that site only."""
    SiteConfiguration.objects.filter(site=alpha.site).update(
        site_values={**alpha.configuration.site_values, "TAHOE_REGISTRATION_API_ENABLED": False})
    assert_error(alpha_admin.register(alpha, learner_body()), 403, "registration-api-disabled")


@override_settings(TAHOE_REGISTRATION_API_RATE="2/m")
def test_429_over_the_rate_with_retry_after(alpha, alpha_admin):
    """The third call in a minute at 2/m: 429 with ``Retry-After``."""
    for index in range(2):
        alpha_admin.register(alpha, learner_body(username=f"l{index}", email=f"l{index}@example.com"))
    response = alpha_admin.register(alpha, learner_body())
    assert_error(response, 429, "rate-limited")
    assert int(response["Retry-After"]) > 0


def test_404_under_the_prefix_is_json(alpha, alpha_admin):
    """An unknown path under ``/tahoe/api/`` is a JSON 404, not the LMS's HTML page."""
    response = alpha_admin.request("POST", alpha, path="/tahoe/api/v1/nothing-here/")
    assert_error(response, 404, "not-found")


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_other_methods_are_a_json_405(alpha, alpha_admin, method):
    """Only POST: anything else is a JSON 405."""
    assert_error(alpha_admin.request(method, alpha), 405, "method-not-allowed")


def test_an_unexpected_error_is_a_json_500_and_writes_nothing(alpha, alpha_admin, monkeypatch):
    """A failure inside the platform's account creation: a JSON 500, no row left, no detail leaked."""
    def explode(*args, **kwargs):
        raise RuntimeError("secret-detail")

    monkeypatch.setattr("common.djangoapps.student.models.Registration.save", explode)
    before = row_counts()
    body = assert_error(alpha_admin.register(alpha, learner_body()), 500, "internal-error")
    assert "secret-detail" not in str(body)
    assert row_counts() == before
    assert mail.outbox == []


def test_the_endpoint_is_mounted_by_the_lms_under_its_namespace():
    """The LMS's URLconf reverses the plugin's route."""
    from django.urls import reverse  # pylint: disable=import-outside-toplevel

    assert reverse("tahoe-api:registrations") == REGISTRATIONS_URL


def test_a_site_switch_flip_applies_once_the_plugins_cache_expires(alpha, alpha_admin, settings):
    """Switching the API off in the site's configuration applies after TAHOE_REGISTRATION_API_CACHE_TIMEOUT."""
    assert alpha_admin.register(alpha, learner_body()).status_code == 200
    configuration = SiteConfiguration.objects.get(site=alpha.site)
    configuration.site_values["TAHOE_REGISTRATION_API_ENABLED"] = False
    configuration.save()
    from django.core.cache import cache  # pylint: disable=import-outside-toplevel

    cache.clear()  # what the timeout does; the LMS's own Site objects stay cached meanwhile
    body = learner_body(username="later", email="later@example.com")
    assert_error(alpha_admin.register(alpha, body), 403, "registration-api-disabled")
