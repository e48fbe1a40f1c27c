"""What the LMS itself decides: authentication, retired accounts, closed sign-up, the reset flow."""

import re

import pytest
from common.djangoapps.student.models import get_retired_email_by_email, get_retired_username_by_username
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from conftest import PASSWORD, Caller, learner_body, make_user
from credentials import bearer_authorization, jwt_authorization
from rows import row_counts

User = get_user_model()
AUTHORIZATIONS = {
    "Token": lambda user: None,  # the Caller's default: the user's DRF token
    "JWT": jwt_authorization,
    "Bearer": bearer_authorization,
}


@pytest.mark.parametrize("kind", sorted(AUTHORIZATIONS))
def test_each_documented_credential_of_an_admin_registers(alpha, kind):
    """A Token, a JWT and an OAuth2 bearer token minted by the LMS each register a learner."""
    admin = make_user("alpha_admin", alpha, is_admin=True)
    response = Caller(admin, authorization=AUTHORIZATIONS[kind](admin)).register(alpha, learner_body())
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("kind", sorted(AUTHORIZATIONS))
def test_each_credential_of_a_learner_is_refused(alpha, kind):
    """The same credentials of a learner of the site: 403."""
    learner = make_user("alpha_learner", alpha)
    response = Caller(learner, authorization=AUTHORIZATIONS[kind](learner)).register(alpha, learner_body())
    assert response.status_code == 403


@pytest.mark.parametrize("kind", ["JWT", "Bearer"])
def test_a_deactivated_admins_jwt_or_bearer_token_is_refused(alpha, kind):
    """An admin deactivated after the credential was minted: 401."""
    admin = make_user("alpha_admin", alpha, is_admin=True)
    caller = Caller(admin, authorization=AUTHORIZATIONS[kind](admin))
    User.objects.filter(id=admin.id).update(is_active=False)
    assert caller.register(alpha, learner_body()).status_code == 401


def test_a_signed_in_admin_registers_with_the_session_and_its_csrf_token(alpha):
    """Session authentication, as the LMS's own pages would call it (CSRF enforced)."""
    make_user("alpha_admin", alpha, is_admin=True)
    caller = Caller(authorization="", enforce_csrf_checks=True)
    assert caller.client.login(username="alpha_admin", password=PASSWORD)
    caller.request("GET", alpha, path="/login")
    csrf = caller.client.cookies["csrftoken"].value
    assert caller.register(alpha, learner_body(), HTTP_X_CSRFTOKEN=csrf).status_code == 200


def test_a_learner_whose_email_a_course_pre_enrolled_is_enrolled_when_registered_active(alpha, alpha_admin):
    """The platform enrolls an auto-enroll pre-enrollment on activation, and that enrollment reads the profile."""
    # pylint: disable=import-outside-toplevel
    from common.djangoapps.student.models import CourseEnrollment, CourseEnrollmentAllowed
    from openedx.core.djangoapps.content.course_overviews.tests.factories import CourseOverviewFactory

    course = CourseOverviewFactory(org="alpha", display_number_with_default="PRE1", run="R1")
    CourseEnrollmentAllowed.objects.create(email="pre.enrolled@example.com", course_id=course.id, auto_enroll=True)
    response = alpha_admin.register(alpha, learner_body(
        username="preenrolled", email="pre.enrolled@example.com", password=PASSWORD, send_activation_email=False))
    assert response.status_code == 200, response.content
    learner = get_user_model().objects.get(pk=response.json()["user_id"])
    assert learner.is_active and CourseEnrollment.is_enrolled(learner, course.id)
    assert CourseEnrollmentAllowed.objects.get(email="pre.enrolled@example.com").user == learner


@pytest.mark.parametrize("field", ["username", "email"])
def test_a_retired_username_or_email_is_refused(alpha, alpha_admin, field):
    """An account retired by the LMS keeps its username and email from being used again: 409."""
    gone = make_user("gone", alpha)
    gone.username = get_retired_username_by_username("gone")
    gone.email = get_retired_email_by_email("gone@example.org")
    gone.save()
    before = row_counts()
    body = learner_body(**({"username": "gone"} if field == "username" else {"email": "gone@example.org"}))

    response = alpha_admin.register(alpha, body)

    assert response.status_code == 409, response.content
    assert list(response.json()["field_errors"]) == [field]
    assert row_counts() == before


@pytest.mark.parametrize("where", ["settings", "site"])
def test_registration_works_where_public_sign_up_is_closed(alpha, alpha_admin, where, settings):
    """Invitation is what the API is for: closed public sign-up (LMS-wide or per site) does not stop it."""
    if where == "settings":
        settings.FEATURES = {**settings.FEATURES, "ALLOW_PUBLIC_ACCOUNT_CREATION": False}
    else:
        alpha.configuration.site_values["ALLOW_PUBLIC_ACCOUNT_CREATION"] = False
        alpha.configuration.save()
    platform_answer = Client().post("/api/user/v2/account/registration/", {
        "username": "self", "email": "self@example.com", "name": "Self", "password": PASSWORD,
        "terms_of_service": "true", "honor_code": "true"}, HTTP_HOST=alpha.domain)
    assert platform_answer.status_code == 403  # the premise: the LMS's own sign-up is closed

    response = alpha_admin.register(alpha, learner_body())
    assert response.status_code == 200, response.content


def test_the_reset_link_lets_a_passwordless_learner_in(alpha, alpha_admin):
    """The emailed link opens the LMS's set-password page; the new password activates and logs in."""
    response = alpha_admin.register(alpha, learner_body())
    user_id = response.json()["user_id"]
    assert not User.objects.get(id=user_id).is_active
    (link,) = re.findall(r"http://alpha\.localhost(/password_reset_confirm/\S+?/)\?", mail.outbox[0].body)

    learner = Client()
    page = learner.get(link, HTTP_HOST=alpha.domain, follow=True)
    assert page.status_code == 200
    set_password_path = page.redirect_chain[-1][0] if page.redirect_chain else link
    answer = learner.post(set_password_path, {"new_password1": "N3w-password!x", "new_password2": "N3w-password!x"},
                          HTTP_HOST=alpha.domain)
    assert answer.status_code in (200, 302), answer.content[:300]

    user = User.objects.get(id=user_id)
    assert user.is_active
    assert user.check_password("N3w-password!x")
    assert Client().login(username="auserton", password="N3w-password!x")


def test_a_passwordless_learner_cannot_log_in_before_setting_a_password(alpha, alpha_admin):
    """No password matches the stored value of a learner who never chose one."""
    alpha_admin.register(alpha, learner_body())
    user = User.objects.get(username="auserton")
    assert not any(user.check_password(guess) for guess in ("", PASSWORD, user.password))


def test_the_lms_username_rules_apply(alpha, alpha_admin):
    """A username the LMS refuses (a space, with ENABLE_UNICODE_USERNAME off) is a 400 naming it."""
    response = alpha_admin.register(alpha, learner_body(username="a b"))
    assert response.status_code == 400
    assert "username" in response.json()["field_errors"]
