"""Learners registered a group at a time: one transaction, each learner its own savepoint, the same outcomes."""

from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import OperationalError, connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from tahoe_sites.models import UserOrganizationMapping

from tahoe_registration_api import api, outbox, pipeline
from tahoe_registration_api.data import RegistrationRequest, RegistrationResult
from tahoe_registration_api.exceptions import DuplicateAccount, InvalidRegistration
from tahoe_registration_api.models import OutboxMessage, RegistrationClaim
from tests.conftest import make_user

BULK_URL = "/tahoe/api/v1/registrations/bulk/"


def registration(username, email=None, **fields):
    """A checked registration of ``username``."""
    return RegistrationRequest(username=username, email=email or f"{username}@example.com", name=username.title(),
                               **fields)


def register_group(site, registrations, **options):
    """Register a group on ``site``, its after-commit work run; return the outcomes."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return api.register_group(registrations, site=site.site, organization=site.organization, **options)


def bulk(caller, site, names):
    """A bulk call of learners ``names``; return the answers' statuses."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = caller.register(site, {"learners": [
            {"username": name, "email": f"{name}@example.com", "name": name.title()} for name in names]},
            url=BULK_URL)
    assert response.status_code == 200, response.content
    return [result["status"] for result in response.json()["results"]]


def test_a_group_refuses_each_taken_or_invalid_learner_and_registers_the_others(alpha):
    make_user("taken", alpha)
    outcomes = register_group(alpha, [
        registration("ada"),
        registration("ADA", email="someone@example.com"),  # the username of a learner the group just registered
        registration("ada2", email="Ada@Example.com"),  # the email of a learner the group just registered
        registration("taken", email="new@example.com"),  # a username the site already has
        registration("grace", password="grace"),  # a password the platform's rules refuse (too short)
        registration("bob"),
    ])
    assert isinstance(outcomes[0], RegistrationResult) and isinstance(outcomes[5], RegistrationResult)
    refused = outcomes[1:5]
    assert [type(outcome) for outcome in refused] == [DuplicateAccount] * 3 + [InvalidRegistration]
    assert [set(outcome.field_errors) for outcome in refused] == [{"username"}, {"email"}, {"username"}, {"password"}]
    users = get_user_model().objects
    # The refused wrote nothing; each learner registered is a member with one email and one event owed.
    assert set(users.values_list("username", flat=True)) == {"taken", "ada", "bob"}
    assert set(UserOrganizationMapping.objects.filter(organization=alpha.organization).values_list(
        "user__username", flat=True)) == {"taken", "ada", "bob"}
    assert sorted(OutboxMessage.objects.values_list("kind", flat=True)) == ["email", "email", "event", "event"]
    assert sorted(message.to[0] for message in mail.outbox) == ["ada@example.com", "bob@example.com"]
    assert not RegistrationClaim.objects.exists()


def test_a_group_that_deadlocks_is_run_again_whole_and_registers_each_learner_once(alpha):
    real_owe, attempts = outbox.owe, []

    def deadlock_once(messages):  # inside the group's transaction, after its learners were created
        attempts.append(1)
        if len(attempts) == 1:
            raise OperationalError(1213, "Deadlock found when trying to get lock")  # rolls the group back
        return real_owe(messages)

    with mock.patch.object(outbox, "owe", deadlock_once):
        outcomes = register_group(alpha, [registration("ada"), registration("bob")])
    assert len(attempts) == 2 and all(isinstance(outcome, RegistrationResult) for outcome in outcomes)
    assert get_user_model().objects.filter(username__in=["ada", "bob"]).count() == 2
    assert sorted(message.to[0] for message in mail.outbox) == ["ada@example.com", "bob@example.com"]


def test_a_group_that_fails_as_a_whole_is_registered_one_by_one(alpha, alpha_admin):
    with mock.patch.object(api, "_create_group", side_effect=RuntimeError("a defect")):
        assert bulk(alpha_admin, alpha, ["ada", "bob", "cy"]) == [200, 200, 200]
    assert get_user_model().objects.filter(username__in=["ada", "bob", "cy"]).count() == 3
    recipients = sorted(message.to[0] for message in mail.outbox)
    assert recipients == ["ada@example.com", "bob@example.com", "cy@example.com"]


@pytest.mark.parametrize("size", [1, 20])
def test_a_group_writes_the_plugins_own_statements_once(alpha, alpha_admin, size, monkeypatch):
    monkeypatch.setattr(pipeline, "GROUP_SIZE", size)
    with CaptureQueriesContext(connection) as queries:
        assert bulk(alpha_admin, alpha, [f"learner{number}" for number in range(20)]) == [200] * 20
    claims = [query for query in queries.captured_queries if "registrationclaim" in query["sql"]]
    memberships = [query for query in queries.captured_queries
                   if query["sql"].startswith("INSERT") and "userorganizationmapping" in query["sql"]]
    # A claim INSERT and DELETE, and a membership INSERT, per learner alone; per group of 20 together.
    assert (len(claims), len(memberships)) == ((40, 20) if size == 1 else (2, 1))


def test_a_learner_refused_after_a_write_sends_the_group_one_by_one_and_nothing_of_it_stays(alpha, alpha_admin):
    from devlms import fake_platform  # pylint: disable=import-outside-toplevel

    real_create_account = fake_platform.create_account

    def refuses_bob_after_writing(registration, site):
        account = real_create_account(registration, site)
        if registration.username == "bob":
            raise InvalidRegistration(field_errors={"name": "Refused after the account was written."})
        return account

    with mock.patch.object(fake_platform, "create_account", refuses_bob_after_writing):
        assert bulk(alpha_admin, alpha, ["ada", "bob", "cy"]) == [200, 400, 200]
    assert set(get_user_model().objects.filter(username__in=["ada", "bob", "cy"]).values_list(
        "username", flat=True)) == {"ada", "cy"}
    assert sorted(message.to[0] for message in mail.outbox) == ["ada@example.com", "cy@example.com"]


def test_a_group_without_courses_takes_no_savepoint_per_learner(alpha, alpha_admin):
    with CaptureQueriesContext(connection) as queries:
        assert bulk(alpha_admin, alpha, [f"learner{number}" for number in range(20)]) == [200] * 20
    savepoints = [query for query in queries.captured_queries if query["sql"].startswith("SAVEPOINT")]
    assert len(savepoints) < 5, len(savepoints)  # the request's and the group's own, none per learner
