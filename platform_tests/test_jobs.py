"""
Registration jobs inside the LMS, run by a real ``celery -A lms.celery worker`` on a real Redis broker.

A CSV is registered end to end; then a worker is killed (SIGKILL) in the middle of a job, a new
worker is started, and the job resumes: every row registered once, every email sent once.
"""

import csv
import io
import time
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from tahoe_registration_api.models import OutboxMessage, RegistrationJob, RegistrationJobRow

from conftest import PASSWORD, Caller, make_user
from worker import celery_worker, queued_to, wait_for

JOBS_URL = "/tahoe/api/v1/registration-jobs/"
VISIBILITY_TIMEOUT = 3  # seconds: how soon the broker hands a dead worker's task to another
# The outbox's lease and grace: an email whose worker was killed after claiming it goes out again within seconds.
WORKER_ENV = {"TAHOE_PLATFORM_WORKER_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
              "TAHOE_PLATFORM_WORKER_OUTBOX_SECONDS": "3"}


@pytest.fixture(name="worker")
def fixture_worker(transactional_db):  # pylint: disable=unused-argument
    """A Celery worker of the LMS whose dead tasks the broker redelivers within seconds; this process queues to it."""
    with celery_worker(extra_env=WORKER_ENV) as running:
        with queued_to(running.broker_url):
            yield running


def post_csv(caller, site, text):
    """POST a CSV job."""
    return caller.client.post(JOBS_URL, text.encode("utf-8"), content_type="text/csv",
                              **caller.headers(site.domain, {}))


def status_of(caller, site, job_id):
    """The job's status body."""
    response = caller.request("GET", site, f"{JOBS_URL}{job_id}/")
    assert response.status_code == 200, response.content
    return response.json()


def results_of(caller, site, job_id):
    """The job's results CSV, as dicts."""
    response = caller.request("GET", site, f"{JOBS_URL}{job_id}/results/")
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8"))))


def test_a_csv_job_is_registered_end_to_end_by_the_lms_worker(alpha, alpha_admin, worker):
    make_user("taken", alpha)
    response = post_csv(alpha_admin, alpha, "\n".join([
        "username,email,name,password,send_activation_email,language,ref",
        "ada,ada@example.com,Ada Lovelace,,,,crm-1",
        "bob,taken@example.org,Bob Taken,,,,crm-2",
        "cy,cy@example.com,Cy,short,,,crm-3",
        f"dee,dee@example.com,Dee Active,{PASSWORD},false,fr,crm-4",
        f"eve,eve@example.com,Eve Activates,{PASSWORD},,,crm-5",
    ]) + "\n")
    assert response.status_code == 202, response.content
    job_id = response.json()["job_id"]
    assert response.json() == {"job_id": job_id, "status": "queued"}
    done = wait_for(lambda: (body := status_of(alpha_admin, alpha, job_id))["status"] == "done" and body, 60,
                    "the job to finish")
    assert {key: done[key] for key in ("total", "processed", "created", "failed")} == {
        "total": 5, "processed": 5, "created": 3, "failed": 2}
    rows = results_of(alpha_admin, alpha, job_id)
    assert [(row["ref"], row["status"], row["error_code"], row["fields"]) for row in rows] == [
        ("crm-1", "200", "", ""), ("crm-2", "409", "duplicate-email", "email"),
        ("crm-3", "400", "validation-error", "password"), ("crm-4", "200", "", ""), ("crm-5", "200", "", "")]
    users = get_user_model().objects
    assert users.get(username="dee").is_active and not users.get(username="eve").is_active
    messages = worker.wait_for_messages(2)
    assert sorted(message["To"] for message in messages) == ["ada@example.com", "eve@example.com"]
    assert all("Alpha Academy" in message["Subject"] for message in messages)
    assert "Task tahoe_registration_api.run_registration_job" in worker.log_text()


def test_a_job_whose_worker_is_killed_resumes_on_the_next_worker_and_registers_and_emails_nobody_twice(
    alpha, alpha_admin, worker
):
    count = 400
    lines = ["username,email,name,ref"] + [f"k{n},k{n}@example.com,Killed {n},r{n}" for n in range(count)]
    job_id = post_csv(alpha_admin, alpha, "\n".join(lines) + "\n").json()["job_id"]
    # Kill the worker once the job has marked its first chunk of rows, in the middle of the next.
    wait_for(lambda: status_of(alpha_admin, alpha, job_id)["processed"] >= 100, 120, "the job's first 100 rows")
    worker.kill()
    at_kill = RegistrationJobRow.objects.filter(job_id=job_id, outcome__isnull=False).count()
    assert 100 <= at_kill < count, at_kill
    assert RegistrationJob.objects.get(pk=job_id).status == "running"

    with celery_worker(extra_env=WORKER_ENV,
                       broker_url=worker.broker_url, mail_dir=worker.mail_dir) as second:
        done = wait_for(lambda: (body := status_of(alpha_admin, alpha, job_id))["status"] == "done" and body, 120,
                        "the job to resume and finish")
        assert {key: done[key] for key in ("total", "processed", "created", "failed")} == {
            "total": count, "processed": count, "created": count, "failed": 0}
        users = get_user_model().objects.filter(username__startswith="k")
        assert users.count() == count
        rows = results_of(alpha_admin, alpha, job_id)
        assert [row["status"] for row in rows] == ["200"] * count
        assert sorted(int(row["user_id"]) for row in rows) == sorted(users.values_list("pk", flat=True))
        second.wait_for_messages(count, timeout=120, recipients=[f"k{n}@example.com" for n in range(count)])
        time.sleep(2)  # any email sent twice would arrive now
        sent = Counter(message["To"] for message in second.messages())
        assert len(sent) == count and set(sent.values()) == {1}, sent.most_common(3)
        assert set(OutboxMessage.objects.values_list("state", flat=True)) == {"sent"}  # none owed
        assert "Task tahoe_registration_api.run_registration_job" in second.log_text()  # it ran the rest


def test_only_the_admins_of_the_jobs_site_see_it_and_everyone_else_gets_the_same_404(
    alpha, beta, alpha_admin, beta_admin, alpha_learner
):
    # lms.envs.test runs Celery eagerly: the job runs as the POST commits.
    job_id = post_csv(alpha_admin, alpha, "username,email,name\nada,ada@example.com,Ada\n").json()["job_id"]
    other_admin = Caller(make_user("alpha_admin2", alpha, is_admin=True))
    for path in (f"{JOBS_URL}{job_id}/", f"{JOBS_URL}{job_id}/results/"):
        assert alpha_admin.request("GET", alpha, path).status_code == 200
        assert other_admin.request("GET", alpha, path).status_code == 200
        unknown = alpha_admin.request("GET", alpha, path.replace(job_id, "8f0c6d0e-3f5e-4a59-9a57-2f4a4d1b2c3e"))
        for caller, site in ((beta_admin, beta), (beta_admin, alpha), (alpha_learner, alpha)):
            answer = caller.request("GET", site, path)
            assert (answer.status_code, answer.json()) == (404, unknown.json()), (caller.user.username, path)


def test_reading_a_stalled_jobs_status_queues_its_task_again_and_the_job_finishes(alpha, alpha_admin, monkeypatch):
    from tahoe_registration_api import jobs  # pylint: disable=import-outside-toplevel

    monkeypatch.setattr(jobs, "queue_job", lambda job_id, tasks=1: None)  # the messages are lost
    job_id = post_csv(alpha_admin, alpha, "username,email,name\nada,ada@example.com,Ada\n").json()["job_id"]
    monkeypatch.undo()
    assert status_of(alpha_admin, alpha, job_id)["status"] == "queued"  # not stalled yet: nothing queued
    RegistrationJob.objects.filter(pk=job_id).update(created_at=timezone.now() - jobs.heartbeat_timeout() * 2)
    status_of(alpha_admin, alpha, job_id)  # this read queues the task (eager here: it runs at the commit)
    finished = status_of(alpha_admin, alpha, job_id)
    assert (finished["status"], finished["created"]) == ("done", 1)
    assert get_user_model().objects.filter(username="ada").exists()
