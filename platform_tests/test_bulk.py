"""Bulk registration inside the LMS: each learner registered by the platform's own account creation."""

from common.djangoapps.student.models import get_retired_username_by_username
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openedx.core.djangoapps.user_api.models import UserPreference
from tahoe_sites.models import UserOrganizationMapping

from conftest import PASSWORD, make_user

BULK_URL = "/tahoe/api/v1/registrations/bulk/"


def learner(number, **overrides):
    """Learner ``number`` of a batch, with its ref."""
    return {"ref": f"crm-{number}", "username": f"learner{number}", "email": f"learner{number}@example.com",
            "name": f"Learner {number}", **overrides}


def test_a_bulk_call_with_mixed_results_registers_each_valid_learner_as_the_platform_does(alpha, alpha_admin):
    make_user("taken", alpha)
    response = alpha_admin.register(alpha, {"learners": [
        learner(1),
        learner(2, email="taken@example.org"),
        learner(3, password="short"),
        learner(4, password=PASSWORD, send_activation_email=False, language="fr"),
        learner(5, username="LEARNER1"),
    ]}, url=BULK_URL)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["created"], body["failed"]) == (2, 3)
    results = body["results"]
    assert [(result["ref"], result["status"], result.get("error_code")) for result in results] == [
        ("crm-1", 200, None), ("crm-2", 409, "duplicate-email"), ("crm-3", 400, "validation-error"),
        ("crm-4", 200, None), ("crm-5", 409, "duplicate-username")]
    assert list(results[2]["field_errors"]) == ["password"]
    users = get_user_model().objects
    first, fourth = users.get(username="learner1"), users.get(username="learner4")
    assert (results[0]["user_id"], results[3]["user_id"]) == (first.pk, fourth.pk)
    assert first.profile.name == "Learner 1" and not first.is_active
    assert fourth.is_active and fourth.check_password(PASSWORD)
    assert UserPreference.get_value(fourth, "pref-lang") == "fr"
    assert UserOrganizationMapping.objects.filter(
        organization=alpha.organization, user__in=[first, fourth], is_admin=False).count() == 2
    assert not users.filter(username__in=["learner2", "learner3"]).exists()


def test_the_platforms_own_refusals_in_a_group_write_nothing_and_the_group_is_not_undone(alpha, alpha_admin,
                                                                                         caplog):
    """
    The refusals of the platform's account creation itself (its form, its retired usernames) come before it writes.

    A learner without courses takes no savepoint in a group (api._create_in_group): the group goes on,
    and is not rolled back and registered one by one.
    """
    retired = make_user("gone_learner")
    retired.username = get_retired_username_by_username("learner3")
    retired.save()
    response = alpha_admin.register(alpha, {"learners": [
        learner(1),
        learner(2, password="learner2@example.com"),  # the platform's similarity rule (the plugin has no user)
        learner(3),  # the platform's retired username
        learner(4),
    ]}, url=BULK_URL)
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [(result["status"], list(result.get("field_errors", {}))) for result in results] == [
        (200, []), (400, ["password"]), (409, ["username"]), (200, [])]
    assert set(get_user_model().objects.filter(username__startswith="learner").values_list(
        "username", flat=True)) == {"learner1", "learner4"}
    assert not [record for record in caplog.records if "failed as a whole" in record.getMessage()]


def test_a_bulk_call_costs_far_fewer_statements_per_learner_than_single_calls(alpha, alpha_admin):
    with CaptureQueriesContext(connection) as single:
        assert alpha_admin.register(alpha, learner(0)).status_code == 200
    with CaptureQueriesContext(connection) as batch:
        response = alpha_admin.register(alpha, {"learners": [learner(n) for n in range(1, 21)]}, url=BULK_URL)
    assert response.json()["created"] == 20
    per_learner = len(batch.captured_queries) / 20
    # The request's own statements (middleware, authentication, the admin check) are paid once.
    assert per_learner < len(single.captured_queries), (per_learner, len(single.captured_queries))


def test_a_bulk_dry_run_writes_nothing_and_a_keyed_call_is_answered_once(alpha, alpha_admin):
    learners = [learner(1), learner(2, email="not-an-email")]
    dry = alpha_admin.register(alpha, {"learners": learners}, url=BULK_URL + "?dry_run=true")
    assert dry.status_code == 200 and dry.json()["dry_run"] is True
    assert [result["status"] for result in dry.json()["results"]] == [200, 400]
    assert not get_user_model().objects.filter(username="learner1").exists()
    first = alpha_admin.register(alpha, {"learners": learners}, url=BULK_URL, HTTP_IDEMPOTENCY_KEY="import-1")
    again = alpha_admin.register(alpha, {"learners": learners}, url=BULK_URL, HTTP_IDEMPOTENCY_KEY="import-1")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert get_user_model().objects.filter(username="learner1").count() == 1


def test_learners_over_the_learner_rate_are_a_429_that_registers_nobody(alpha, alpha_admin, settings):
    settings.TAHOE_REGISTRATION_API_BULK_LEARNER_RATE = "3/h"
    assert alpha_admin.register(alpha, {"learners": [learner(1), learner(2)]}, url=BULK_URL).status_code == 200
    refused = alpha_admin.register(alpha, {"learners": [learner(3), learner(4)]}, url=BULK_URL)
    assert refused.status_code == 429 and refused.json()["error_code"] == "rate-limited"
    assert int(refused["Retry-After"]) > 0
    assert not get_user_model().objects.filter(username__in=["learner3", "learner4"]).exists()
