"""Inside the LMS: ``POST /tahoe/api/v1/registrations/<user_id>/resend/`` sends the platform's email again."""

import pytest
from django.core import mail
from django.test import override_settings

from conftest import PASSWORD, learner_body, links


def resend(caller, site, user_id, version="v1"):
    """POST an empty body to the resend URL of ``user_id`` on ``site``."""
    return caller.request("POST", site, path=f"/tahoe/api/{version}/registrations/{user_id}/resend/")


def registered(caller, site, **body):
    """Register a learner; return its id, the outbox emptied."""
    response = caller.register(site, learner_body(**body))
    assert response.status_code == 200, response.content
    mail.outbox = []
    return response.json()["user_id"]


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize("body, email, link", [
    ({}, "password-reset", "http://alpha.localhost/password_reset_confirm/"),
    ({"password": PASSWORD}, "activation", "http://alpha.localhost/activate/"),
])
def test_a_learner_waiting_for_an_email_gets_the_sites_email_again(  # pylint: disable=too-many-arguments
    alpha, alpha_admin, version, body, email, link
):
    user_id = registered(alpha_admin, alpha, **body)
    response = resend(alpha_admin, alpha, user_id, version)
    assert response.status_code == 202, response.content
    assert response.json() == {"user_id": user_id, "email": email}
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["alex.userton@example.com"]
    assert "Alpha Academy" in mail.outbox[0].subject
    assert any(found.startswith(link) for found in links(mail.outbox[0].body))


def test_an_active_learner_with_a_password_has_nothing_to_resend(alpha, alpha_admin):
    user_id = registered(alpha_admin, alpha, password=PASSWORD, send_activation_email=False)
    response = resend(alpha_admin, alpha, user_id)
    assert (response.status_code, response.json()["error_code"]) == (409, "nothing-to-send")
    assert mail.outbox == []


def test_a_learner_of_another_site_or_no_one_is_the_same_404(alpha, beta, alpha_admin, beta_admin):
    elsewhere = registered(beta_admin, beta)
    answers = [resend(alpha_admin, alpha, user_id) for user_id in (elsewhere, 987654, alpha_admin.user.id)]
    assert [response.status_code for response in answers] == [404, 404, 404]
    assert {response.json()["user_message"] for response in answers} == {"There is no such learner on this site."}
    assert mail.outbox == []


@override_settings(TAHOE_REGISTRATION_API_RATE="3/m")
def test_registrations_dry_runs_and_resends_share_the_callers_rate(alpha, alpha_admin):
    user_id = registered(alpha_admin, alpha)
    dry = alpha_admin.register(alpha, learner_body(username="dry", email="dry@example.com"),
                               url="/tahoe/api/v1/registrations/?dry_run=true")
    assert dry.status_code == 200
    assert resend(alpha_admin, alpha, user_id).status_code == 202
    refused = resend(alpha_admin, alpha, user_id)
    assert (refused.status_code, refused.json()["error_code"]) == (429, "rate-limited")
    assert int(refused["Retry-After"]) > 0
