"""``POST /tahoe/api/v1/registrations/<user_id>/resend/``: the email a learner is still waiting for, again."""

import json
import logging

import pytest
from django.core import mail
from django.test import TestCase

from tests.conftest import learner_body, make_user

PASSWORD = "Str0ng-enough-pw"


def resend(caller, site, user_id, version="v1", **extra):
    """POST an empty body to the resend URL of ``user_id``."""
    url = f"/tahoe/api/{version}/registrations/{user_id}/resend/"
    with TestCase.captureOnCommitCallbacks(execute=True):  # the email is queued at the commit
        return caller.client.post(url, HTTP_HOST=site.domain, **extra)


def registered(caller, site, **body):
    """Register a learner; return its id, the outbox emptied."""
    response = caller.register(site, learner_body(**body))
    assert response.status_code == 200, response.content
    mail.outbox.clear()
    return response.json()["user_id"]


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_a_passwordless_learner_gets_the_set_password_email_again(alpha, alpha_admin, version):
    user_id = registered(alpha_admin, alpha)
    response = resend(alpha_admin, alpha, user_id, version)
    assert response.status_code == 202, response.content
    assert response.json() == {"user_id": user_id, "email": "password-reset"}
    assert [message.subject for message in mail.outbox] == ["Password reset"]
    assert mail.outbox[0].to == ["alex.userton@example.com"]


def test_an_inactive_learner_with_a_password_gets_the_activation_email_again(alpha, alpha_admin):
    user_id = registered(alpha_admin, alpha, password=PASSWORD)
    response = resend(alpha_admin, alpha, user_id)
    assert response.status_code == 202
    assert response.json() == {"user_id": user_id, "email": "activation"}
    assert [message.subject for message in mail.outbox] == ["Action Required: Activate your account"]


def test_an_active_learner_with_a_password_is_a_409_nothing_to_send(alpha, alpha_admin):
    user_id = registered(alpha_admin, alpha, password=PASSWORD, send_activation_email=False)
    response = resend(alpha_admin, alpha, user_id)
    assert response.status_code == 409
    assert response.json()["error_code"] == "nothing-to-send"
    assert mail.outbox == []


def test_the_same_404_for_a_learner_elsewhere_an_admin_and_an_id_that_does_not_exist(
    alpha, beta, alpha_admin, beta_admin
):
    elsewhere = registered(beta_admin, beta)
    answers = [resend(alpha_admin, alpha, user_id) for user_id in (elsewhere, alpha_admin.user.id, 999999)]
    assert {response.status_code for response in answers} == {404}
    bodies = [{key: value for key, value in response.json().items() if key != "developer_message"}
              for response in answers]
    assert bodies[0] == bodies[1] == bodies[2]
    assert bodies[0]["error_code"] == "learner-not-found"
    assert mail.outbox == []


def test_only_an_admin_of_the_site_may_resend(alpha, alpha_admin, alpha_learner, anonymous):
    user_id = registered(alpha_admin, alpha)
    assert resend(alpha_learner, alpha, user_id).status_code == 403
    assert resend(anonymous, alpha, user_id).status_code == 401
    assert mail.outbox == []


def test_a_resend_counts_against_the_rate_limit(alpha, alpha_admin, settings):
    settings.TAHOE_REGISTRATION_API_RATE = "2/m"
    user_id = registered(alpha_admin, alpha)
    assert resend(alpha_admin, alpha, user_id).status_code == 202
    assert resend(alpha_admin, alpha, user_id).status_code == 429


def test_a_resend_is_audited(alpha, alpha_admin, caplog):
    user_id = registered(alpha_admin, alpha)
    member = make_user("member", alpha)
    with caplog.at_level(logging.INFO, logger="tahoe_registration_api.audit"):
        resend(alpha_admin, alpha, user_id)
        resend(alpha_admin, alpha, member.id + 1000)
    records = [json.loads(record.getMessage().split(" ", 1)[1]) for record in caplog.records
               if record.getMessage().startswith("registration_attempt")]
    assert [(r["action"], r["status"], r["outcome"], r["learner_id"]) for r in records] == [
        ("resend", 202, "email-queued", user_id), ("resend", 404, "refused", None)]
