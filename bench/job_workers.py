"""
Registration jobs inside the real LMS, run by the LMS's own Celery workers (``make bench-platform``).

Each phase starts ``worker_count`` fresh ``celery -A lms.celery worker`` processes (the platform
suite's ``Worker``: solo pool, one message fetched at a time) that consume only the job queue
(``TAHOE_REGISTRATION_API_JOB_QUEUE``, which the bench sets for itself and for the workers), then
creates a fresh job of passwordless learners from a CSV in this process, as the upload does; the
job's tasks reach the workers through the bench's Redis broker. It times the job from its
creation to its status ``done`` (read from the database every ``POLL_SECONDS``), and counts:

* the statements MariaDB received meanwhile from every client (its ``Questions`` counter: the
  upload's, the workers', transaction control and SAVEPOINTs included), less the bench's polls;
* the CPU of the job's workers, of MariaDB and of Redis (psutil), per learner;
* the outbox's tasks the job left on the LMS's default queue (each learner owes an email and an
  event): no job worker consumes that queue, so the bench's email worker delivers them later.

The workers are stopped after each phase and what the job's tasks left on its queue (a task that
was waiting for a running chunk when the job finished) is deleted, so the next phase starts clean.
"""

# pylint: disable=import-error  # runs in the LMS's environment (redis, platform_tests' worker), which the linters lack
import time
from pathlib import Path

from bench.imports import StatementCounter, server_statements, write_csv
from bench.server import cpu_seconds

JOB_TASK = "tahoe_registration_api.run_registration_job"
OUTBOX_TASKS = ("tahoe_registration_api.deliver_outbox_message", "tahoe_registration_api.sweep_outbox")
POLL_SECONDS = 0.25
PROGRESS_SECONDS = 15


def redis_process(broker_url):
    """Return the Redis server process of ``broker_url`` (psutil; None if not found)."""
    # pylint: disable=import-outside-toplevel
    from urllib.parse import urlparse

    import psutil

    port = str(urlparse(broker_url).port)
    for process in psutil.process_iter(["name", "cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if (process.info["name"] or "").startswith("redis-server") and (f":{port}" in cmdline or f" {port}" in cmdline):
            return process
    return None


def purge_queue(broker_url, queue):
    """Delete the messages left on ``queue`` (its Redis lists, priority steps included); return how many."""
    import redis  # pylint: disable=import-outside-toplevel

    client = redis.Redis.from_url(broker_url)
    removed = 0
    for key in client.scan_iter(match=f"{queue}*"):
        if client.type(key) == b"list":
            removed += client.llen(key)
            client.delete(key)
    return removed


def queue_length(broker_url, queue):
    """Return how many messages wait on ``queue``."""
    import redis  # pylint: disable=import-outside-toplevel

    return redis.Redis.from_url(broker_url).llen(queue)


def _task_counts(log_text):
    """Count, in a worker's log, the job's tasks it ran (succeeded, retried) and any outbox task it received."""
    lines = log_text.splitlines()
    return {
        "job_tasks_succeeded": sum(1 for line in lines if f"Task {JOB_TASK}[" in line and "] succeeded in " in line),
        "job_tasks_retried": sum(1 for line in lines if f"Task {JOB_TASK}[" in line and " retry: " in line),
        "outbox_tasks_received": sum(1 for line in lines if "] received" in line
                                     and any(f"Task {name}[" in line for name in OUTBOX_TASKS)),
        "errors_logged": sum(1 for line in lines if " ERROR/" in line or "Traceback" in line),
    }


class JobSetup:  # pylint: disable=too-few-public-methods,too-many-instance-attributes
    """What every job phase shares: the broker, the queues, the workers' environment, the site and the processes."""

    # pylint: disable-next=too-many-arguments
    def __init__(self, broker_url, directory, env, site, organization, caller, mariadb):
        """Keep them; find Redis's process."""
        from django.conf import settings  # pylint: disable=import-outside-toplevel

        self.broker_url = broker_url
        self.directory = Path(directory)
        self.env = env
        self.site, self.organization, self.caller = site, organization, caller
        self.mariadb = mariadb
        self.redis = redis_process(broker_url)
        self.queue = settings.TAHOE_REGISTRATION_API_JOB_QUEUE
        self.default_queue = settings.CELERY_DEFAULT_QUEUE
        self.parallelism = getattr(settings, "TAHOE_REGISTRATION_API_JOB_PARALLELISM", None)
        if not self.queue:
            raise RuntimeError("TAHOE_REGISTRATION_API_JOB_QUEUE is not set: the job workers would take the emails")


def _wait_for_job(job_id, deadline, workers, say):
    """Poll the job's status until it is finished (or the deadline, or a worker died); return it and the polls."""
    # pylint: disable=import-outside-toplevel
    from django.db import connection

    from tahoe_registration_api.models import RegistrationJob

    polls = StatementCounter()
    status, processed = None, 0
    next_progress = time.perf_counter() + PROGRESS_SECONDS
    with connection.execute_wrapper(polls):
        while True:
            status, processed = RegistrationJob.objects.filter(pk=job_id).values_list("status", "processed").get()
            if status in (RegistrationJob.DONE, RegistrationJob.FAILED) or time.perf_counter() > deadline:
                break
            dead = [worker for worker in workers if worker.process.poll() is not None]
            if dead:
                say(f"  a job worker exited ({dead[0].process.returncode}); its log: {dead[0].log_path}")
                break
            if time.perf_counter() >= next_progress:
                say(f"  ... {processed} rows processed")
                next_progress += PROGRESS_SECONDS
            time.sleep(POLL_SECONDS)
    return status, polls


def _job_figures(job_id):
    """Return the finished job's row as figures (its counts, its chunks, the database's own timestamps)."""
    from tahoe_registration_api.models import RegistrationJob  # pylint: disable=import-outside-toplevel

    job = RegistrationJob.objects.get(pk=job_id)
    chunks = getattr(job, "chunks", None)
    database_seconds = (job.finished_at - job.created_at).total_seconds() if job.finished_at else None
    return {
        "job_id": str(job.pk), "status": job.status, "failure": job.failure, "total": job.total,
        "processed": job.processed, "created": job.created_count, "chunks": chunks.count() if chunks else None,
        "database_seconds_created_to_finished": database_seconds,
    }


# pylint: disable-next=too-many-locals
def run_job_on_workers(setup, prefix, count, worker_count, say):
    """
    Start ``worker_count`` job workers, run a fresh job of ``count`` passwordless learners on them; return figures.

    The clock runs from the job's creation (the CSV read and its rows written, in this process)
    to the poll that reads its status ``done``.
    """
    # pylint: disable=import-outside-toplevel
    import psutil

    from tahoe_registration_api import jobs, learner_csv

    from worker import Worker  # platform_tests/, on the LMS bench's path

    path = write_csv(setup.directory / f"{prefix}.csv", prefix, count)
    (setup.directory / "job-mail").mkdir(exist_ok=True)
    purge_queue(setup.broker_url, setup.queue)
    say(f"job, {worker_count} worker{'s' if worker_count > 1 else ''}: starting the LMS's Celery worker(s) on the "
        f"queue {setup.queue} ...")
    workers = []
    try:
        for index in range(worker_count):
            workers.append(Worker(
                setup.broker_url, setup.directory / "job-mail", setup.directory / f"jobs{worker_count}-{index + 1}.log",
                env=setup.env, name=f"bench-jobs{worker_count}-{index + 1}", queues=[setup.queue]))
        say(f"  ready; a job of {count} passwordless learners (parallelism {setup.parallelism}) ...")
        processes = [psutil.Process(worker.process.pid) for worker in workers]
        me = psutil.Process()
        outbox_before = queue_length(setup.broker_url, setup.default_queue)
        machine_before = psutil.cpu_times()
        questions_before = server_statements()
        cpu_before = {"workers": cpu_seconds(processes, children=True), "mariadb": cpu_seconds([setup.mariadb]),
                      "redis": cpu_seconds([setup.redis]), "bench": cpu_seconds([me], children=False)}
        started = time.perf_counter()
        with open(path, "rb") as stream:
            job = jobs.create_job(learner_csv.read_learners(stream), site=setup.site, organization=setup.organization,
                                  caller=setup.caller, secure=False)
        uploaded = time.perf_counter()
        status, polls = _wait_for_job(job.pk, started + 120 + 0.1 * count, workers, say)
        seconds = time.perf_counter() - started
        cpu = {"workers": cpu_seconds(processes, children=True) - cpu_before["workers"],
               "mariadb": cpu_seconds([setup.mariadb]) - cpu_before["mariadb"],
               "redis": cpu_seconds([setup.redis]) - cpu_before["redis"],
               "bench": cpu_seconds([me], children=False) - cpu_before["bench"]}
        # every client's statements since, less the polls (and this very SHOW): the upload's and the workers'
        statements = server_statements() - questions_before - 1 - polls.statements - polls.transaction_control
        machine_after = psutil.cpu_times()
        outbox_queued = queue_length(setup.broker_url, setup.default_queue) - outbox_before
    finally:
        for worker in workers:
            worker.stop()
    left = purge_queue(setup.broker_url, setup.queue)
    figures = _job_figures(job.pk)
    total = sum(machine_after) - sum(machine_before)
    busy = total - ((machine_after.idle + getattr(machine_after, "iowait", 0.0))
                    - (machine_before.idle + getattr(machine_before, "iowait", 0.0)))
    figures.update({
        "workers": worker_count, "queue": setup.queue, "parallelism": setup.parallelism, "learners": count,
        "polled_status": status, "seconds": seconds, "upload_seconds": uploaded - started,
        "learners_per_second": count / seconds,
        "server_statements": statements, "server_statements_per_learner": statements / count,
        "poll_statements_excluded": polls.statements + polls.transaction_control,
        "workers_cpu_ms_per_learner": 1000 * cpu["workers"] / count,
        "mariadb_cpu_ms_per_learner": 1000 * cpu["mariadb"] / count,
        "redis_cpu_ms_per_learner": 1000 * cpu["redis"] / count if setup.redis else None,
        "bench_process_cpu_ms_per_learner": 1000 * cpu["bench"] / count,
        "machine_busy_fraction": busy / total if total else None,
        "other_processes_fraction": max(0.0, busy - sum(cpu.values())) / total if total else None,
        "outbox_tasks_left_on_default_queue": outbox_queued,
        "job_queue_messages_left_and_deleted": left,
        "by_worker": [dict(_task_counts(worker.log_text()), log=str(worker.log_path)) for worker in workers],
    })
    figures["outbox_tasks_run_by_job_workers"] = sum(w["outbox_tasks_received"] for w in figures["by_worker"])
    say(f"  {figures['status']} in {seconds:.1f} s (upload {figures['upload_seconds']:.1f} s): "
        f"{figures['learners_per_second']:.1f} learners/s, {figures['created']} created; "
        f"{figures['server_statements_per_learner']:.1f} statements/learner (MariaDB); CPU per learner: workers "
        f"{figures['workers_cpu_ms_per_learner']:.1f} ms, MariaDB {figures['mariadb_cpu_ms_per_learner']:.1f} ms; "
        f"job tasks per worker {[w['job_tasks_succeeded'] for w in figures['by_worker']]}; "
        f"{outbox_queued} outbox tasks left for the email worker")
    return figures


def measure_jobs(setup, prefix, count, say, worker_counts=(1, 2)):
    """Run a fresh job of ``count`` learners on 1 worker, then on 2; return their figures and the speed-up."""
    runs = [run_job_on_workers(setup, f"{prefix}w{workers}x", count, workers, say) for workers in worker_counts]
    speedup = runs[-1]["learners_per_second"] / runs[0]["learners_per_second"] if len(runs) > 1 else None
    if speedup is not None:
        say(f"  {worker_counts[-1]} workers / {worker_counts[0]}: {speedup:.2f}x the rate")
    return {"count": count, "queue": setup.queue, "parallelism": setup.parallelism, "runs": runs,
            "speedup": speedup}
