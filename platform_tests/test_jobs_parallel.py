"""
Registration jobs run in chunks by two real ``celery -A lms.celery worker`` processes on one Redis broker.

A job is cut into chunks of 100 rows; up to ``TAHOE_REGISTRATION_API_JOB_PARALLELISM`` (2 here)
tasks each claim one chunk, register it and queue themselves again at the tail of the job queue.
The first test has both workers share one job and kills one of them (SIGKILL) in the middle of a
chunk: the other worker claims the dead chunk once its heartbeat is old, and the job ends with
every learner registered once and emailed once. The second has a small job of another site
queued right behind a big one whose tasks keep both workers busy: it finishes while the big one
still has rows waiting.

The job's tasks go to a queue of their own, ``tahoe.jobs``, and the outbox's to ``tahoe.emails``.
In the first test both workers consume the job queue and the LMS's default one, only the second
the outbox's: the worker that is killed never dies in the middle of sending an email (which would
be the outbox's documented duplicate, test_outbox.py). In the second, no worker sends emails (the
first test proves them): both run jobs only.
"""

import re
from collections import Counter
from contextlib import contextmanager

import pytest
from django.contrib.auth import get_user_model
from tahoe_sites.models import UserOrganizationMapping

from tahoe_registration_api.models import OutboxMessage, RegistrationJob, RegistrationJobChunk, RegistrationJobRow

from test_jobs import results_of, status_of
from worker import celery_workers, queued_to, wait_for

JOBS_URL = "/tahoe/api/v1/registration-jobs/"
JOB_QUEUE, EMAIL_QUEUE = "tahoe.jobs", "tahoe.emails"
PARALLELISM = 2
# Seconds before another task claims the chunk of a task that died. A live task beats every second, but
# between two rows it may wait for sqlite's one writer (up to its 5 s busy timeout): shorter than that, a
# live chunk would be taken for dead and claimed twice.
HEARTBEAT_TIMEOUT = 10
WORKER_ENV = {
    "TAHOE_PLATFORM_WORKER_JOB_PARALLELISM": str(PARALLELISM),
    "TAHOE_PLATFORM_WORKER_JOB_QUEUE": JOB_QUEUE,
    "TAHOE_PLATFORM_WORKER_EMAIL_QUEUE": EMAIL_QUEUE,
    "TAHOE_PLATFORM_WORKER_JOB_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT),
    # The outbox's grace: an email owed by a learner whose worker died before handing it over goes out within seconds.
    "TAHOE_PLATFORM_WORKER_OUTBOX_SECONDS": "3",
}
# "Registration job <id>: rows <first>-<last> done by <task id> (<n> registered)." (jobs.py, at INFO)
DONE_LINE = re.compile(r"Registration job (?P<job>[0-9a-f-]+): rows (?P<first>\d+)-(?P<last>\d+) "
                       r"done by (?P<runner>\S+) \((?P<created>\d+) registered\)\.")
RECEIVED = re.compile(r"Task tahoe_registration_api\.run_registration_job\[(?P<id>[^\]]+)\] received")


@contextmanager
def two_workers(settings, first_queues, second_queues):
    """
    Two workers of the LMS on one broker consuming these queues (and the LMS's default one), this process
    queuing to it with the same job settings.
    """
    from lms.celery import APP  # pylint: disable=import-outside-toplevel

    settings.TAHOE_REGISTRATION_API_JOB_PARALLELISM = PARALLELISM
    settings.TAHOE_REGISTRATION_API_JOB_QUEUE = JOB_QUEUE
    settings.TAHOE_REGISTRATION_API_EMAIL_QUEUE = EMAIL_QUEUE
    queues = [[*first_queues, APP.conf.task_default_queue], [*second_queues, APP.conf.task_default_queue]]
    with celery_workers(queues, extra_env=WORKER_ENV) as running, queued_to(running[0].broker_url):
        yield running


@pytest.fixture(name="workers")
def fixture_workers(transactional_db, settings):  # pylint: disable=unused-argument
    """Two workers consuming the job queue; only the second sends the emails."""
    with two_workers(settings, [JOB_QUEUE], [JOB_QUEUE, EMAIL_QUEUE]) as running:
        yield running


@pytest.fixture(name="idle_workers")
def fixture_idle_workers(transactional_db, settings):  # pylint: disable=unused-argument
    """Two workers consuming no job queue yet (``start_consuming_jobs``), and sending no email."""
    with two_workers(settings, [], []) as running:
        yield running


def start_consuming_jobs(workers):
    """Have every worker consume the job queue from now on (Celery's remote control); wait for each to say so."""
    from lms.celery import APP  # pylint: disable=import-outside-toplevel

    replies = APP.control.add_consumer(JOB_QUEUE, reply=True, timeout=10, limit=len(workers))
    assert len(replies) == len(workers), replies


def job_lines(workers):
    """Each worker's log lines about registration jobs and their tasks (an assertion's message)."""
    return "\n".join(f"--- {worker.log_path.name}:\n" + "\n".join(
        line for line in worker.log_text().splitlines() if "egistration job" in line or "run_registration_job" in line)
        for worker in workers)


def wait_on(workers, predicate, timeout, what):
    """``wait_for``, its failure showing what the workers' logs say of the jobs."""
    try:
        return wait_for(predicate, timeout, what)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{job_lines(workers)}") from None


def learners_csv(prefix, count):
    """A passwordless CSV of ``count`` learners named ``<prefix><n>``."""
    return "username,email,name,ref\n" + "".join(
        f"{prefix}{n},{prefix}{n}@example.com,Learner {n},{prefix}-ref-{n}\n" for n in range(count))


def post_csv(caller, site, text):
    """POST a CSV job; return its id."""
    response = caller.client.post(JOBS_URL, text.encode("utf-8"), content_type="text/csv",
                                  **caller.headers(site.domain, {}))
    assert response.status_code == 202, response.content
    return response.json()["job_id"]


def chunks_done(worker, job_id):
    """The chunks of job ``job_id`` the worker's log says it finished, in its order: ``[(first, last, runner, n)]``."""
    return [(int(found["first"]), int(found["last"]), found["runner"], int(found["created"]))
            for found in DONE_LINE.finditer(worker.log_text()) if found["job"] == str(job_id)]


def logged_chunks(workers, job_id):
    """
    Each worker's "done by" lines of the job, once every chunk has one (the last is logged after its commit).

    ``{worker: [(first, last, runner, n)]}``.
    """
    def every_chunk_logged():
        logs = {worker: chunks_done(worker, job_id) for worker in workers}
        logged = {(first, last) for lines in logs.values() for first, last, _, _ in lines}
        return logs if logged >= set(chunk_bounds(job_id)) else None

    return wait_on(workers, every_chunk_logged, 10, f"a 'done by' line for each chunk of job {job_id}")


def chunk_bounds(job_id):
    """The job's chunks, by their first row: ``[(first, last)]``."""
    return list(RegistrationJobChunk.objects.filter(job_id=job_id).order_by("first_number").values_list(
        "first_number", "last_number"))


def finished(job_id):
    """Whether the job is done (read from its row: polling the API would take a core from the workers)."""
    return RegistrationJob.objects.filter(pk=job_id, status=RegistrationJob.DONE).exists()


def waiting_rows(job_id):
    """How many of the job's rows wait for their learner."""
    return RegistrationJobRow.objects.filter(job_id=job_id, outcome__isnull=True).count()


def assert_registered_once(caller, site, job_id, prefix, count):
    """Each row's learner registered once, a member of the site once; the results CSV in input order; none waits."""
    body = status_of(caller, site, job_id)
    assert {key: body[key] for key in ("status", "total", "processed", "created", "failed")} == {
        "status": "done", "total": count, "processed": count, "created": count, "failed": 0}
    usernames = [f"{prefix}{n}" for n in range(count)]
    users = dict(get_user_model().objects.filter(username__in=usernames).values_list("username", "pk"))
    assert len(users) == count
    assert get_user_model().objects.filter(email__in=[f"{name}@example.com" for name in usernames]).count() == count
    memberships = Counter(UserOrganizationMapping.objects.filter(user_id__in=users.values()).values_list(
        "user_id", "organization_id"))
    assert memberships == Counter({(pk, site.organization.pk): 1 for pk in users.values()})
    rows = results_of(caller, site, job_id)
    assert [(row["row"], row["username"], row["status"], row["user_id"]) for row in rows] == [
        (str(n + 2), name, "200", str(users[name])) for n, name in enumerate(usernames)]
    assert waiting_rows(job_id) == 0
    chunks = RegistrationJobChunk.objects.filter(job_id=job_id)
    assert set(chunks.values_list("state", flat=True)) == {RegistrationJobChunk.DONE}
    assert sum(chunks.values_list("processed", flat=True)) == sum(chunks.values_list("created_count", flat=True)) \
        == count


def assert_emailed_once(mailer, addresses):
    """Each address got exactly one email from the workers, and the outbox owes nobody one."""
    mailer.wait_for_messages(len(addresses), timeout=120, recipients=addresses)
    wait_for(lambda: not OutboxMessage.objects.filter(kind="email").exclude(state=OutboxMessage.SENT).exists(), 60,
             "the outbox to have sent every email")
    sent = Counter(message["To"] for message in mailer.messages())
    assert sent == Counter(dict.fromkeys(addresses, 1)), (len(sent), sent.most_common(3))


def test_two_workers_share_a_jobs_chunks_and_one_killed_mid_chunk_leaves_its_rows_to_the_other(
    alpha, alpha_admin, workers
):
    first, second = workers  # the first (killed) sends no email: the second does
    count = 600
    job_id = post_csv(alpha_admin, alpha, learners_csv("par", count))
    assert chunk_bounds(job_id) == [(first_row, first_row + 99) for first_row in range(2, count + 2, 100)]

    def marked_in(chunk):
        """How many rows of ``chunk`` are marked with their learner's outcome."""
        return RegistrationJobRow.objects.filter(job_id=job_id, number__gte=chunk.first_number,
                                                 number__lte=chunk.last_number, outcome__isnull=False).count()

    def first_worker_mid_chunk():
        """
        Once the first worker finished a chunk: the chunk it registers now (a task of its log), 20 to 80 rows in.

        (Rows are marked a group at a time: the pipeline's GROUP_SIZE, 20, learners in one transaction.)
        """
        if not chunks_done(first, job_id):
            return None
        its_tasks = set(RECEIVED.findall(first.log_text()))
        chunk = RegistrationJobChunk.objects.filter(
            job_id=job_id, state=RegistrationJobChunk.RUNNING, runner__in=its_tasks).first()
        return chunk if chunk is not None and 20 <= marked_in(chunk) <= 80 else None

    held = wait_on(workers, first_worker_mid_chunk, 120, "the first worker to finish a chunk, 20 rows into another")
    first.kill()
    # Killed in the middle of the job and of a chunk: rows wait, and the chunk is still the dead task's.
    done_by_first, dead_runner, marked_by_dead = chunks_done(first, job_id), held.runner, marked_in(held)
    held.refresh_from_db()
    assert (held.state, held.runner) == (RegistrationJobChunk.RUNNING, dead_runner), held
    assert 20 <= marked_by_dead < 100, marked_by_dead
    assert RegistrationJobChunk.objects.filter(job_id=job_id, state=RegistrationJobChunk.WAITING).exists()
    assert 100 <= count - waiting_rows(job_id) < count

    # No replacement worker, and no redelivery of the dead task (the broker's visibility timeout is Redis's
    # hour): a task on the second worker claims the dead chunk once its heartbeat is HEARTBEAT_TIMEOUT old.
    wait_on(workers, lambda: finished(job_id), 120, "the second worker to finish the job")
    done_by_second = logged_chunks(workers, job_id)[second]
    assert done_by_first and done_by_second, (done_by_first, done_by_second)
    # Each chunk done once: the dead one by the second worker only.
    assert sorted((first_row, last) for first_row, last, _, _ in done_by_first + done_by_second) == chunk_bounds(
        job_id), job_lines(workers)
    # The dead chunk resumed at its first unmarked row: the second worker registered only the rest of it.
    assert [created for first_row, _, _, created in done_by_second if first_row == held.first_number] == [
        100 - marked_by_dead]
    assert f"rows {held.first_number}-{held.last_number} showed no progress" in second.log_text()
    assert_registered_once(alpha_admin, alpha, job_id, "par", count)
    assert_emailed_once(second, [f"par{n}@example.com" for n in range(count)])


def test_a_small_job_of_another_site_queued_behind_a_big_one_finishes_while_the_big_one_still_has_rows_waiting(
    alpha, beta, alpha_admin, beta_admin, idle_workers
):
    workers = idle_workers
    first, second = workers
    # Both jobs queued before either worker takes a job's task: the big job's PARALLELISM tasks, then the small
    # job's one (otherwise this process, sqlite's writer after the workers, could queue it after the big job ends).
    big = post_csv(alpha_admin, alpha, learners_csv("big", 800))
    small = post_csv(beta_admin, beta, learners_csv("small", 5))
    assert len(chunk_bounds(big)) == 8 and RegistrationJob.objects.get(pk=big).status == RegistrationJob.QUEUED
    start_consuming_jobs(workers)

    wait_on(workers, lambda: finished(small) and finished(big), 120, "both jobs to finish")
    big_job, small_job = (RegistrationJob.objects.get(pk=job_id) for job_id in (big, small))
    assert big_job.started_at < small_job.started_at < small_job.finished_at < big_job.finished_at, job_lines(workers)
    # The workers took the big job's tasks first; the first to finish a chunk queued its task again behind the
    # small job's, and the next free worker took the small job's: the big job had done 3 of its 8 chunks at
    # most (a worker may take both of its tasks before the other is consuming), 2 ran, 3 at least waited.
    # Read from the times the workers wrote (a chunk's last heartbeat is its completion), not from this
    # process's polls: a poll a second late, on 2 cores beside two busy workers, would see more done.
    done_after_small = RegistrationJobChunk.objects.filter(
        job_id=big, state=RegistrationJobChunk.DONE, heartbeat__gt=small_job.finished_at).count()
    assert done_after_small >= 3, f"{done_after_small} of the big job's chunks ended after the small job.\n" + \
        job_lines(workers)
    logs = logged_chunks(workers, big)
    assert logs[first] and logs[second], job_lines(workers)  # both workers ran the big job's chunks
    big_chunks = [(first_row, last) for worker in workers for first_row, last, _, _ in logs[worker]]
    assert sorted(big_chunks) == chunk_bounds(big), job_lines(workers)  # each chunk once
    assert sum(created for worker in workers for _, _, _, created in logs[worker]) == 800
    small_chunks = [(first_row, last, created) for worker in workers
                    for first_row, last, _, created in chunks_done(worker, small)]
    assert small_chunks == [(2, 6, 5)], job_lines(workers)
    assert_registered_once(beta_admin, beta, small, "small", 5)
    assert_registered_once(alpha_admin, alpha, big, "big", 800)
