"""Inside the LMS: ``?dry_run=true`` gives a real call's answer and leaves tables, outbox and events alone."""

import pytest
from common.djangoapps.student.models import get_retired_email_by_email, get_retired_username_by_username
from django.core import mail
from openedx_events.learning.signals import STUDENT_REGISTRATION_COMPLETED

from conftest import PASSWORD, REGISTRATIONS_URL, REGISTRATIONS_V2_URL, learner_body, make_user
from rows import row_counts

DRY_RUN = REGISTRATIONS_URL + "?dry_run=true"


@pytest.fixture(name="events")
def fixture_events():
    """The STUDENT_REGISTRATION_COMPLETED events sent during the test."""
    sent = []

    def receiver(signal, sender, user, metadata, **kwargs):  # pylint: disable=unused-argument
        sent.append(user)

    STUDENT_REGISTRATION_COMPLETED.connect(receiver)
    yield sent
    STUDENT_REGISTRATION_COMPLETED.disconnect(receiver)


@pytest.mark.parametrize("password", [None, PASSWORD])
def test_a_dry_run_writes_sends_and_emits_nothing_then_the_real_call_registers(alpha, alpha_admin, events, password):
    before = row_counts()
    dry = alpha_admin.register(alpha, learner_body(password=password), url=DRY_RUN)
    assert (dry.status_code, dry.json()) == (200, {"dry_run": True})
    assert row_counts() == before
    assert mail.outbox == [] and events == []

    real = alpha_admin.register(alpha, learner_body(password=password))
    assert real.status_code == 200 and len(mail.outbox) == 1 and len(events) == 1


@pytest.mark.parametrize("body", [
    learner_body(password="short"),  # the LMS's password policy
    learner_body(password="auserton1234"),  # too like the username
    learner_body(email="not-an-email"),
])
def test_a_dry_run_gives_the_very_400_of_a_real_call(alpha, alpha_admin, body):
    dry = alpha_admin.register(alpha, body, url=DRY_RUN)
    real = alpha_admin.register(alpha, body)
    assert dry.status_code == 400
    assert (dry.status_code, dry.json()) == (real.status_code, real.json())


@pytest.mark.parametrize("field", ["username", "email"])
def test_a_dry_run_sees_retired_accounts_and_emails_of_other_sites(alpha, beta, alpha_admin, field):
    gone = make_user("gone", alpha)
    gone.username = get_retired_username_by_username("gone")
    gone.email = get_retired_email_by_email("gone@example.org")
    gone.save()
    make_user("elsewhere", beta)
    retired = learner_body(**({"username": "gone"} if field == "username" else {"email": "gone@example.org"}))
    other_site = learner_body(email="elsewhere@example.org")
    for body in (retired, other_site):
        before = row_counts()
        dry = alpha_admin.register(alpha, body, url=DRY_RUN)
        real = alpha_admin.register(alpha, body)
        assert dry.status_code == 409, dry.content
        assert (dry.status_code, dry.json()) == (real.status_code, real.json())
        assert row_counts() == before


def test_a_dry_run_on_v2_carries_invalid_params(alpha, alpha_admin):
    alpha_admin.register(alpha, learner_body())
    response = alpha_admin.register(alpha, learner_body(), url=REGISTRATIONS_V2_URL + "?dry_run=true")
    assert response.status_code == 409 and response.json()["invalid-params"] == ["email", "username"]
