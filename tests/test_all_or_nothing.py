"""All or nothing: a failure at any step of a registration leaves no row behind and answers JSON."""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import OperationalError, connection
from django.db.models.signals import post_save

from devlms import fake_platform
from devlms.models import ActivationRecord, LearnerProfile
from tahoe_registration_api import api, hooks
from tests.conftest import learner_body, on_mariadb
from tests.rows import row_counts


def boom(*args, **kwargs):
    raise RuntimeError("injected failure")


def lost_connection(*args, **kwargs):
    raise OperationalError(2013, "Lost connection to server during query")


FAULTS = {
    # step -> (object, attribute, replacement, expected status)
    "platform account creation": (fake_platform, "create_account", boom, 500),
    "building the user": (fake_platform, "get_user_model", lambda: boom, 500),
    "the activation record": (ActivationRecord, "save", boom, 500),
    "the profile": (LearnerProfile, "save", boom, 500),
    "the organization membership": (api, "add_membership", boom, 500),
    "the event payload": (hooks, "registration_completed_data", boom, 500),
    "releasing the claims": (api, "_release", boom, 500),
    "a lost database connection (membership)": (api, "add_membership", lost_connection, 503),
    "a lost database connection (platform)": (fake_platform, "create_account", lost_connection, 503),
}


@pytest.mark.parametrize("step", list(FAULTS))
@pytest.mark.parametrize("password", [None, "Str0ng-enough-pw"])
def test_a_failure_at_any_step_leaves_nothing_and_answers_json(alpha, alpha_admin, monkeypatch, step, password):
    target, attribute, replacement, expected_status = FAULTS[step]
    before = row_counts()
    monkeypatch.setattr(target, attribute, replacement)
    response = alpha_admin.register(alpha, learner_body(password=password))
    monkeypatch.undo()
    assert response.status_code == expected_status
    assert response.json()["error_code"] in {"internal-error", "service-unavailable"}
    assert "injected" not in response.content.decode()
    assert row_counts() == before
    assert mail.outbox == []
    assert fake_platform.ANNOUNCED == []
    # and the same registration then succeeds: nothing stale blocks it
    assert alpha_admin.register(alpha, learner_body(password=password)).status_code == 200


@pytest.mark.parametrize("password", [None, "Str0ng-enough-pw"])
def test_a_failure_right_after_the_user_row_is_written_leaves_nothing(alpha, alpha_admin, password):
    """A receiver of the user's post_save fails: the row was inserted, then the whole transaction goes."""
    def fail_for_the_learner(sender, instance, created, **kwargs):
        if created and instance.username == "auserton":
            raise RuntimeError("injected failure")

    before = row_counts()
    post_save.connect(fail_for_the_learner, sender=get_user_model(), dispatch_uid="fail-for-the-learner")
    try:
        response = alpha_admin.register(alpha, learner_body(password=password))
    finally:
        post_save.disconnect(dispatch_uid="fail-for-the-learner", sender=get_user_model())
    assert response.status_code == 500
    assert response.json()["error_code"] == "internal-error"
    assert row_counts() == before
    assert mail.outbox == []
    assert alpha_admin.register(alpha, learner_body(password=password)).status_code == 200


def test_a_deadlock_is_retried_and_the_caller_never_sees_it(alpha, alpha_admin, monkeypatch):
    real_create = fake_platform.create_account
    calls = []

    def deadlock_once(registration, site):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError(1213, "Deadlock found when trying to get lock; try restarting transaction")
        return real_create(registration, site)

    monkeypatch.setattr(fake_platform, "create_account", deadlock_once)
    response = alpha_admin.register(alpha, learner_body())
    assert response.status_code == 200
    assert len(calls) == 2
    assert row_counts()["users"] == 2  # the admin and the learner, once


def test_a_lock_wait_timeout_that_persists_is_a_503(alpha, alpha_admin, monkeypatch, settings):
    settings.TAHOE_REGISTRATION_API_DEADLOCK_RETRIES = 2
    calls = []

    def always_locked(*args):
        calls.append(1)
        raise OperationalError(1205, "Lock wait timeout exceeded; try restarting transaction")

    monkeypatch.setattr(fake_platform, "create_account", always_locked)
    before = row_counts()
    response = alpha_admin.register(alpha, learner_body())
    assert response.status_code == 503
    assert response.json()["error_code"] == "service-unavailable"
    assert response["Retry-After"]
    assert len(calls) == 3
    assert row_counts() == before


@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True)
def test_a_connection_killed_mid_registration_leaves_nothing(alpha, alpha_admin, monkeypatch):
    """On MariaDB, really kill the registration's connection between the user and its membership."""
    assert on_mariadb()
    real_add = api.add_membership

    def kill_my_connection(*args, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SELECT CONNECTION_ID()")
            (connection_id,) = cursor.fetchone()
        from django.db import connections

        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute(f"KILL CONNECTION {int(connection_id)}")
        finally:
            other.close()
        return real_add(*args, **kwargs)

    before = row_counts()
    monkeypatch.setattr(api, "add_membership", kill_my_connection)
    response = alpha_admin.register(alpha, learner_body())
    monkeypatch.undo()
    assert response.status_code == 503
    assert response.json()["error_code"] == "service-unavailable"
    connection.close()
    assert row_counts() == before
