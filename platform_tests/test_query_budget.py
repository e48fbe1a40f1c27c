"""
What a registration costs the LMS's database: every statement of the whole request, grouped.

Measured once the LMS is warm (one registration before), as in a running LMS where the
site's look-ups are cached. The groups show who issued each statement (``statements.py``).
The budget counts what the request runs, the outbox's message of the learner's email included;
the statements of the outbox's task, which ``lms.envs.test`` runs eagerly inside the request and a
production LMS on a Celery worker, are reported beside it. The outbox's sweep (one statement, at
most once a minute per process) is not due during the measured request.
"""

from unittest import mock

import pytest

from tahoe_registration_api import jobs, outbox
from tahoe_registration_api.models import RegistrationJob

from conftest import PASSWORD, Caller, learner_body
from statements import statements

BUDGETS = {
    "200 without a password": (learner_body(), 200, 30),
    "200 with a password": (learner_body(password=PASSWORD), 200, 30),
    # No email to write beside it: the webhooks' event is one INSERT of its own (issue 22: one statement at most).
    "200 with a password, no email": (learner_body(password=PASSWORD, send_activation_email=False), 200, 31),
    "409": (learner_body(username="first"), 409, 12),
    "400": (learner_body(email="not-an-email"), 400, 8),
}


@pytest.fixture
def warm(alpha, alpha_admin, monkeypatch):
    """One registration first: the site's look-ups are cached, as in any running LMS; the outbox swept."""
    response = alpha_admin.register(alpha, learner_body(username="first", email="first@example.com"))
    assert response.status_code == 200
    monkeypatch.setattr(outbox.SWEEP, "next_at", float("inf"))  # swept just now: not due for a minute


@pytest.mark.parametrize("answer", list(BUDGETS))
def test_statements_per_answer_in_the_whole_lms(alpha, alpha_admin, warm, answer):
    """Each answer stays within its budget: at most 30 statements for a 200 (31 without an email), 12, 8."""
    body, status, budget = BUDGETS[answer]
    caller = Caller(alpha_admin.user)  # a fresh client: no cookie from an earlier answer
    with statements() as log:
        response = caller.register(alpha, body)
    assert response.status_code == status, response.content
    print(f"\n{answer}:\n{log.report()}")
    assert log.request_total <= budget, f"{answer}: {log.request_total} statements over {budget}\n{log.report()}"


def test_the_plugin_leaves_the_session_and_the_duplicate_checks_to_nobody_else(alpha, alpha_admin, warm):
    """No session statement; the platform's global email check runs once (in its form)."""
    with statements() as log:
        assert Caller(alpha_admin.user).register(alpha, learner_body()).status_code == 200
    assert "session" not in log.by_group(), log.report()
    email_checks = [sql for _, sql in log.statements if 'FROM "auth_accountrecovery"' in sql]
    assert len(email_checks) == 1, email_checks


def test_three_webhooks_cost_a_registration_at_most_one_statement(alpha, alpha_admin, warm, settings):
    """The request's statements with three webhooks of the site hearing it, against none (their posts not counted)."""
    from test_webhooks import Receiver  # pylint: disable=import-outside-toplevel

    from tahoe_registration_api.webhooks import endpoints  # pylint: disable=import-outside-toplevel

    settings.TAHOE_REGISTRATION_API_WEBHOOK_ALLOW_PRIVATE = settings.TAHOE_REGISTRATION_API_WEBHOOK_ALLOW_HTTP = True
    receiver = Receiver()
    try:
        totals = {}
        for webhooks, username in ((0, "none"), (3, "three")):
            for _ in range(webhooks):
                endpoints.create(alpha.site.pk, receiver.url, ["learner.registered", "enrollment.created"], None)
            with statements() as log:
                response = Caller(alpha_admin.user).register(alpha, learner_body(
                    username=username, email=f"{username}@example.com"))
            assert response.status_code == 200, response.content
            totals[webhooks] = log.request_total
            print(f"\n{webhooks} webhooks:\n{log.report()}")
        assert len(receiver.wait_for(3)) == 3  # the three heard it (the posts ran in the task, not counted)
    finally:
        receiver.close()
    assert totals[3] <= totals[0] + 1, totals


BULK_URL = "/tahoe/api/v1/registrations/bulk/"
JOBS_URL = "/tahoe/api/v1/registration-jobs/"
LEARNER_BUDGET = 20  # issue 23: at most 20 statements per learner of a bulk call or a job


def group_learners(count):
    """``count`` passwordless learners of a bulk body or a job."""
    return [learner_body(username=f"grouped{number}", email=f"grouped{number}@example.com", name=f"Grouped {number}")
            for number in range(count)]


def test_a_learner_of_a_bulk_call_costs_at_most_20_statements(alpha, alpha_admin, warm):
    """A bulk call of 40 learners (two groups), every statement of the request, divided by 40."""
    with statements() as log:
        response = Caller(alpha_admin.user).register(alpha, {"learners": group_learners(40)}, url=BULK_URL)
    assert response.status_code == 200 and response.json()["created"] == 40, response.content
    per_learner = log.request_total / 40
    print(f"\na bulk call of 40: {per_learner:.2f} statements per learner\n{log.report()}")
    assert per_learner <= LEARNER_BUDGET, log.report()


def test_a_learner_of_a_job_costs_at_most_20_statements(alpha, alpha_admin, warm):
    """A job's chunk of 100 learners as a worker runs it (claim, groups, marks, audit, counts), divided by 100."""
    with mock.patch.object(jobs, "queue_job"):  # no worker: the chunk is run here, below
        response = Caller(alpha_admin.user).register(alpha, {"learners": group_learners(100)}, url=JOBS_URL)
    assert response.status_code == 202, response.content
    job_id = response.json()["job_id"]
    with statements() as log:
        assert jobs.run_chunk(job_id, runner="budget").finished
    assert RegistrationJob.objects.get(pk=job_id).created_count == 100
    per_learner = log.request_total / 100
    print(f"\na job's chunk of 100: {per_learner:.2f} statements per learner\n{log.report()}")
    assert per_learner <= LEARNER_BUDGET, log.report()
