"""The contract's table "What happens to the learner": the email and the account state."""

import logging

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import transaction

from devlms import fake_platform
from tahoe_registration_api import api
from tahoe_registration_api.data import RegistrationRequest
from tests.conftest import learner_body

PASSWORD = "Str0ng-enough-pw"


def registered_user(response):
    assert response.status_code == 200, response.content
    return get_user_model().objects.get(pk=response.json()["user_id"])


@pytest.mark.parametrize("flag", [None, True, "true", "True"])
def test_password_given_and_flag_absent_or_true_sends_activation_email(alpha, alpha_admin, flag):
    user = registered_user(alpha_admin.register(alpha, learner_body(password=PASSWORD, send_activation_email=flag)))
    assert not user.is_active
    assert [message.subject for message in mail.outbox] == ["Action Required: Activate your account"]
    assert mail.outbox[0].to == ["alex.userton@example.com"]
    assert user.check_password(PASSWORD)


@pytest.mark.parametrize("flag", [False, "false", "False"])
def test_password_given_and_flag_false_sends_nothing_and_is_active(alpha, alpha_admin, flag):
    user = registered_user(alpha_admin.register(alpha, learner_body(password=PASSWORD, send_activation_email=flag)))
    assert user.is_active
    assert mail.outbox == []
    assert user.check_password(PASSWORD)


@pytest.mark.parametrize("flag", [None, True, False, "true", "False"])
def test_password_absent_forces_the_flag_false_and_sends_the_set_password_email(alpha, alpha_admin, flag):
    user = registered_user(alpha_admin.register(alpha, learner_body(send_activation_email=flag)))
    assert not user.is_active
    assert [message.subject for message in mail.outbox] == ["Password reset"]
    assert mail.outbox[0].to == ["alex.userton@example.com"]
    assert "/password_reset_confirm/" in mail.outbox[0].body


@pytest.mark.parametrize("password", [None, ""])
def test_a_null_or_empty_password_means_no_password(alpha, alpha_admin, password):
    """As the original Tahoe API treated them: the learner gets the set-password email."""
    body = {**learner_body(), "password": password, "send_activation_email": True}
    user = registered_user(alpha_admin.register(alpha, body))
    assert not user.is_active
    assert [message.subject for message in mail.outbox] == ["Password reset"]


def test_passwordless_learner_cannot_log_in_with_any_password_yet_can_reset(alpha, alpha_admin):
    user = registered_user(alpha_admin.register(alpha, learner_body()))
    assert user.has_usable_password()  # the platform's "forgot password" form accepts the learner
    for guess in ("", "password", user.password, user.password.split("$")[-1]):
        assert not user.check_password(guess)


def test_the_registration_is_announced_once(alpha, alpha_admin):
    user = registered_user(alpha_admin.register(alpha, learner_body()))
    assert fake_platform.ANNOUNCED == [user.id]


def test_email_failure_keeps_the_account_answers_200_and_logs_the_learner_id(
    alpha, alpha_admin, monkeypatch, caplog
):
    def broken_smtp(*args, **kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(fake_platform.mail, "send_mail", broken_smtp)
    with caplog.at_level(logging.ERROR, logger="tahoe_registration_api"):
        response = alpha_admin.register(alpha, learner_body(password=PASSWORD))
    user = registered_user(response)
    assert get_user_model().objects.filter(username="auserton").count() == 1
    assert any(f"email of learner {user.id} failed" in record.getMessage() for record in caplog.records)
    assert PASSWORD not in caplog.text


def test_nothing_is_sent_for_a_refused_registration(alpha, alpha_admin):
    alpha_admin.register(alpha, learner_body(name="<b>Alex</b>"))
    assert mail.outbox == []
    assert fake_platform.ANNOUNCED == []


@pytest.mark.django_db(transaction=True)
def test_emails_and_the_event_wait_for_the_commit_of_a_callers_transaction(alpha):
    """Python callers inside a transaction: nothing leaves for an account that is rolled back."""
    registration = RegistrationRequest(username="auserton", email="alex.userton@example.com", name="Alex Userton")
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            api.register_user(registration, site=alpha.site, organization=alpha.organization)
            assert mail.outbox == [] and fake_platform.ANNOUNCED == []  # not committed yet
            raise RuntimeError("the caller rolls back")
    assert mail.outbox == [] and fake_platform.ANNOUNCED == []
    assert not get_user_model().objects.filter(username="auserton").exists()
    with transaction.atomic():
        result = api.register_user(registration, site=alpha.site, organization=alpha.organization)
        assert mail.outbox == []
    assert [message.subject for message in mail.outbox] == ["Password reset"]
    assert fake_platform.ANNOUNCED == [result.user_id]
