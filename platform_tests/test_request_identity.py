"""
What comes after the registration sees the request's own site and caller.

The LMS's test settings run Celery tasks eagerly, inside the request, as devstacks do: the
platform's email task then emulates a request of its own on the current one.
"""

import json
import logging

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session

from conftest import PASSWORD, learner_body

FLOWS = {
    "activation email": learner_body(password=PASSWORD),
    "password-reset email": learner_body(),
    "no email": learner_body(password=PASSWORD, send_activation_email=False),
}


def audit_records(caplog):
    """The audit records logged so far."""
    return [json.loads(record.getMessage().split(" ", 1)[1])
            for record in caplog.records if record.name == "tahoe_registration_api.audit"]


def test_celery_runs_the_platforms_tasks_inside_the_request():
    """The premise: these settings run tasks eagerly, as a devstack does."""
    assert settings.CELERY_ALWAYS_EAGER is True


@pytest.mark.parametrize("flow", sorted(FLOWS))
def test_the_audit_names_the_requests_site_and_caller(alpha, alpha_admin, caplog, flow):
    """The audit record names alpha and its admin, not the default site or the new learner."""
    caplog.set_level(logging.INFO, logger="tahoe_registration_api.audit")
    response = alpha_admin.register(alpha, FLOWS[flow])
    assert response.status_code == 200, response.content

    (record,) = audit_records(caplog)
    assert record["site"] == "alpha.localhost"
    assert record["caller_id"] == alpha_admin.user.id
    assert record["learner_id"] == response.json()["user_id"] != alpha_admin.user.id


@pytest.mark.parametrize("flow", sorted(FLOWS))
def test_the_lms_never_sees_the_learner_as_the_caller(alpha, alpha_admin, flow):
    """After the email task ran, the LMS's middleware does not write a session for the learner."""
    response = alpha_admin.register(alpha, FLOWS[flow])
    assert response.status_code == 200, response.content
    assert settings.SESSION_COOKIE_NAME not in response.cookies
    assert Session.objects.count() == 0


def test_the_rate_limit_counts_the_caller_on_the_requests_site(alpha, alpha_admin):
    """Each registration counts once against the caller on alpha, whatever the email task did."""
    remaining = [int(alpha_admin.register(alpha, learner_body(username=f"l{i}", email=f"l{i}@example.com",
                                                              password=PASSWORD))["RateLimit-Remaining"])
                 for i in range(3)]
    assert remaining == [59, 58, 57]
