"""Registration jobs: a CSV (or a bulk body) registered in the background, its status and its results."""

import csv
import io
import uuid
from collections import Counter
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import TestCase, override_settings
from django.utils import timezone

from tahoe_registration_api import jobs, pipeline, sealing, tasks
from tahoe_registration_api.models import RegistrationJob, RegistrationJobChunk, RegistrationJobRow
from tests.conftest import Caller, make_user
from tests.rows import row_counts

JOBS_URL = "/tahoe/api/v1/registration-jobs/"
PASSWORD = "Str0ng-enough-pw"


def csv_of(*lines):
    """A CSV body from lines."""
    return ("\n".join(lines) + "\n").encode("utf-8")


def post_csv(caller, site, body, **extra):
    """POST a CSV job (its task runs at the commit: the development LMS's Celery is eager)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return caller.client.post(JOBS_URL, body, content_type="text/csv", HTTP_HOST=site.domain, **extra)


def outcomes_of(job_id):
    """Count the job's rows by outcome (None: waiting)."""
    return dict(Counter(RegistrationJobRow.objects.filter(job_id=job_id).values_list("outcome", flat=True)))


def get(caller, site, url):
    """GET a job's URL."""
    return caller.client.get(url, HTTP_HOST=site.domain)


def results_of(caller, site, job_id):
    """The job's results CSV as a list of dicts."""
    response = get(caller, site, f"{JOBS_URL}{job_id}/results/")
    assert response.status_code == 200, response
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8"))))


def test_a_csv_job_runs_to_the_end_and_reports_every_row(alpha, alpha_admin):
    make_user("taken", alpha)
    response = post_csv(alpha_admin, alpha, csv_of(
        "username,email,name,password,send_activation_email,language,ref",
        "ada,ada@example.com,Ada Lovelace,,,,crm-1",
        "bob,taken@example.com,Bob Taken,,,,crm-2",
        "cy,not-an-email,Cy Invalid,,,,crm-3",
        f"dee,dee@example.com,Dee Active,{PASSWORD},false,fr,crm-4",
    ))
    assert response.status_code == 202, response.content
    job_id = response.json()["job_id"]
    assert response.json()["status"] == "queued"
    assert response["Location"] == f"http://{alpha.domain}{JOBS_URL}{job_id}/"
    status = get(alpha_admin, alpha, response["Location"]).json()
    assert {key: status[key] for key in ("status", "total", "processed", "created", "failed")} == {
        "status": "done", "total": 4, "processed": 4, "created": 2, "failed": 2}
    assert status["created_at"] <= status["started_at"] <= status["finished_at"]
    rows = results_of(alpha_admin, alpha, job_id)
    users = get_user_model().objects
    columns = ("row", "ref", "username", "status", "error_code", "fields")
    assert [tuple(row[column] for column in columns) for row in rows] == [
        ("2", "crm-1", "ada", "200", "", ""),
        ("3", "crm-2", "bob", "409", "duplicate-email", "email"),
        ("4", "crm-3", "cy", "400", "validation-error", "email"),
        ("5", "crm-4", "dee", "200", "", ""),
    ]
    assert rows[0]["user_id"] == str(users.get(username="ada").pk)
    assert users.get(username="dee").is_active
    assert [message.to for message in mail.outbox] == [["ada@example.com"]]


def test_a_json_body_makes_a_job_too(alpha, alpha_admin):
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = alpha_admin.client.post(JOBS_URL, {"learners": [
            {"username": "ada", "email": "ada@example.com", "name": "Ada", "ref": "a"},
            {"username": "ada", "email": "ada2@example.com", "name": "Ada Again", "ref": "b"},
        ]}, format="json", HTTP_HOST=alpha.domain)
    assert response.status_code == 202
    rows = results_of(alpha_admin, alpha, response.json()["job_id"])
    assert [(row["row"], row["ref"], row["status"], row["error_code"]) for row in rows] == [
        ("1", "a", "200", ""), ("2", "b", "409", "duplicate-username")]


@pytest.mark.parametrize("body, line, words", [
    (b"", 1, "empty"),
    (csv_of(""), 1, "empty"),
    (csv_of("username,name", "ada,Ada"), 1, "lacks the column email"),
    (csv_of("user,mail", "ada,ada@example.com"), 1, "lacks the columns username, email, name"),
    (csv_of("username,email,name,email", "a,b,c,d"), 1, "email more than once"),
    (csv_of("username,email,name", "ada,ada@example.com,Ada", "bob,bob@example.com,Bob,extra"), 3, "4 fields"),
    (csv_of("username,email,name", "ada,ada@example.com,Ada") + b"bob,b\xff@example.com,Bob\n", 3, "not UTF-8"),
    (csv_of("username,email,name", 'ada,"ada@example.com,Ada'), 2, "not CSV"),
    (csv_of("username,email,name"), 2, "no learners"),
])
def test_a_malformed_csv_is_a_400_naming_the_line_and_makes_no_job(alpha, alpha_admin, body, line, words):
    before = row_counts()
    response = post_csv(alpha_admin, alpha, body)
    assert response.status_code == 400, response.content
    assert response.json()["error_code"] == "invalid-file"
    message = response.json()["field_errors"]["file"]["user_message"]
    assert message.startswith(f"Line {line}:") and words in message, message
    assert RegistrationJob.objects.count() == 0 and row_counts() == before


def test_a_bom_and_blank_lines_and_other_columns_are_accepted(alpha, alpha_admin):
    body = "\ufeffUsername, Email ,NAME,department\n\nada,ada@example.com,Ada,R&D\n\n".encode("utf-8")
    response = post_csv(alpha_admin, alpha, body)
    assert response.status_code == 202, response.content
    assert [row["status"] for row in results_of(alpha_admin, alpha, response.json()["job_id"])] == ["200"]


@override_settings(TAHOE_REGISTRATION_API_JOB_MAX_ROWS=2)
def test_more_rows_than_the_setting_allows_is_a_413_and_makes_no_job(alpha, alpha_admin):
    response = post_csv(alpha_admin, alpha, csv_of(
        "username,email,name", "a1,a1@example.com,A", "a2,a2@example.com,A", "a3,a3@example.com,A"))
    assert response.status_code == 413 and response.json()["error_code"] == "too-many-learners"
    assert RegistrationJob.objects.count() == 0 and RegistrationJobRow.objects.count() == 0


def test_only_the_admins_of_the_jobs_site_see_it_and_everyone_else_gets_the_same_404(
    alpha, beta, alpha_admin, beta_admin, alpha_learner, anonymous
):
    job_id = post_csv(alpha_admin, alpha, csv_of("username,email,name", "ada,ada@example.com,Ada")).json()["job_id"]
    other_admin = Caller(make_user("alpha_admin2", alpha, is_admin=True))
    for url in (f"{JOBS_URL}{job_id}/", f"{JOBS_URL}{job_id}/results/"):
        assert get(alpha_admin, alpha, url).status_code == 200
        assert get(other_admin, alpha, url).status_code == 200
        unknown = get(alpha_admin, alpha, url.replace(job_id, str(uuid.uuid4())))
        for caller, site in ((beta_admin, beta), (beta_admin, alpha), (alpha_learner, alpha)):
            response = get(caller, site, url)
            assert response.status_code == 404, (caller.user.username, site.domain, url)
            assert response.json() == unknown.json()
        assert get(anonymous, alpha, url).status_code == 401


def test_the_results_csv_never_holds_a_password_and_cells_are_spreadsheet_safe(alpha, alpha_admin):
    response = post_csv(alpha_admin, alpha, csv_of(
        "username,email,name,password,ref", f"ada,ada@example.com,Ada,{PASSWORD},=HYPERLINK(1)"))
    content = get(alpha_admin, alpha, f"{JOBS_URL}{response.json()['job_id']}/results/")
    text = b"".join(content.streaming_content).decode("utf-8")
    assert PASSWORD not in text
    assert "'=HYPERLINK(1)" in text
    assert RegistrationJobRow.objects.get().payload == ""


def test_a_waiting_rows_password_is_sealed_in_the_database(alpha, alpha_admin):
    with mock.patch.object(jobs, "queue_job"):  # no worker: the job waits
        body = csv_of("username,email,name,password", f"ada,ada@example.com,Ada Lovelace,{PASSWORD}")
        response = post_csv(alpha_admin, alpha, body)
    row = RegistrationJobRow.objects.get()
    # Sealed: neither the password nor the name in clear (a name of a few letters may turn up in any
    # random ciphertext by chance: the full name may not), and the seal opens to the row's fields.
    assert PASSWORD not in row.payload and "Ada Lovelace" not in row.payload and row.outcome is None
    assert sealing.unseal(row.payload)["password"] == PASSWORD
    assert get(alpha_admin, alpha, f"{JOBS_URL}{response.json()['job_id']}/").json()["status"] == "queued"


def test_a_jobs_rows_are_cut_into_chunks_of_100_consecutive_rows(alpha, alpha_admin):
    lines = ["username,email,name"] + [f"l{number},l{number}@example.com,L {number}" for number in range(250)]
    with mock.patch.object(jobs, "queue_job") as queue_job:
        job_id = post_csv(alpha_admin, alpha, csv_of(*lines)).json()["job_id"]
    # Row numbers are the CSV's lines: the header is line 1.
    assert list(RegistrationJobChunk.objects.filter(job_id=job_id).order_by("first_number").values_list(
        "first_number", "last_number", "state")) == [(2, 101, "waiting"), (102, 201, "waiting"), (202, 251, "waiting")]
    queue_job.assert_called_once_with(uuid.UUID(job_id), tasks=3)  # a task per chunk, up to the parallelism


def test_a_job_queues_at_most_its_parallelism_of_tasks(alpha, alpha_admin, settings):
    settings.TAHOE_REGISTRATION_API_JOB_PARALLELISM = 2
    lines = ["username,email,name"] + [f"l{number},l{number}@example.com,L {number}" for number in range(450)]
    with mock.patch.object(tasks.run_registration_job, "apply_async") as apply_async:
        job_id = post_csv(alpha_admin, alpha, csv_of(*lines)).json()["job_id"]
    assert [call.kwargs["args"] for call in apply_async.call_args_list] == [(job_id,), (job_id,)]


def test_a_task_registers_one_chunk_then_queues_itself_at_the_tail(alpha, alpha_admin):
    lines = ["username,email,name"] + [f"l{number},l{number}@example.com,L {number}" for number in range(150)]
    with mock.patch.object(jobs, "queue_job"):
        job_id = post_csv(alpha_admin, alpha, csv_of(*lines)).json()["job_id"]
    with mock.patch.object(jobs, "queue_job") as queue_job, TestCase.captureOnCommitCallbacks(execute=True):
        tasks.run_registration_job(job_id)  # pylint: disable=no-value-for-parameter  # as a worker runs it
    queue_job.assert_called_once_with(job_id)
    assert outcomes_of(job_id) == {"created": 100, None: 50}
    job = RegistrationJob.objects.get(pk=job_id)
    assert (job.status, job.processed, job.created_count) == ("running", 100, 100)


def test_claims_never_give_one_chunk_twice_nor_run_more_chunks_than_the_parallelism(alpha, alpha_admin, settings):
    settings.TAHOE_REGISTRATION_API_JOB_PARALLELISM = 2
    lines = ["username,email,name"] + [f"l{number},l{number}@example.com,L {number}" for number in range(350)]
    with mock.patch.object(jobs, "queue_job"):
        job_id = post_csv(alpha_admin, alpha, csv_of(*lines)).json()["job_id"]
    job = RegistrationJob.objects.get(pk=job_id)
    first, second = jobs._claim(job, "task-1"), jobs._claim(job, "task-2")
    assert (first.chunk.first_number, second.chunk.first_number) == (2, 102)
    third = jobs._claim(job, "task-3")
    assert third.chunk is None and not third.finished and third.wait == 120  # two run: look again once one is stale
    running = RegistrationJobChunk.objects.filter(job=job, state="running")
    assert dict(running.values_list("first_number", "runner")) == {2: "task-1", 102: "task-2"}


def test_a_chunk_resumes_after_its_worker_died_mid_chunk_and_registers_nobody_twice(alpha, alpha_admin):
    lines = ["username,email,name"] + [f"l{number},l{number}@example.com,L {number}" for number in range(250)]
    with mock.patch.object(jobs, "queue_job"):
        job_id = post_csv(alpha_admin, alpha, csv_of(*lines)).json()["job_id"]
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert not jobs.run_chunk(job_id, runner="dead-task").finished  # rows 2-101
    real_report, reports = jobs.RowMarks.report, []

    def dies_after_30(marks, row, outcome):
        real_report(marks, row, outcome)
        reports.append(row.number)
        if len(reports) == 30:
            raise KeyboardInterrupt("the worker died")

    # The task of rows 102-201 dies as it reports the 30th: the groups committed (2 of 20) are registered
    # and marked, the rest wait.
    dying = mock.patch.object(jobs.RowMarks, "report", dies_after_30)
    with dying, pytest.raises(KeyboardInterrupt), TestCase.captureOnCommitCallbacks(execute=True):
        jobs.run_chunk(job_id, runner="dead-task")
    assert outcomes_of(job_id) == {"created": 100 + 2 * pipeline.GROUP_SIZE, None: 150 - 2 * pipeline.GROUP_SIZE}
    chunk = RegistrationJobChunk.objects.get(job_id=job_id, first_number=102)
    assert (chunk.state, chunk.runner) == ("running", "dead-task")
    # While its heartbeat is fresh, nobody else takes it; once it is old, another task resumes it.
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert jobs.run_chunk(job_id, runner="live-task").finished is False  # rows 202-251
    assert jobs.run_chunk(job_id, runner="live-task").again_in > 0
    RegistrationJobChunk.objects.filter(pk=chunk.pk).update(heartbeat=timezone.now() - timedelta(hours=1))
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert jobs.run_chunk(job_id, runner="live-task").finished
    job = RegistrationJob.objects.get(pk=job_id)
    assert (job.status, job.total, job.processed, job.created_count) == ("done", 250, 250, 250)
    assert get_user_model().objects.filter(username__startswith="l").count() == 250
    # Every learner got one email: the dead task's as it ran, the resumed task's later; nobody twice.
    assert sorted(message.to[0] for message in mail.outbox) == sorted(f"l{number}@example.com" for number in range(250))


def test_a_task_whose_chunk_was_taken_over_stops(alpha, alpha_admin):
    lines = ["username,email,name"] + [f"l{number},l{number}@example.com,L {number}" for number in range(50)]
    with mock.patch.object(jobs, "queue_job"):
        job_id = post_csv(alpha_admin, alpha, csv_of(*lines)).json()["job_id"]
    real_report = jobs.RowMarks.report

    def slow_then_taken(marks, row, outcome):
        real_report(marks, row, outcome)
        if row.number == 11:  # another task claimed the chunk meanwhile (this one looked dead)
            RegistrationJobChunk.objects.filter(job_id=job_id).update(runner="other-task")
            marks.beaten_at -= jobs.HEARTBEAT_SECONDS

    with mock.patch.object(jobs.RowMarks, "report", slow_then_taken), TestCase.captureOnCommitCallbacks(execute=True):
        outcome = jobs.run_chunk(job_id, runner="task")
    assert not outcome.finished
    # It stopped at its next heartbeat: after the group it was reporting (committed already), none after.
    assert outcomes_of(job_id) == {"created": pipeline.GROUP_SIZE, None: 50 - pipeline.GROUP_SIZE}


def test_a_task_whose_chunk_was_taken_over_as_it_ended_leaves_its_completion_to_the_other(alpha, alpha_admin):
    with mock.patch.object(jobs, "queue_job"):
        job_id = post_csv(alpha_admin, alpha, csv_of("username,email,name", "ada,ada@example.com,Ada")).json()["job_id"]
    real_register_rows = jobs._register_rows

    def taken_at_the_end(*args):
        real_register_rows(*args)
        RegistrationJobChunk.objects.filter(job_id=job_id).update(runner="other-task")

    with mock.patch.object(jobs, "_register_rows", taken_at_the_end), TestCase.captureOnCommitCallbacks(execute=True):
        assert not jobs.run_chunk(job_id, runner="task").finished
    chunk = RegistrationJobChunk.objects.get(job_id=job_id)
    assert (chunk.state, chunk.runner) == ("running", "other-task")  # the other task completes it
    assert RegistrationJob.objects.get(pk=job_id).status == "running" and outcomes_of(job_id) == {"created": 1}


def test_a_live_task_keeps_its_chunk_and_another_delivery_waits(alpha, alpha_admin):
    with mock.patch.object(jobs, "queue_job"):
        job_id = post_csv(alpha_admin, alpha, csv_of("username,email,name", "ada,ada@example.com,Ada")).json()["job_id"]
    chunks = RegistrationJobChunk.objects.filter(job_id=job_id)
    chunks.update(runner="live-task", heartbeat=timezone.now(), state="running")
    outcome = jobs.run_chunk(job_id, runner="second-delivery")
    assert not outcome.finished and outcome.again_in == 120
    assert RegistrationJobRow.objects.get().outcome is None


def test_a_row_another_task_marked_first_is_rolled_back_not_registered_twice(alpha, alpha_admin):
    with mock.patch.object(jobs, "queue_job"):
        job_id = post_csv(alpha_admin, alpha, csv_of("username,email,name", "ada,ada@example.com,Ada")).json()["job_id"]
    row = RegistrationJobRow.objects.get()
    real_prepare = pipeline.Pipeline._prepare

    def marked_elsewhere(registrar, data):  # another task marks the row as this one reads it
        RegistrationJobRow.objects.filter(pk=row.pk).update(outcome="created", user_id=999)
        return real_prepare(registrar, data)

    with mock.patch.object(pipeline.Pipeline, "_prepare", marked_elsewhere):
        jobs.run_chunk(job_id, runner="task")
    assert not get_user_model().objects.filter(username="ada").exists()
    assert RegistrationJobRow.objects.get(pk=row.pk).user_id == 999


def test_the_job_task_goes_to_the_operators_queue(alpha, alpha_admin, settings):
    settings.TAHOE_REGISTRATION_API_JOB_QUEUE = "tahoe.jobs"
    with mock.patch.object(tasks.run_registration_job, "apply_async") as apply_async:
        post_csv(alpha_admin, alpha, csv_of("username,email,name", "ada,ada@example.com,Ada"))
    (args, kwargs), = [(call.kwargs["args"], call.kwargs) for call in apply_async.call_args_list]
    assert kwargs["queue"] == "tahoe.jobs" and args == (str(RegistrationJob.objects.get().pk),)


def test_old_jobs_are_deleted_as_new_ones_are_created(alpha, alpha_admin):
    old_id = post_csv(alpha_admin, alpha, csv_of("username,email,name", "ada,ada@example.com,Ada")).json()["job_id"]
    RegistrationJob.objects.filter(pk=old_id).update(created_at=timezone.now() - timedelta(days=31))
    post_csv(alpha_admin, alpha, csv_of("username,email,name", "bob,bob@example.com,Bob"))
    assert not RegistrationJob.objects.filter(pk=old_id).exists()
    assert RegistrationJobRow.objects.filter(job_id=old_id).count() == 0
    assert RegistrationJob.objects.count() == 1


def test_each_row_of_a_job_is_in_the_audit_store_under_the_jobs_id(alpha, alpha_admin):
    from tahoe_registration_api.models import AuditEntry  # pylint: disable=import-outside-toplevel

    job_id = post_csv(alpha_admin, alpha, csv_of(
        "username,email,name", "ada,ada@example.com,Ada", "bo,not-an-email,Bo")).json()["job_id"]
    entries = AuditEntry.objects.filter(action="job_register", request_id=job_id).order_by("pk")
    assert [(entry.status, entry.outcome, entry.error_code, entry.caller_id) for entry in entries] == [
        (None, "registered", "", alpha_admin.user.pk), (None, "refused", "validation-error", alpha_admin.user.pk)]
    assert entries[0].learner_id == get_user_model().objects.get(username="ada").pk


@pytest.mark.parametrize("state", ["running", "queued"])
def test_reading_the_status_of_a_stalled_job_queues_its_task_again_and_it_finishes(alpha, alpha_admin, state):
    with mock.patch.object(jobs, "queue_job"):  # the message is lost, or its worker died
        job_id = post_csv(alpha_admin, alpha, csv_of(
            "username,email,name", "ada,ada@example.com,Ada", "bob,bob@example.com,Bob")).json()["job_id"]
    long_ago = timezone.now() - timedelta(minutes=10)
    if state == "running":
        RegistrationJob.objects.filter(pk=job_id).update(status="running", heartbeat=long_ago)
        chunks = RegistrationJobChunk.objects.filter(job_id=job_id)
        chunks.update(state="running", runner="dead-task", heartbeat=long_ago)
    else:
        RegistrationJob.objects.filter(pk=job_id).update(created_at=long_ago)
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert get(alpha_admin, alpha, f"{JOBS_URL}{job_id}/").status_code == 200
    job = RegistrationJob.objects.get(pk=job_id)
    assert (job.status, job.created_count) == ("done", 2)


def test_reading_the_status_of_a_live_job_queues_nothing(alpha, alpha_admin):
    with mock.patch.object(jobs, "queue_job"):
        job_id = post_csv(alpha_admin, alpha, csv_of("username,email,name", "ada,ada@example.com,Ada")).json()["job_id"]
    RegistrationJob.objects.filter(pk=job_id).update(status="running", heartbeat=timezone.now())
    chunks = RegistrationJobChunk.objects.filter(job_id=job_id)
    chunks.update(state="running", runner="live-task", heartbeat=timezone.now())
    with mock.patch.object(jobs, "queue_job") as queue_job, TestCase.captureOnCommitCallbacks(execute=True):
        assert get(alpha_admin, alpha, f"{JOBS_URL}{job_id}/").json()["status"] == "running"
    queue_job.assert_not_called()


def test_a_failed_jobs_waiting_rows_lose_their_fields_when_it_ends(alpha, alpha_admin):
    with mock.patch.object(jobs, "queue_job"):
        job_id = post_csv(alpha_admin, alpha, csv_of(
            "username,email,name,password", f"ada,ada@example.com,Ada,{PASSWORD}")).json()["job_id"]
    assert RegistrationJobRow.objects.get().payload != ""
    alpha.site.delete()  # the job's site is gone: the job fails
    assert jobs.run_chunk(job_id, runner="task").finished
    job = RegistrationJob.objects.get(pk=job_id)
    assert (job.status, job.failure) == ("failed", "The job's site or organization no longer exists.")
    assert list(RegistrationJobRow.objects.values_list("outcome", "payload")) == [(None, "")]
