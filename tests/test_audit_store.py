"""The audit store: one entry per audit record, no secret or personal data, never a 500, the retention purge."""

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tahoe_registration_api import audit
from tahoe_registration_api.models import AuditEntry
from tahoe_registration_api.pipeline import CREATED, LearnerOutcome
from tests.conftest import Caller, learner_body

PASSWORD = "Sup3r-Secret-Passw0rd!"


@pytest.fixture
def purge_due(monkeypatch):
    """The next write purges, as a process's first write does."""
    monkeypatch.setattr(audit.RETENTION, "next_at", 0.0)


def entry_fields(entry):
    return {name: getattr(entry, name) for name in (
        "site_id", "caller_id", "action", "status", "outcome", "error_code", "learner_id", "request_id")}


def test_each_attempt_is_kept_as_its_log_record_says(alpha, beta, alpha_admin, anonymous):
    ok = alpha_admin.register(alpha, learner_body(password=PASSWORD), HTTP_X_REQUEST_ID="req-1")
    alpha_admin.register(alpha, learner_body(password=PASSWORD))
    alpha_admin.register(beta, learner_body(username="other", email="o@example.com"))
    alpha_admin.register(alpha, learner_body(username="dry", email="d@example.com"), url=(
        "/tahoe/api/v1/registrations/?dry_run=true"))
    anonymous.register(alpha, learner_body())
    entries = [entry_fields(entry) for entry in AuditEntry.objects.order_by("pk")]
    admin = alpha_admin.user.pk
    assert entries == [
        {"site_id": alpha.site.pk, "caller_id": admin, "action": "register", "status": 200,
         "outcome": "registered", "error_code": "", "learner_id": ok.json()["user_id"], "request_id": "req-1"},
        {"site_id": alpha.site.pk, "caller_id": admin, "action": "register", "status": 409, "outcome": "refused",
         "error_code": "duplicate-email-username", "learner_id": None, "request_id": entries[1]["request_id"]},
        {"site_id": beta.site.pk, "caller_id": admin, "action": "register", "status": 403, "outcome": "refused",
         "error_code": "not-site-admin", "learner_id": None, "request_id": entries[2]["request_id"]},
        {"site_id": alpha.site.pk, "caller_id": admin, "action": "dry_run", "status": 200, "outcome": "checked",
         "error_code": "", "learner_id": None, "request_id": entries[3]["request_id"]},
        {"site_id": alpha.site.pk, "caller_id": None, "action": "register", "status": 401, "outcome": "refused",
         "error_code": "not-authenticated", "learner_id": None, "request_id": entries[4]["request_id"]},
    ]


def test_no_entry_holds_a_password_token_email_or_name(alpha, alpha_admin):
    alpha_admin.register(alpha, learner_body(password=PASSWORD))
    alpha_admin.register(alpha, learner_body(password=PASSWORD))
    Caller(token=alpha_admin.token[::-1]).register(alpha, learner_body(password=PASSWORD))
    secrets = [PASSWORD, alpha_admin.token, alpha_admin.token[::-1], "alex.userton@example.com", "Alex Userton",
               alpha_admin.user.email]
    stored = [str(value) for entry in AuditEntry.objects.values() for value in entry.values()]
    assert len(stored) == 3 * len(AuditEntry._meta.fields)
    assert not [value for value in stored for secret in secrets if secret in value]


def test_one_entry_per_learner_of_a_batch_written_in_one_statement(alpha):
    outcomes = [LearnerOutcome(ref=None, result=CREATED, user_id=learner_id) for learner_id in (7, 8)]
    records = [audit.record_learner("bulk_register", alpha.site, 1, "job-1", outcome) for outcome in outcomes]
    with CaptureQueriesContext(connection) as captured:
        audit.store(records, alpha.site)
    assert [q["sql"].split()[0] for q in captured.captured_queries if "auditentry" in q["sql"]] == ["INSERT"]
    assert list(AuditEntry.objects.values_list("action", "learner_id", "request_id", "status", "outcome")) == [
        ("bulk_register", 7, "job-1", None, "registered"), ("bulk_register", 8, "job-1", None, "registered")]


def refuse_to_write(*args, **kwargs):
    raise DatabaseError("the audit table is unavailable")


@pytest.mark.parametrize("url,status", [
    ("/tahoe/api/v1/registrations/", 200),  # a view outside the request's transaction
    ("/tahoe/api/v1/registrations/{id}/resend/", 202),  # a view inside it (ATOMIC_REQUESTS)
])
def test_an_entry_that_cannot_be_written_never_changes_the_answer(
    alpha, alpha_admin, monkeypatch, caplog, url, status
):
    learner = alpha_admin.register(alpha, learner_body()).json()["user_id"]
    monkeypatch.setattr(AuditEntry, "save", refuse_to_write)
    response = alpha_admin.register(alpha, {} if "resend" in url else learner_body(username="u2", email="u2@x.org"),
                                    url=url.format(id=learner))
    assert response.status_code == status, response.content
    assert "were not stored" in caplog.text
    monkeypatch.undo()
    assert alpha_admin.register(alpha, learner_body(username="u3", email="u3@x.org")).status_code == 200


def test_the_purge_runs_after_the_callers_commit_and_its_failure_changes_no_answer(
    alpha, alpha_admin, monkeypatch, caplog, purge_due
):  # pylint: disable=unused-argument
    learner = alpha_admin.register(alpha, learner_body()).json()["user_id"]
    audit.RETENTION.next_at = 0.0
    purges = []

    def purge():
        purges.append("ran")
        raise DatabaseError("deadlock")

    monkeypatch.setattr(audit.RETENTION, "purge", purge)
    with TestCase.captureOnCommitCallbacks(execute=False) as after_commit:
        response = alpha_admin.client.post(f"/tahoe/api/v1/registrations/{learner}/resend/", {}, format="json",
                                           HTTP_HOST=alpha.domain)
    assert response.status_code == 202
    assert purges == []  # not inside the resend's transaction (the LMS's ATOMIC_REQUESTS)...
    for callback in after_commit:
        callback()
    assert purges == ["ran"]  # ...but after its commit, where a failure is only logged
    assert "purge failed" in caplog.text


def old_entries(site, ages):
    now = timezone.now()
    AuditEntry.objects.bulk_create(
        AuditEntry(created=now - timedelta(days=age), site_id=site.site.pk, action="register", status=200,
                   outcome="registered")
        for age in ages
    )


def ages_in_days():
    now = timezone.now()
    return sorted(round((now - created) / timedelta(days=1)) for created in
                  AuditEntry.objects.values_list("created", flat=True))


def test_entries_older_than_the_retention_are_purged_as_entries_are_written(
    alpha, alpha_admin, settings, purge_due
):  # pylint: disable=unused-argument
    assert settings.TAHOE_REGISTRATION_API_AUDIT_RETENTION_DAYS == 90  # the default
    old_entries(alpha, [120, 91, 89, 10])
    assert alpha_admin.register(alpha, learner_body()).status_code == 200
    assert ages_in_days() == [0, 10, 89]
    settings.TAHOE_REGISTRATION_API_AUDIT_RETENTION_DAYS = 30
    old_entries(alpha, [45])
    alpha_admin.register(alpha, learner_body())  # within the interval: no purge yet
    assert ages_in_days() == [0, 0, 10, 45, 89]
    audit.RETENTION.next_at = 0.0  # the interval has passed
    alpha_admin.register(alpha, learner_body())
    assert ages_in_days() == [0, 0, 0, 10]


def test_a_purge_is_bounded_and_a_backlog_drains_over_the_next_writes(
    alpha, monkeypatch, purge_due
):  # pylint: disable=unused-argument
    monkeypatch.setattr(audit.RETENTION, "batch", 2)
    old_entries(alpha, [100] * 5)
    record = {"action": "register", "status": 401, "outcome": "refused", "caller_id": None, "error_code": None,
              "learner_id": None, "request_id": None}
    with CaptureQueriesContext(connection) as captured, TestCase.captureOnCommitCallbacks(execute=True):
        audit.store([record], alpha.site)
    purge = [q["sql"] for q in captured.captured_queries if "tahoe_registration_api_auditentry" in q["sql"]]
    assert [sql.split()[0] for sql in purge] == ["INSERT", "SELECT", "DELETE"]  # the entry, then one bounded purge
    counts = [AuditEntry.objects.count()]
    for _ in range(3):
        with TestCase.captureOnCommitCallbacks(execute=True):
            audit.store([record], alpha.site)
        counts.append(AuditEntry.objects.count())
    assert counts == [4, 3, 3, 4]  # 5 old + 1; then +1 -2 each write until the backlog is gone; then +1
