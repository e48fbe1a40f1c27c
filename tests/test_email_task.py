"""
The learner's email is owed to the outbox in the registration's transaction, handed to a Celery task after
the commit, and a failed send is retried.

The development LMS runs the task eagerly (``CELERY_TASK_ALWAYS_EAGER``), so a retry runs at once;
the platform suite runs it on a real worker.
"""

import logging

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import TestCase, override_settings

from devlms import fake_platform
from tahoe_registration_api import outbox, tasks
from tahoe_registration_api.models import OutboxMessage
from tests.conftest import learner_body

PASSWORD = "Str0ng-enough-pw"


def emails():
    """The outbox's emails (beside the webhooks' events)."""
    return OutboxMessage.objects.filter(kind="email")


@pytest.fixture(name="queued")
def fixture_queued(monkeypatch):
    """The arguments and options of every outbox delivery queued (the task is not run)."""
    calls = []
    monkeypatch.setattr(tasks.deliver_outbox_message, "apply_async",
                        lambda args, **options: calls.append((args, options)))
    return calls


def owed(message_id):
    """What an outbox message owes: (user id, site id, email, secure, state)."""
    message = emails().get(pk=message_id)
    return message.user_id, message.site_id, message.topic, message.payload, message.state


@pytest.fixture(name="failing_sends")
def fixture_failing_sends(monkeypatch):
    """Make the first ``count`` sends raise, as an unreachable SMTP server does; return the attempts."""
    attempts = []
    real_send_mail = fake_platform.mail.send_mail

    def send_mail(*args, **kwargs):
        attempts.append(kwargs.get("recipient_list"))
        if len(attempts) <= failing["count"]:
            raise ConnectionRefusedError("smtp down")
        return real_send_mail(*args, **kwargs)

    failing = {"count": 0}
    monkeypatch.setattr(fake_platform.mail, "send_mail", send_mail)
    return failing, attempts


def test_a_registration_queues_its_email_after_the_commit_with_the_learner_and_site(alpha, alpha_admin, queued):
    response = alpha_admin.register(alpha, learner_body())
    assert response.status_code == 200
    user_id = response.json()["user_id"]
    [((message_id, event_id), options)] = queued  # the email and the webhooks' event, in one task
    assert options == {}
    assert owed(message_id) == (user_id, alpha.site.id, "password-reset", '{"secure":false}', "pending")
    assert OutboxMessage.objects.values_list("kind", "topic").get(pk=event_id) == ("event", "learner.registered")
    assert mail.outbox == []  # queued, not sent, by the API call


def test_an_https_call_queues_https_links_and_the_activation_email(alpha, alpha_admin, queued):
    response = alpha_admin.register(alpha, learner_body(password=PASSWORD), secure=True)
    [((message_id, _event_id), _options)] = queued
    assert owed(message_id) == (response.json()["user_id"], alpha.site.id, "activation", '{"secure":true}', "pending")


def test_nothing_is_queued_for_an_active_learner_or_a_refused_registration(alpha, alpha_admin, queued):
    assert alpha_admin.register(alpha, learner_body(password=PASSWORD, send_activation_email=False)).status_code == 200
    assert alpha_admin.register(alpha, learner_body(username="other", name="<b>x</b>")).status_code == 400
    # Only the active learner's event (for the webhooks): no email.
    assert [OutboxMessage.objects.get(pk=pk).kind for args, _options in queued for pk in args] == ["event"]
    assert not emails().exists()


@override_settings(TAHOE_REGISTRATION_API_EMAIL_QUEUE="edx.lms.core.high")
def test_the_operator_names_the_queue(alpha, alpha_admin, queued):
    alpha_admin.register(alpha, learner_body())
    assert [options for _, options in queued] == [{"queue": "edx.lms.core.high"}]


def test_a_failed_send_is_retried_until_it_goes_out(alpha, alpha_admin, failing_sends, caplog):
    failing, attempts = failing_sends
    failing["count"] = 2
    with caplog.at_level(logging.WARNING, logger="tahoe_registration_api"):
        response = alpha_admin.register(alpha, learner_body(password=PASSWORD))
    assert response.status_code == 200
    assert len(attempts) == 3
    assert [message.subject for message in mail.outbox] == ["Action Required: Activate your account"]
    user_id = response.json()["user_id"]
    assert emails().values_list("state", "attempts", "last_error").get() == ("sent", 3, "")
    assert [record.getMessage() for record in caplog.records if record.name.startswith("tahoe")] == [
        f"The activation email of learner {user_id} failed (ConnectionRefusedError); retry 1 of 5 in 30 s.",
        f"The activation email of learner {user_id} failed (ConnectionRefusedError); retry 2 of 5 in 60 s.",
    ]


@override_settings(TAHOE_REGISTRATION_API_EMAIL_RETRIES=3)
def test_a_send_that_keeps_failing_is_logged_with_the_learner_id_and_the_account_stays(
    alpha, alpha_admin, failing_sends, caplog
):
    failing, attempts = failing_sends
    failing["count"] = 100
    with caplog.at_level(logging.WARNING, logger="tahoe_registration_api"):
        response = alpha_admin.register(alpha, learner_body(password=PASSWORD))
    assert response.status_code == 200
    user_id = response.json()["user_id"]
    assert len(attempts) == 4  # the first send and 3 retries
    assert mail.outbox == []
    errors = [record.getMessage() for record in caplog.records if record.levelno == logging.ERROR]
    assert errors == [
        f"The activation email of learner {user_id} failed 4 times; "
        "the last error: ConnectionRefusedError."
    ]
    learner = get_user_model().objects.get(pk=user_id)
    assert learner.check_password(PASSWORD) and not learner.is_active
    assert PASSWORD not in caplog.text
    assert emails().values_list("state", "attempts", "last_error", "due").get() == (
        "failed", 4, "ConnectionRefusedError", None)


def test_a_learner_deleted_before_the_task_ran_is_logged_not_retried(alpha, caplog, django_user_model):
    learner = django_user_model.objects.create(username="gone", email="gone@example.com")
    learner_id = learner.id
    with TestCase.captureOnCommitCallbacks(execute=False):  # owed, never handed over here
        message = outbox.owe_email(learner_id, alpha.site.id, "activation", True)
    learner.delete()
    with caplog.at_level(logging.ERROR, logger="tahoe_registration_api"):
        tasks.deliver_outbox_message.apply(args=(message.pk,))
    assert mail.outbox == []
    assert [record.getMessage() for record in caplog.records] == [
        f"Outbox message {message.pk} (activation email of learner {learner_id}) cannot be sent: "
        f"The learner {learner_id} or site {alpha.site.id} is gone."
    ]
    assert owed(message.pk)[-1] == "failed"


def test_an_unknown_email_is_refused(alpha, alpha_admin):
    with TestCase.captureOnCommitCallbacks(execute=False):
        message = outbox.owe_email(alpha_admin.user.id, alpha.site.id, "welcome", True)
    tasks.deliver_outbox_message.apply(args=(message.pk,))
    assert owed(message.pk)[-1] == "failed"
    assert mail.outbox == []
