"""
The learner's email inside the LMS: owed to the outbox, queued after the commit, sent by a Celery worker, retried.

The API call only queues the outbox's task; a real ``celery -A lms.celery worker`` on a real Redis
broker renders and sends the email, branded for the learner's site. Where Celery runs eagerly
(``lms.envs.test``), a failing send is retried by the outbox, then logged with the learner's id.
"""

import logging
from smtplib import SMTPServerDisconnected

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.mail.backends import locmem
from django.db import transaction
from edx_ace import presentation

from tahoe_registration_api import api
from tahoe_registration_api.data import RegistrationRequest

from conftest import PASSWORD, learner_body, links
from worker import celery_worker, queued_to

EMAIL = "alex.userton@example.com"


@pytest.fixture(name="running_worker", scope="module")
def fixture_running_worker(django_db_setup, django_db_blocker):  # pylint: disable=unused-argument
    """A Celery worker of the LMS on a Redis broker, started once for the module's tests."""
    with django_db_blocker.unblock():
        with celery_worker() as running:
            yield running


@pytest.fixture(name="worker")
def fixture_worker(running_worker):
    """That worker, with this process queuing tasks to its broker for the test."""
    with queued_to(running_worker.broker_url):
        yield running_worker


@pytest.fixture(name="renders")
def fixture_renders(monkeypatch):
    """Every ACE message rendered in this (the web) process."""
    rendered = []
    real_render = presentation.render

    def render(channel, message):
        rendered.append(message.name)
        return real_render(channel, message)

    monkeypatch.setattr(presentation, "render", render)
    return rendered


@pytest.mark.parametrize("body, subject_part, link_part", [
    (learner_body(), "Password reset", "http://alpha.localhost/password_reset_confirm/"),
    (learner_body(password=PASSWORD), "Activate", "http://alpha.localhost/activate/"),
], ids=["password-reset", "activation"])
def test_the_api_only_queues_the_email_and_a_worker_sends_it_branded_for_the_site(
    alpha, alpha_admin, worker, renders, body, subject_part, link_part
):  # pylint: disable=too-many-arguments
    sent_before = len(worker.messages())
    response = alpha_admin.register(alpha, body)
    assert response.status_code == 200, response.content
    assert renders == [] and mail.outbox == []  # nothing rendered or sent while the caller waited

    sent = worker.wait_for_messages(sent_before + 1)  # the files sort by second, not by order within one
    message = next(found for found in sent if subject_part in found["Subject"])
    assert message["To"] == EMAIL
    assert message["From"] == "learning@alpha.localhost"
    assert subject_part in message["Subject"] and "Alpha Academy" in message["Subject"]
    text = message.get_payload()[0].get_payload(decode=True).decode("utf-8")
    assert any(link.startswith(link_part) for link in links(text)), links(text)
    assert "Task tahoe_registration_api.deliver_outbox_message" in worker.log_text()


def test_a_python_caller_s_email_is_queued_only_when_its_transaction_commits(alpha, worker):
    registration = RegistrationRequest(username="auserton", email=EMAIL, name="Alex Userton")
    sent_before = len(worker.messages())
    with transaction.atomic():
        api.register_user(registration, site=alpha.site, organization=alpha.organization)
        with pytest.raises(AssertionError):  # nothing is queued before the commit, so nothing arrives
            worker.wait_for_messages(sent_before + 1, timeout=2)
    sent = worker.wait_for_messages(sent_before + 1)
    assert len(sent) == sent_before + 1 and all(found["To"] == EMAIL for found in sent)


@pytest.fixture(name="smtp_failures")
def fixture_smtp_failures(monkeypatch):
    """Make the first ``count`` sends fail as a dropped SMTP connection does; return the attempts."""
    attempts = []
    real_send = locmem.EmailBackend.send_messages

    def send_messages(self, messages):
        attempts.append(messages)
        if len(attempts) <= failing["count"]:
            raise SMTPServerDisconnected("Connection unexpectedly closed")
        return real_send(self, messages)

    failing = {"count": 0}
    monkeypatch.setattr(locmem.EmailBackend, "send_messages", send_messages)
    return failing, attempts


def test_a_failing_send_is_retried_by_the_task_until_it_goes_out(alpha, alpha_admin, smtp_failures, caplog):
    """ACE swallows the SMTP error; the task sees no delivery and retries (eagerly here)."""
    failing, attempts = smtp_failures
    failing["count"] = 2
    with caplog.at_level(logging.WARNING, logger="tahoe_registration_api"):
        response = alpha_admin.register(alpha, learner_body(password=PASSWORD))
    assert response.status_code == 200
    user_id = response.json()["user_id"]
    assert len(attempts) == 3
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [EMAIL]
    retries = [record.getMessage() for record in caplog.records if record.name == "tahoe_registration_api.outbox"]
    assert retries == [
        f"The activation email of learner {user_id} failed (EmailNotDelivered); retry 1 of 5 in 30 s.",
        f"The activation email of learner {user_id} failed (EmailNotDelivered); retry 2 of 5 in 60 s.",
    ]


def test_a_send_that_keeps_failing_is_logged_with_the_learner_id_and_the_account_stays(
    alpha, alpha_admin, smtp_failures, caplog
):
    failing, attempts = smtp_failures
    failing["count"] = 1000
    with caplog.at_level(logging.WARNING, logger="tahoe_registration_api"):
        response = alpha_admin.register(alpha, learner_body())
    assert response.status_code == 200
    user_id = response.json()["user_id"]
    assert len(attempts) == 6  # the first send and 5 retries
    assert mail.outbox == []
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR
              and record.name.startswith("tahoe_registration_api")]
    assert errors == [
        f"The password-reset email of learner {user_id} failed 6 times; "
        "the last error: EmailNotDelivered."
    ]
    assert get_user_model().objects.filter(pk=user_id, username="auserton").exists()
