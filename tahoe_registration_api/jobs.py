"""
Registration jobs: many learners registered in the background by the LMS's own Celery workers.

``create_job`` writes the job and its rows in one transaction and queues the task once it
commits. The task (``run_registration_job``) calls ``run_slice``: it takes the job over
(unless another live task holds it), runs the next waiting rows through the registration
pipeline in order for at most ``SLICE_SECONDS``, and queues itself again until no row is left.
A row is marked with its learner's outcome in the learner's own transaction, so a worker that
dies mid-job leaves every row either registered and marked, or neither: the job resumes at the
first unmarked row, and no learner is registered twice. The learner's email is owed to the
outbox in that same transaction, so it is sent once whatever dies when.
"""

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from celery import shared_task
from cryptography.fernet import InvalidToken
from django.conf import settings
from django.contrib.sites.models import Site
from django.db import transaction
from django.db.models import Count, DateTimeField, F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from organizations.models import Organization

from tahoe_registration_api import outbox, pipeline
from tahoe_registration_api.data import ResultRow
from tahoe_registration_api.exceptions import InternalError, InvalidJobFile, ServiceUnavailable, TooManyLearners
from tahoe_registration_api.models import RegistrationJob, RegistrationJobRow
from tahoe_registration_api.purging import Retention, days_setting
from tahoe_registration_api.sealing import seal, unseal
from tahoe_registration_api.webhooks import events

log = logging.getLogger(__name__)

INSERT_BATCH = 1000
CHUNK = 100  # rows read at a time
SLICE_SECONDS = 30  # then the task queues itself again: a worker's warm shutdown never waits longer
RETRY_SECONDS = 30  # after the database failed
FIELD_MAX = 255
STALLED = "stalled"  # the runner of a job whose task a status read queued again


# Jobs (their rows with them) older than the retention go as new jobs are created, 10 at a time.
RETENTION = Retention(RegistrationJob, "created_at", days_setting("TAHOE_REGISTRATION_API_JOB_RETENTION_DAYS"),
                      interval=0, batch=10)


class RowTaken(pipeline.Abandon):
    """Another task marked this row first (it took the job over): this registration must not commit."""


def heartbeat_timeout():
    """Return how long a job's task may show no progress before another may take the job over."""
    return timedelta(seconds=int(settings.TAHOE_REGISTRATION_API_JOB_HEARTBEAT_TIMEOUT))


def short_value(value):
    """Return a value as stored in a row's columns: a string of at most 255 characters."""
    return str(value)[:FIELD_MAX] if isinstance(value, (str, int)) and not isinstance(value, bool) else ""


def create_job(items, *, site, organization, caller, secure):
    """
    Create a job of ``items`` (an iterable of ``(row, learner dict)``) and queue it once it commits.

    Raises ``TooManyLearners`` past ``TAHOE_REGISTRATION_API_JOB_MAX_ROWS``, ``InvalidJobFile``
    for a file without learners (or as the items raise it); nothing is then written.
    """
    RETENTION.purge_if_due()
    limit = int(settings.TAHOE_REGISTRATION_API_JOB_MAX_ROWS)
    job = RegistrationJob(id=uuid.uuid4(), site_id=site.pk, organization_id=organization.pk, caller_id=caller.pk,
                          secure=secure)
    total = 0
    with transaction.atomic():
        job.save(force_insert=True)
        pending = []
        for number, item in items:
            total += 1
            if total > limit:
                raise TooManyLearners(
                    f"Row {number} is learner {total}; a job holds at most {limit} "
                    "(TAHOE_REGISTRATION_API_JOB_MAX_ROWS).",
                    field_errors={"file": f"More than {limit} learners."},
                )
            pending.append(RegistrationJobRow(
                job=job, number=number, ref=short_value(item.get("ref")), username=short_value(item.get("username")),
                email=short_value(item.get("email")), payload=seal(item),
            ))
            if len(pending) >= INSERT_BATCH:
                RegistrationJobRow.objects.bulk_create(pending)
                pending = []
        RegistrationJobRow.objects.bulk_create(pending)
        if total == 0:
            raise InvalidJobFile(2, "the file has no learners after its header.")
        RegistrationJob.objects.filter(pk=job.pk).update(total=total)
        job.total = total
        transaction.on_commit(lambda: queue_job(job.pk))
    log.info("Registration job %s of %s learners queued for site %s by user %s.", job.pk, total, site.pk, caller.pk)
    return job


def queue_job(job_id):
    """Queue the job's task on ``TAHOE_REGISTRATION_API_JOB_QUEUE`` (else the LMS's own routing)."""
    options = {}
    if settings.TAHOE_REGISTRATION_API_JOB_QUEUE:
        options["queue"] = settings.TAHOE_REGISTRATION_API_JOB_QUEUE
    run_registration_job.apply_async(args=(str(job_id),), **options)


@dataclass(frozen=True)
class SliceOutcome:
    """What a slice of a job did: ``finished``, or the seconds to wait before the task runs again."""

    finished: bool
    again_in: int = 0


def run_slice(job_id, runner, slice_seconds=SLICE_SECONDS):
    """
    Take job ``job_id`` over for ``runner`` (a task id) and register its waiting rows for up to ``slice_seconds``.

    Returns whether the job is finished, or when to run again: at once when rows are left, later
    when another live task holds the job. Raises ``ServiceUnavailable`` when the database fails.
    """
    job = RegistrationJob.objects.filter(pk=job_id).first()
    if job is None or job.status in (RegistrationJob.DONE, RegistrationJob.FAILED):
        return SliceOutcome(finished=True)
    if not _take_over(job, runner):
        return SliceOutcome(finished=False, again_in=int(heartbeat_timeout().total_seconds()))
    job.refresh_from_db()
    _recount(job)  # exact counts after any interruption
    site = Site.objects.filter(pk=job.site_id).first()
    organization = Organization.objects.filter(pk=job.organization_id).first()
    if site is None or organization is None:
        _finish(job, RegistrationJob.FAILED, "The job's site or organization no longer exists.")
        return SliceOutcome(finished=True)
    # The site's conflict check, not the batch's, decides between two rows of the job: the first registered wins.
    registrar = pipeline.Pipeline(site=site, organization=organization, secure=job.secure, batch_duplicates=False,
                                  audit_as=("job_register", job.caller_id, str(job.pk)))
    deadline = time.monotonic() + slice_seconds
    while True:  # at least one chunk per slice, then more until the slice's time is up
        rows = list(RegistrationJobRow.objects.filter(job=job, outcome__isnull=True).order_by("number")[:CHUNK])
        if not rows:
            _recount(job)
            _finish(job, RegistrationJob.DONE)
            return SliceOutcome(finished=True)
        try:
            marks = _register_rows(registrar, rows)
        finally:
            registrar.store_audit()  # the chunk's records, in one statement
        still_ours = RegistrationJob.objects.filter(pk=job.pk, runner=runner).update(
            processed=F("processed") + marks.processed, created_count=F("created_count") + marks.created,
            heartbeat=timezone.now(),
        )
        if not still_ours:
            log.warning("Registration job %s was taken over by another task; this one stops.", job.pk)
            return SliceOutcome(finished=True)
        if time.monotonic() >= deadline:
            break
    RegistrationJob.objects.filter(pk=job.pk, runner=runner).update(runner="")  # hand over to the next slice
    return SliceOutcome(finished=False, again_in=0)


def _take_over(job, runner):
    """Make ``runner`` the job's task unless another live one holds it; return whether it did."""
    now = timezone.now()
    free = Q(runner__in=("", STALLED, runner)) | Q(heartbeat__lt=now - heartbeat_timeout())
    taken = RegistrationJob.objects.filter(
        Q(pk=job.pk), Q(status__in=(RegistrationJob.QUEUED, RegistrationJob.RUNNING)), free,
    ).update(status=RegistrationJob.RUNNING, runner=runner, heartbeat=now,
             started_at=Coalesce("started_at", Value(now, output_field=DateTimeField())))
    if taken and job.runner and job.runner != runner and job.status == RegistrationJob.RUNNING:
        log.warning("Registration job %s: its task showed no progress for %s; resuming it.",
                    job.pk, heartbeat_timeout())
    return bool(taken)


class RowMarks:
    """The rows of a chunk this task marked: how many, and how many of them registered their learner."""

    def __init__(self):
        """None yet."""
        self.processed = 0
        self.created = 0

    def mark_created(self, row, user):
        """Mark ``row`` registered as ``user``, in the learner's own transaction (``Abandon`` if another task did)."""
        marked = RegistrationJobRow.objects.filter(pk=row.pk, outcome__isnull=True).update(
            outcome=pipeline.CREATED, user_id=user.pk, payload="",
        )
        if not marked:
            raise RowTaken()

    def report(self, row, outcome):
        """Count a created row (marked already); mark a refused one, unless another task did first."""
        if outcome.result == pipeline.CREATED:
            self.processed += 1
            self.created += 1
            return
        if isinstance(outcome.error, ServiceUnavailable):  # the database: stop here, this row stays waiting
            raise ServiceUnavailable("The database refused a registration of the job.")
        error = outcome.error
        self.processed += RegistrationJobRow.objects.filter(pk=row.pk, outcome__isnull=True).update(
            outcome=outcome.result, payload="", error_code=getattr(error, "error_code", "")[:64],
            fields=" ".join(sorted(getattr(error, "field_errors", {}) or {}))[:FIELD_MAX],
        )


def _register_rows(registrar, rows):
    """Run the rows through the pipeline, each marked with its outcome; return the chunk's ``RowMarks``."""
    marks = RowMarks()
    readable = []
    for row in rows:
        try:
            readable.append((row, unseal(row.payload)))
        except (InvalidToken, ValueError):
            log.error("Registration job %s: row %s cannot be read (was the LMS's SECRET_KEY changed?).",
                      row.job_id, row.number)
            marks.report(row, pipeline.LearnerOutcome(ref=row.ref or None, result=pipeline.REFUSED,
                                                      error=InternalError()))
    registrar.run(readable, marks.report, in_transaction=marks.mark_created)
    return marks


def _recount(job):
    """Set the job's counts from its rows (after an interruption, the increments may have missed a chunk)."""
    counts = RegistrationJobRow.objects.filter(job=job).aggregate(
        processed=Count("pk", filter=Q(outcome__isnull=False)), created=Count("pk", filter=Q(outcome=pipeline.CREATED)),
    )
    RegistrationJob.objects.filter(pk=job.pk).update(processed=counts["processed"], created_count=counts["created"])


def _finish(job, status, failure=""):
    """Mark the job finished; a failed job's waiting rows lose their fields (passwords among them) at once."""
    with transaction.atomic():  # the job's end and its webhooks' event, together (once: a finished job stays so)
        finished = RegistrationJob.objects.filter(
            pk=job.pk, status__in=(RegistrationJob.QUEUED, RegistrationJob.RUNNING),
        ).update(status=status, failure=failure[:FIELD_MAX], finished_at=timezone.now(), runner="")
        if status == RegistrationJob.FAILED:
            RegistrationJobRow.objects.filter(job=job, outcome__isnull=True).update(payload="")
        if finished:
            outbox.owe([events.job_completed(RegistrationJob.objects.get(pk=job.pk))])
    log.info("Registration job %s %s.", job.pk, status)


def resume_if_stalled(job):
    """
    Queue the task of a job that shows no progress for the heartbeat timeout; return whether it did.

    A worker that died mid-job leaves its task with the broker (Redis gives it to another worker
    after its visibility_timeout, an hour by default), and a message can be lost: reading the job's
    status does not wait for either. The job's runner becomes ``STALLED``, so the new task takes it
    over at its first unmarked row; a late redelivery of the
    old task then finds it held, or done.
    """
    now = timezone.now()
    stale = now - heartbeat_timeout()
    finished = job.status not in (RegistrationJob.QUEUED, RegistrationJob.RUNNING)
    if finished or (job.heartbeat or job.created_at) >= stale:
        return False  # a live or finished job: its status is read without writing anything
    stalled = Q(heartbeat__lt=stale) | Q(heartbeat__isnull=True, created_at__lt=stale)
    resumed = RegistrationJob.objects.filter(
        Q(pk=job.pk), Q(status__in=(RegistrationJob.QUEUED, RegistrationJob.RUNNING)), stalled,
    ).update(runner=STALLED, heartbeat=now)
    if resumed:
        log.warning("Registration job %s showed no progress for %s; its task is queued again.",
                    job.pk, heartbeat_timeout())
        transaction.on_commit(lambda: queue_job(job.pk))
    return bool(resumed)


def job_for(job_id, site):
    """Return the job ``job_id`` of ``site``, or None (the same whether or not it exists on another site)."""
    return RegistrationJob.objects.filter(pk=job_id, site_id=site.pk).first()


def result_rows(job):
    """Yield the job's rows as ``ResultRow`` in input order (a waiting row has no outcome yet)."""
    rows = RegistrationJobRow.objects.filter(job=job).order_by("number").values_list(
        "number", "ref", "username", "email", "outcome", "user_id", "error_code", "fields",
    )
    for values in rows.iterator(chunk_size=2000):
        yield ResultRow(*values)


# acks_late: the broker keeps the message until the slice ends, and delivers it again when the
# worker dies mid-slice (reject_on_worker_lost: at once when only the pool's process died).
@shared_task(bind=True, name="tahoe_registration_api.run_registration_job", ignore_result=True,
             acks_late=True, reject_on_worker_lost=True, max_retries=None)
def run_registration_job(self, job_id):
    """Register the next slice of registration job ``job_id``; queue the next slice, or wait for the job's holder."""
    try:
        outcome = run_slice(job_id, runner=self.request.id or f"eager-{job_id}")
    except ServiceUnavailable as exc:
        log.warning("Registration job %s: the database failed (%s); retrying in %s s.",
                    job_id, exc.developer_message, RETRY_SECONDS)
        raise self.retry(countdown=RETRY_SECONDS) from exc
    if outcome.finished:
        return
    if outcome.again_in:  # another task holds the job: look again once its heartbeat could be stale
        raise self.retry(countdown=outcome.again_in)
    queue_job(job_id)
