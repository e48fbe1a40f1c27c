"""
The import section of the benches: many learners at once, against the single-call figures.

* ``import_by_command``: ``tahoe_import_learners`` on a CSV of passwordless learners, in this
  process (the command an operator runs), with the learners' emails queued to a broker, not sent.
* ``import_by_job``: a registration job run in this process (``make bench``'s development LMS and
  ``make bench-paired``): the rows written from the CSV (what the upload does), then the job's
  chunks run one after another here. Inside the real LMS, ``bench/job_workers.py`` has the LMS's
  own Celery workers run the job instead.
* ``bulk_over_http``: bulk calls of 500 learners to the gunicorn server, one after the other.

Each reports learners per second and the statements MariaDB received per learner (its
``Questions`` counter: every statement of every client, transaction control included);
``upload_peak_mb`` measures the peak memory of a job's upload (the CSV is read line by line).
"""

import csv
import http.client
import io
import json
import time
import tracemalloc
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

NAME = "Bench Importee"


def write_csv(path, prefix, count):
    """Write a CSV of ``count`` passwordless learners named from ``prefix``."""
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["username", "email", "name", "ref"])
        for number in range(count):
            username = f"{prefix}{number}"
            writer.writerow([username, f"{username}@example.com", NAME, f"ref-{number}"])
    return path


class StatementCounter:  # pylint: disable=too-few-public-methods
    """A Django execute wrapper that counts the statements sent (SAVEPOINTs and RELEASEs apart)."""

    def __init__(self):
        """Start at zero."""
        self.statements = 0
        self.transaction_control = 0

    def __call__(self, execute, sql, params, many, context):
        """Count, then run the statement."""
        if sql.lstrip().upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")):
            self.transaction_control += 1
        else:
            self.statements += 1
        return execute(sql, params, many, context)


class PublishedTasks:  # pylint: disable=too-few-public-methods
    """Counts the tasks published to the broker by name, and the outbox messages they carry (``after_task_publish``)."""

    def __init__(self):
        """Start at zero."""
        self.by_name = {}
        self.emails = 0

    def __call__(self, sender=None, body=None, **kwargs):
        """Count one published task; an outbox delivery carries its messages' ids as its arguments."""
        self.by_name[sender] = self.by_name.get(sender, 0) + 1
        if sender == EMAIL_TASK and body:
            self.emails += len(body[0])  # Celery's message protocol 2: (args, kwargs, embed)


@contextmanager
def queued_emails():
    """Queue Celery tasks to an in-memory broker instead of running them (the LMS's workers would send them)."""
    from celery.signals import after_task_publish  # pylint: disable=import-outside-toplevel

    from tahoe_registration_api.tasks import deliver_outbox_message  # pylint: disable=import-outside-toplevel

    app = deliver_outbox_message.app  # the host's Celery app: the development LMS's, or the LMS's
    eager = app.conf.task_always_eager
    if eager:  # the development LMS names its Celery settings CELERY_*: that name wins over the short one
        app.conf.CELERY_TASK_ALWAYS_EAGER = False
    published = PublishedTasks()
    after_task_publish.connect(published, weak=False)
    try:
        yield published
    finally:
        after_task_publish.disconnect(published)
        if eager:
            app.conf.CELERY_TASK_ALWAYS_EAGER = True


EMAIL_TASK = "tahoe_registration_api.deliver_outbox_message"


def server_statements():
    """How many statements the MariaDB server has received from every client (its ``Questions`` counter)."""
    from django.db import connection  # pylint: disable=import-outside-toplevel

    with connection.cursor() as cursor:
        cursor.execute("SHOW GLOBAL STATUS LIKE 'Questions'")
        return int(cursor.fetchone()[1])


@contextmanager
def measured(mariadb=None):
    """
    Yield a dict filled, at the end, with seconds, statements and CPU seconds.

    ``statements``: what this thread sent through Django (SAVEPOINTs apart); ``server_statements``:
    what MariaDB received from every connection, transaction control (autocommit, COMMIT) included;
    ``cpu_seconds``: this process's (all its threads), and ``mariadb_cpu_seconds`` the server's
    (``mariadb``: its psutil process, when known).
    """
    # pylint: disable=import-outside-toplevel
    import psutil
    from django.db import connection

    from bench.server import cpu_seconds

    counter = StatementCounter()
    figures = {}
    me = psutil.Process()
    server_before = server_statements()
    cpu_before, mariadb_before = cpu_seconds([me], children=False), cpu_seconds([mariadb], children=True)
    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        yield figures
    figures["seconds"] = time.perf_counter() - started
    figures["cpu_seconds"] = cpu_seconds([me], children=False) - cpu_before
    figures["mariadb_cpu_seconds"] = cpu_seconds([mariadb], children=True) - mariadb_before if mariadb else None
    figures["statements"] = counter.statements
    figures["savepoint_statements"] = counter.transaction_control
    figures["server_statements"] = server_statements() - server_before - 1  # less this very SHOW


def _per_learner(figures, count, created):
    """Add the per-learner figures."""
    figures.update({
        "learners": count,
        "created": created,
        "learners_per_second": count / figures["seconds"],
        "server_statements_per_learner": figures["server_statements"] / count,
    })
    if "cpu_seconds" in figures:
        figures["process_cpu_ms_per_learner"] = 1000 * figures["cpu_seconds"] / count
    if figures.get("mariadb_cpu_seconds") is not None:
        figures["mariadb_cpu_ms_per_learner"] = 1000 * figures["mariadb_cpu_seconds"] / count
    return figures


# pylint: disable-next=too-many-arguments
def import_by_command(directory, site_domain, prefix, count, concurrency=1, mariadb=None):
    """
    Run ``tahoe_import_learners`` on ``count`` passwordless learners; return its figures and printed summary.

    Its CPU is this process's (the command's threads) and, given its psutil process, MariaDB's.
    """
    # pylint: disable=import-outside-toplevel
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    path = write_csv(Path(directory) / f"{prefix}.csv", prefix, count)
    out, err = io.StringIO(), io.StringIO()
    with queued_emails() as published, measured(mariadb) as figures:
        call_command("tahoe_import_learners", "--site", site_domain, str(path), "--concurrency", str(concurrency),
                     stdout=out, stderr=err)
    figures["emails_queued"] = published.emails
    figures["email_tasks_queued"] = published.by_name.get(EMAIL_TASK, 0)
    created = get_user_model().objects.filter(username__startswith=prefix).count()
    figures["summary"] = out.getvalue().strip().splitlines()
    figures["progress_last_line"] = err.getvalue().replace("\r", "\n").strip().splitlines()[-1]
    return _per_learner(figures, count, created)


def run_job_here(job_id, runner):
    """
    Run job ``job_id`` to its end in this process, one task's call after another; return how many calls.

    ``jobs.run_chunk`` (a chunk of 100 rows a call) or, in a checkout before jobs ran in chunks
    (``make bench-paired``'s other side), ``jobs.run_slice``.
    """
    from tahoe_registration_api import jobs  # pylint: disable=import-outside-toplevel

    if hasattr(jobs, "run_chunk"):
        step = jobs.run_chunk
    else:  # the other checkout of make bench-paired, before jobs ran in chunks
        step = jobs.run_slice  # pylint: disable=no-member
    calls = 1
    while True:
        outcome = step(job_id, runner=runner)
        if outcome.finished:
            return calls
        if outcome.again_in:  # only one runner here: nothing else holds a chunk, so this would wait forever
            raise RuntimeError(f"job {job_id}: asked to wait {outcome.again_in} s with no other runner")
        calls += 1


def import_by_job(directory, site, organization, caller, prefix, count):  # pylint: disable=too-many-arguments
    """Create a job from a CSV of ``count`` learners, then run it to the end in this process; return the figures."""
    # pylint: disable=import-outside-toplevel
    from tahoe_registration_api import jobs, learner_csv
    from tahoe_registration_api.models import RegistrationJob

    path = write_csv(Path(directory) / f"{prefix}.csv", prefix, count)
    with queued_emails() as published:
        with measured() as upload, open(path, "rb") as stream:
            job = jobs.create_job(learner_csv.read_learners(stream), site=site, organization=organization,
                                  caller=caller, secure=False)
        with measured() as figures:
            calls = run_job_here(job.pk, runner=f"bench-{prefix}")
        figures["emails_queued"] = published.emails
        figures["email_tasks_queued"] = published.by_name.get(EMAIL_TASK, 0)
    job = RegistrationJob.objects.get(pk=job.pk)
    figures.update({"status": job.status, "slices": calls, "upload": {
        "seconds": upload["seconds"], "server_statements": upload["server_statements"],
        "rows_per_second": count / upload["seconds"],
    }})
    return _per_learner(figures, count, job.created_count)


def post_json(connection, path, site, body):
    """POST ``body`` as JSON to ``path`` on ``site`` (host, admin token); return the response, its body, seconds."""
    host, token = site
    sent = time.perf_counter()
    connection.request("POST", path, body=json.dumps(body), headers={
        "Host": host, "Authorization": f"Token {token}", "Content-Type": "application/json"})
    response = connection.getresponse()
    raw = response.read()
    return response, raw, time.perf_counter() - sent


def bulk_over_http(port, host, token, prefix, calls, size):
    """Post ``calls`` bulk calls of ``size`` passwordless learners, one after the other; return the figures."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    latencies, created, failed, statuses = [], 0, 0, {}
    started = time.perf_counter()
    for call in range(calls):
        learners = [{"username": f"{prefix}{call}x{n}", "email": f"{prefix}{call}x{n}@example.com", "name": NAME}
                    for n in range(size)]
        response, raw, seconds = post_json(connection, "/tahoe/api/v1/registrations/bulk/", (host, token),
                                           {"learners": learners})
        latencies.append(seconds)
        statuses[str(response.status)] = statuses.get(str(response.status), 0) + 1
        if response.status == 200:
            answer = json.loads(raw)
            created += answer["created"]
            failed += answer["failed"]
    seconds = time.perf_counter() - started
    connection.close()
    learners = created + failed  # the learners of the calls answered 200
    return {
        "calls": calls, "learners_per_call": size, "learners": learners, "created": created, "failed": failed,
        "statuses": statuses, "seconds": seconds, "learners_per_second": learners / seconds,
        "call_seconds_p50": sorted(latencies)[len(latencies) // 2],
    }


def upload_peak_mb(directory, site, organization, caller, prefix, count):
    """Return the peak memory (MB, tracemalloc) of creating a job of ``count`` rows from a CSV, then delete it."""
    # pylint: disable=import-outside-toplevel
    from tahoe_registration_api import jobs, learner_csv

    path = write_csv(Path(directory) / f"{prefix}.csv", prefix, count)
    tracemalloc.start()
    try:
        with mock.patch.object(jobs, "queue_job"), open(path, "rb") as stream:
            job = jobs.create_job(learner_csv.read_learners(stream), site=site, organization=organization,
                                  caller=caller, secure=False)
        peak = tracemalloc.get_traced_memory()[1] / 2 ** 20
    finally:
        tracemalloc.stop()
    job.delete()
    return peak


def measure_bulk(server, site, metrics_dir, prefix, cpu_meter, calls, size, say):  # pylint: disable=too-many-arguments
    """Post ``calls`` bulk calls of ``size`` passwordless learners to ``server``; add statements and CPU per learner."""
    from bench.server import metrics_delta, read_metrics  # pylint: disable=import-outside-toplevel

    before = read_metrics(metrics_dir)
    host, token = site
    questions_before = server_statements()
    cpu_meter.begin()
    bulk = bulk_over_http(server.port, host, token, prefix + "k", calls, size)
    cpu = cpu_meter.end()
    # MariaDB's count of every statement (the server's workers only, in this phase), less this very SHOW
    bulk["server_statements"] = server_statements() - questions_before - 1
    bulk["server_statements_per_learner"] = bulk["server_statements"] / bulk["learners"]
    bulk["workers_cpu_ms_per_learner"] = 1000 * cpu["workers"] / bulk["learners"]
    bulk["mariadb_cpu_ms_per_learner"] = 1000 * cpu["mariadb"] / bulk["learners"]
    delta = metrics_delta(before, read_metrics(metrics_dir))
    bulk["statements_per_learner"] = delta["queries"] / bulk["learners"]
    bulk["emails_in_request_per_learner"] = delta["emails"] / bulk["learners"]
    if set(bulk["statuses"]) != {"200"}:
        say(f"  WARNING: not every bulk call was answered 200: {bulk['statuses']}")
    say(f"  {bulk['learners_per_second']:.1f} learners/s, {bulk['created']} created, {bulk['failed']} failed, "
        f"{bulk['statements_per_learner']:.1f} statements/learner through Django "
        f"({bulk['server_statements_per_learner']:.1f} as MariaDB counted them); a call of {size}: "
        f"p50 {bulk['call_seconds_p50']:.2f} s")
    return bulk


# pylint: disable-next=too-many-arguments
def measure_imports(directory, prefix, count, concurrency, domain, admin, say, run_job=True, mariadb=None):
    """
    Import ``count`` passwordless learners with the command, then with a job run here; measure the upload's memory.

    ``run_job`` False leaves the job out (the real LMS's bench has its workers run jobs:
    ``bench/job_workers.py``); ``mariadb`` (psutil process) adds MariaDB's CPU to the command's figures.
    """
    # pylint: disable=import-outside-toplevel
    from django.contrib.auth import get_user_model
    from django.contrib.sites.models import Site
    from tahoe_sites.api import get_organization_by_site

    say(f"import: tahoe_import_learners --concurrency {concurrency}, {count} passwordless learners "
        "(emails queued, not sent) ...")
    command = import_by_command(directory, domain, prefix + "i", count, concurrency, mariadb=mariadb)
    command["concurrency"] = concurrency
    say(f"  {command['seconds']:.1f} s, {command['learners_per_second']:.1f} learners/s, "
        f"{command['created']} created, {command['server_statements_per_learner']:.1f} statements/learner "
        f"(MariaDB), {command['emails_queued']} emails queued in {command['email_tasks_queued']} tasks")
    site = Site.objects.get(domain=domain)
    organization, caller = get_organization_by_site(site), get_user_model().objects.get(username=admin)
    figures = {"command": command}
    if run_job:
        say(f"import: a registration job of {count} passwordless learners, run in this process ...")
        job = import_by_job(directory, site, organization, caller, prefix + "j", count)
        say(f"  upload {job['upload']['seconds']:.1f} s, then {job['seconds']:.1f} s, "
            f"{job['learners_per_second']:.1f} learners/s, {job['created']} created, {job['emails_queued']} emails "
            f"queued in {job['email_tasks_queued']} tasks")
        figures["job"] = job
    say("import: the upload's peak memory (tracemalloc) for 1,000 and for 10,000 rows ...")
    figures["upload_peak_mb"] = {rows: upload_peak_mb(directory, site, organization, caller, f"{prefix}m{rows}", rows)
                                 for rows in (1_000, 10_000)}
    say("  " + ", ".join(f"{rows} rows: {peak:.2f} MB" for rows, peak in figures["upload_peak_mb"].items()))
    return figures
