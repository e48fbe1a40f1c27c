"""``POST /tahoe/api/v1/registrations/bulk/``: many learners in one call, each as a single call registers one."""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import override_settings

from tests.conftest import learner_body, make_user
from tests.rows import row_counts

BULK_URL = "/tahoe/api/v1/registrations/bulk/"
PASSWORD = "Str0ng-enough-pw"


def learner(number, **overrides):
    """The body of learner ``number`` of a batch, with its ref."""
    return {"ref": f"crm-{number}", **learner_body(
        username=f"learner{number}", email=f"learner{number}@example.com", name=f"Learner {number}"), **overrides}


def post_bulk(caller, site, learners, url=BULK_URL, **extra):
    """POST a bulk call."""
    return caller.register(site, {"learners": learners}, url=url, **extra)


def test_a_bulk_call_with_mixed_results_answers_each_learner_in_input_order(alpha, alpha_admin):
    make_user("taken", alpha)
    response = post_bulk(alpha_admin, alpha, [
        learner(1),
        learner(2, email="taken@example.com"),
        learner(3, email="not-an-email"),
        learner(4, password=PASSWORD, send_activation_email=False),
    ])
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["created"], body["failed"]) == (2, 2)
    assert [result["ref"] for result in body["results"]] == ["crm-1", "crm-2", "crm-3", "crm-4"]
    assert [result["status"] for result in body["results"]] == [200, 409, 400, 200]
    first, taken, invalid, fourth = body["results"]
    users = get_user_model().objects
    assert users.get(username="learner1").pk == first["user_id"]
    assert users.get(username="learner4").pk == fourth["user_id"] and users.get(username="learner4").is_active
    assert taken["error_code"] == "duplicate-email" and list(taken["field_errors"]) == ["email"]
    assert "user_id" not in taken
    assert invalid["error_code"] == "validation-error" and list(invalid["field_errors"]) == ["email"]
    assert not users.filter(username__in=["learner2", "learner3"]).exists()


def test_each_learner_gets_the_email_of_a_single_call(alpha, alpha_admin):
    response = post_bulk(alpha_admin, alpha, [learner(1), learner(2, password=PASSWORD), learner(
        3, password=PASSWORD, send_activation_email=False)])
    assert response.json()["created"] == 3
    recipients = sorted(message.to[0] for message in mail.outbox)
    assert recipients == ["learner1@example.com", "learner2@example.com"]


def test_duplicates_within_one_call_the_first_wins_and_the_later_ones_are_409(alpha, alpha_admin):
    response = post_bulk(alpha_admin, alpha, [
        learner(1),
        learner(2, username="LEARNER1"),
        learner(3, email="Learner1@Example.com"),
        learner(4, username="learner1", email="learner1@example.com"),
    ])
    statuses = [(result["status"], result.get("error_code")) for result in response.json()["results"]]
    assert statuses == [(200, None), (409, "duplicate-username"), (409, "duplicate-email"),
                        (409, "duplicate-email-username")]
    assert get_user_model().objects.filter(email__iexact="learner1@example.com").count() == 1


def test_a_ref_is_echoed_as_a_string_and_is_optional(alpha, alpha_admin):
    item = learner(1)
    del item["ref"]
    response = post_bulk(alpha_admin, alpha, [item, learner(2, ref=42), learner(3, ref={"no": 1})])
    results = response.json()["results"]
    assert [result["ref"] for result in results] == [None, "42", None]
    assert results[2]["status"] == 400 and list(results[2]["field_errors"]) == ["ref"]


@pytest.mark.parametrize("body, field", [
    ([], "learners"),
    ({"learner": []}, "learners"),
    ({"learners": "x"}, "learners"),
    ({"learners": []}, "learners"),
    ({"learners": [learner(1), "not an object"]}, "learners[1]"),
])
def test_a_body_that_is_not_a_list_of_learner_objects_is_a_400_naming_the_field(alpha, alpha_admin, body, field):
    before = row_counts()
    response = alpha_admin.register(alpha, body, url=BULK_URL)
    assert response.status_code == 400, response.content
    assert field in response.json()["field_errors"]
    assert row_counts() == before


@override_settings(TAHOE_REGISTRATION_API_BULK_MAX=3)
def test_more_learners_than_the_setting_allows_is_a_413_and_registers_nobody(alpha, alpha_admin):
    before = row_counts()
    response = post_bulk(alpha_admin, alpha, [learner(number) for number in range(4)])
    assert response.status_code == 413
    assert response.json()["error_code"] == "too-many-learners"
    assert "at most 3" in response.json()["field_errors"]["learners"]["user_message"]
    assert row_counts() == before


def test_a_dry_run_checks_every_learner_and_writes_nothing(alpha, alpha_admin):
    make_user("taken", alpha)
    before = row_counts()
    learners = [learner(1), learner(2, email="taken@example.com"), learner(3, username="learner1")]
    dry = post_bulk(alpha_admin, alpha, learners, url=BULK_URL + "?dry_run=true")
    assert dry.status_code == 200
    assert row_counts() == before and mail.outbox == []
    assert dry.json()["dry_run"] is True
    assert [result["status"] for result in dry.json()["results"]] == [200, 409, 409]
    real = post_bulk(alpha_admin, alpha, learners)
    assert [result["status"] for result in real.json()["results"]] == [200, 409, 409]


def test_an_idempotency_key_gives_the_first_answer_again_and_registers_nobody_twice(alpha, alpha_admin):
    learners = [learner(1), learner(2)]
    first = post_bulk(alpha_admin, alpha, learners, HTTP_IDEMPOTENCY_KEY="import-2026-12")
    again = post_bulk(alpha_admin, alpha, learners, HTTP_IDEMPOTENCY_KEY="import-2026-12")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert get_user_model().objects.filter(username__startswith="learner").count() == 2
    other = post_bulk(alpha_admin, alpha, [learner(3)], HTTP_IDEMPOTENCY_KEY="import-2026-12")
    assert other.status_code == 422


def test_only_an_admin_of_the_site_may_call_it(alpha, beta, alpha_learner, beta_admin, anonymous):
    assert post_bulk(anonymous, alpha, [learner(1)]).status_code == 401
    assert post_bulk(alpha_learner, alpha, [learner(1)]).status_code == 403
    assert post_bulk(beta_admin, alpha, [learner(1)]).status_code == 403
    assert not get_user_model().objects.filter(username="learner1").exists()


@override_settings(TAHOE_REGISTRATION_API_BULK_LEARNER_RATE="5/h")
def test_learners_over_the_learner_rate_are_a_429_and_nobody_is_registered(alpha, alpha_admin):
    first = post_bulk(alpha_admin, alpha, [learner(number) for number in range(3)])
    assert first.status_code == 200
    assert (first["RateLimit-Limit"], first["RateLimit-Remaining"]) == ("5", "2")
    before = row_counts()
    refused = post_bulk(alpha_admin, alpha, [learner(number) for number in range(3, 6)])
    assert refused.status_code == 429
    assert refused.json()["error_code"] == "rate-limited"
    assert "2 of the 5 learners" in refused.json()["developer_message"]
    assert int(refused["Retry-After"]) > 0
    assert row_counts() == before
    assert post_bulk(alpha_admin, alpha, [learner(number) for number in range(3, 5)]).status_code == 200


@override_settings(TAHOE_REGISTRATION_API_BULK_RATE="2/m")
def test_bulk_calls_over_the_call_rate_are_a_429(alpha, alpha_admin):
    assert post_bulk(alpha_admin, alpha, [learner(1)]).status_code == 200
    assert post_bulk(alpha_admin, alpha, [learner(2)]).status_code == 200
    refused = post_bulk(alpha_admin, alpha, [learner(3)])
    assert refused.status_code == 429 and "Retry-After" in refused
    # Single registrations keep their own count.
    assert alpha_admin.register(alpha, learner_body()).status_code == 200


@override_settings(TAHOE_REGISTRATION_API_BULK_MAX_BODY_BYTES=1000)
def test_a_body_over_the_bulk_body_limit_is_a_413(alpha, alpha_admin):
    response = post_bulk(alpha_admin, alpha, [learner(number) for number in range(20)])
    assert response.status_code == 413 and response.json()["error_code"] == "request-too-large"


def test_the_bulk_body_limit_is_its_own_not_the_single_calls(alpha, alpha_admin):
    learners = [learner(number, name="N" * 200) for number in range(100)]  # ~30 KB, over the single call's 16 KB
    response = post_bulk(alpha_admin, alpha, learners)
    assert response.status_code == 200 and response.json()["created"] == 100


def test_without_a_trailing_slash_too(alpha, alpha_admin):
    response = post_bulk(alpha_admin, alpha, [learner(1)], url=BULK_URL.rstrip("/"))
    assert response.status_code == 200 and response.json()["created"] == 1


def test_each_learner_of_a_bulk_call_is_in_the_audit_store_without_personal_data(alpha, alpha_admin):
    from tahoe_registration_api.models import AuditEntry  # pylint: disable=import-outside-toplevel

    response = post_bulk(alpha_admin, alpha, [learner(1), learner(2, email="not-an-email")],
                         HTTP_X_REQUEST_ID="bulk-call-1")
    entries = AuditEntry.objects.filter(action="bulk_register", request_id="bulk-call-1").order_by("pk")
    learners = [(entry.status, entry.outcome, entry.error_code, entry.learner_id) for entry in entries
                if entry.learner_id or entry.error_code]
    # A learner of a batch has no HTTP status of its own: its outcome and error code tell.
    assert learners == [(None, "registered", "", response.json()["results"][0]["user_id"]),
                        (None, "refused", "validation-error", None)]
    assert all(entry.caller_id == alpha_admin.user.pk and entry.site_id == alpha.site.pk for entry in entries)
    stored = " ".join(str(vars(entry)) for entry in entries)
    assert "learner1@example.com" not in stored and "Learner 1" not in stored
