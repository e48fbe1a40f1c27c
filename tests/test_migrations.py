"""
Migrations on a database of the release before.

0006: a job's statuses become outcomes, owed emails are not lost. 0009: the jobs still waiting are
cut into chunks, which the tasks of this release claim.
"""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

APP = "tahoe_registration_api"
BEFORE, AFTER = (APP, "0005_registrationjobrow_email_due"), (APP, "0006_outbox_and_outcomes")


@pytest.fixture(name="migrate")
def fixture_migrate(transactional_db):  # pylint: disable=unused-argument
    """Migrate the app to a named migration; return the models of that state. Back to the latest at the end."""
    def migrate(target):
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate([target])
        return executor.loader.project_state([target]).apps
    yield migrate
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes(APP))


def test_statuses_become_outcomes_and_an_owed_email_moves_to_the_outbox(migrate):
    apps = migrate(BEFORE)
    job = apps.get_model(APP, "RegistrationJob").objects.create(
        id="6b1e5c2e-7d1b-4bb4-9a49-2bb8f1c0c001", site_id=2, organization_id=1, caller_id=1, secure=False)
    rows = apps.get_model(APP, "RegistrationJobRow").objects
    rows.create(job=job, number=2, status=200, user_id=7, email_due="password-reset")  # registered, email owed
    rows.create(job=job, number=3, status=200, user_id=8, email_due="")  # registered, email sent
    rows.create(job=job, number=4, status=409, error_code="duplicate-email", fields="email")
    rows.create(job=job, number=5, payload="sealed")  # waiting

    apps = migrate(AFTER)
    outcomes = apps.get_model(APP, "RegistrationJobRow").objects.order_by("number").values_list("number", "outcome")
    assert list(outcomes) == [(2, "created"), (3, "created"), (4, "refused"), (5, None)]
    outbox = apps.get_model(APP, "OutboxMessage").objects
    owed = outbox.values_list("kind", "topic", "site_id", "user_id", "payload", "state")
    assert list(owed) == [("email", "password-reset", 2, 7, '{"secure": false}', "pending")]


def test_the_migration_can_be_undone(migrate):
    apps = migrate(AFTER)
    job = apps.get_model(APP, "RegistrationJob").objects.create(
        id="6b1e5c2e-7d1b-4bb4-9a49-2bb8f1c0c002", site_id=2, organization_id=1, caller_id=1)
    rows = apps.get_model(APP, "RegistrationJobRow").objects
    rows.create(job=job, number=2, outcome="created", user_id=7)
    rows.create(job=job, number=3, outcome="refused", error_code="validation-error")
    apps = migrate(BEFORE)
    statuses = apps.get_model(APP, "RegistrationJobRow").objects.order_by("number").values_list("status", flat=True)
    assert list(statuses) == [200, 400]


def test_the_jobs_still_waiting_are_cut_into_chunks_of_100_rows(migrate):
    apps = migrate((APP, "0008_webhooks"))
    jobs, rows = apps.get_model(APP, "RegistrationJob").objects, apps.get_model(APP, "RegistrationJobRow").objects
    waiting = jobs.create(id="6b1e5c2e-7d1b-4bb4-9a49-2bb8f1c0c003", site_id=2, organization_id=1, caller_id=1,
                          status="running", runner="a-task-of-the-release-before")
    done = jobs.create(id="6b1e5c2e-7d1b-4bb4-9a49-2bb8f1c0c004", site_id=2, organization_id=1, caller_id=1,
                       status="done")
    row = apps.get_model(APP, "RegistrationJobRow")
    rows.bulk_create([row(job=waiting, number=number) for number in range(2, 252)])
    rows.create(job=done, number=2, outcome="created", user_id=7)

    apps = migrate((APP, "0009_registration_job_chunks"))
    chunks = apps.get_model(APP, "RegistrationJobChunk").objects.order_by("first_number")
    assert [(str(job_id), *rest) for job_id, *rest in chunks.values_list(
        "job_id", "first_number", "last_number", "state")] == [
        (waiting.pk, 2, 101, "waiting"), (waiting.pk, 102, 201, "waiting"), (waiting.pk, 202, 251, "waiting")]
