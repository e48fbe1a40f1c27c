"""
Registration jobs: many learners registered in the background by the LMS's own Celery workers.

``create_job`` writes the job, its rows and their chunks (``CHUNK`` consecutive rows each) in one
transaction, and queues up to ``TAHOE_REGISTRATION_API_JOB_PARALLELISM`` tasks once it commits.
Each task (``run_registration_job``) claims one waiting chunk of the job (never more running
chunks than the parallelism), registers its waiting rows through the registration pipeline, and
queues itself again at the tail of the queue: a job's tasks take turns with other jobs' tasks, and
any number of workers share a job. A row is marked with its learner's outcome in the learner's own
transaction, so a worker that dies mid-chunk leaves every row either registered and marked, or
neither: once the chunk's heartbeat is older than the heartbeat timeout, another task claims it
and resumes at its first unmarked row, and no learner is registered twice. The learner's email is
owed to the outbox in that same transaction, so it is sent once whatever dies when.
"""

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Optional

from celery import shared_task
from cryptography.fernet import InvalidToken
from django.conf import settings
from django.contrib.sites.models import Site
from django.db import transaction
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    IntegerField,
    Min,
    OuterRef,
    PositiveIntegerField,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from organizations.models import Organization

from tahoe_registration_api import outbox, pipeline
from tahoe_registration_api.data import ResultRow
from tahoe_registration_api.exceptions import InternalError, InvalidJobFile, ServiceUnavailable, TooManyLearners
from tahoe_registration_api.i18n import gettext_noop, message
from tahoe_registration_api.models import RegistrationJob, RegistrationJobChunk, RegistrationJobRow
from tahoe_registration_api.purging import Retention, days_setting
from tahoe_registration_api.sealing import seal, unseal
from tahoe_registration_api.webhooks import events

log = logging.getLogger(__name__)

INSERT_BATCH = 1000
CHUNK = 100  # rows of a chunk: what one task registers before it queues itself again (a few seconds)
HEARTBEAT_SECONDS = 1  # how often a task registering a chunk shows it is alive
RETRY_SECONDS = 30  # after the database failed
FIELD_MAX = 255


# Jobs (their rows with them) older than the retention go as new jobs are created, 10 at a time.
RETENTION = Retention(RegistrationJob, "created_at", days_setting("TAHOE_REGISTRATION_API_JOB_RETENTION_DAYS"),
                      interval=0, batch=10)


class RowTaken(pipeline.Abandon):
    """Another task marked this row first (it claimed the chunk again): this registration must not commit."""


class ChunkTaken(Exception):
    """Another task claimed the chunk this one was registering (this one looked dead): this one stops."""


def heartbeat_timeout():
    """Return how long a job's task may show no progress before another may take its chunk over."""
    return timedelta(seconds=int(settings.TAHOE_REGISTRATION_API_JOB_HEARTBEAT_TIMEOUT))


def parallelism():
    """Return how many chunks of one job may run at once (``TAHOE_REGISTRATION_API_JOB_PARALLELISM``)."""
    return max(1, int(settings.TAHOE_REGISTRATION_API_JOB_PARALLELISM))


def short_value(value):
    """Return a value as stored in a row's columns: a string of at most 255 characters."""
    return str(value)[:FIELD_MAX] if isinstance(value, (str, int)) and not isinstance(value, bool) else ""


class ChunkCutter:
    """The chunks of a job being created: ``CHUNK`` consecutive rows each, by row number."""

    def __init__(self, job):
        """No rows yet."""
        self.job = job
        self.bounds = []  # [first, last] of each chunk
        self.in_last = 0

    def add(self, number):
        """Add the next row (numbers grow)."""
        if self.bounds and self.in_last < CHUNK:
            self.bounds[-1][1] = number
            self.in_last += 1
        else:
            self.bounds.append([number, number])
            self.in_last = 1

    def store(self):
        """Write the chunks; return how many."""
        RegistrationJobChunk.objects.bulk_create(
            [RegistrationJobChunk(job=self.job, first_number=first, last_number=last) for first, last in self.bounds],
            batch_size=INSERT_BATCH,
        )
        return len(self.bounds)


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
        pending, chunks = [], ChunkCutter(job)
        for number, item in items:
            total += 1
            if total > limit:
                raise TooManyLearners(
                    f"Row {number} is learner {total}; a job holds at most {limit} "
                    "(TAHOE_REGISTRATION_API_JOB_MAX_ROWS).",
                    field_errors={"file": message(gettext_noop("More than {limit} learners."), limit=limit)},
                )
            pending.append(RegistrationJobRow(
                job=job, number=number, ref=short_value(item.get("ref")), username=short_value(item.get("username")),
                email=short_value(item.get("email")), payload=seal(item),
            ))
            chunks.add(number)
            if len(pending) >= INSERT_BATCH:
                RegistrationJobRow.objects.bulk_create(pending)
                pending = []
        RegistrationJobRow.objects.bulk_create(pending)
        if total == 0:
            raise InvalidJobFile(2, gettext_noop("the file has no learners after its header."))
        chunk_count = chunks.store()
        RegistrationJob.objects.filter(pk=job.pk).update(total=total)
        job.total = total
        transaction.on_commit(lambda: queue_job(job.pk, tasks=min(parallelism(), chunk_count)))
    log.info("Registration job %s of %s learners queued for site %s by user %s.", job.pk, total, site.pk, caller.pk)
    return job


def queue_job(job_id, tasks=1):
    """Queue ``tasks`` of the job on ``TAHOE_REGISTRATION_API_JOB_QUEUE`` (else the LMS's own routing)."""
    options = {}
    if settings.TAHOE_REGISTRATION_API_JOB_QUEUE:
        options["queue"] = settings.TAHOE_REGISTRATION_API_JOB_QUEUE
    for _ in range(tasks):
        run_registration_job.apply_async(args=(str(job_id),), **options)


@dataclass(frozen=True)
class TaskOutcome:
    """What a task of a job did: the job is ``finished``, or the seconds to wait before it runs again (0: at once)."""

    finished: bool
    again_in: int = 0


def run_chunk(job_id, runner):
    """
    Claim a chunk of job ``job_id`` for ``runner`` (a task id) and register its waiting rows.

    Returns whether the job is finished, or when to run again: at once after a chunk, later when
    every chunk left is running (or the job runs its most chunks at once). Raises
    ``ServiceUnavailable`` when the database fails (the chunk is left for any task to claim).
    """
    job = RegistrationJob.objects.filter(pk=job_id).first()
    if job is None or job.status in (RegistrationJob.DONE, RegistrationJob.FAILED):
        return TaskOutcome(finished=True)
    site = Site.objects.filter(pk=job.site_id).first()
    organization = Organization.objects.filter(pk=job.organization_id).first()
    if site is None or organization is None:
        _finish(job, RegistrationJob.FAILED, "The job's site or organization no longer exists.")
        return TaskOutcome(finished=True)
    claim = _claim(job, runner)
    if claim.chunk is None:
        if claim.finished:
            return TaskOutcome(finished=True)
        return TaskOutcome(finished=False, again_in=claim.wait)
    chunk = claim.chunk
    # The site's conflict check decides between two rows of the job: the first committed wins.
    registrar = pipeline.Pipeline(site=site, organization=organization, secure=job.secure, batch_duplicates=False,
                                  audit_as=("job_register", job.caller_id, str(job.pk)), group_size=pipeline.GROUP_SIZE)
    rows = RegistrationJobRow.objects.filter(
        job=job, number__gte=chunk.first_number, number__lte=chunk.last_number, outcome__isnull=True,
    ).order_by("number")
    marks = RowMarks(chunk, runner)
    try:
        _register_rows(registrar, list(rows), marks)
        finished = _complete(job, chunk, runner)
    except ServiceUnavailable:
        RegistrationJobChunk.objects.filter(pk=chunk.pk, runner=runner).update(
            state=RegistrationJobChunk.WAITING, runner="")
        raise
    except ChunkTaken:
        log.warning("Registration job %s: rows %s-%s were taken over by another task; this one stops.",
                    job.pk, chunk.first_number, chunk.last_number)
        return TaskOutcome(finished=False)
    finally:
        registrar.store_audit()  # the chunk's records, in one statement
    log.info("Registration job %s: rows %s-%s done by %s (%s registered).",
             job.pk, chunk.first_number, chunk.last_number, runner, marks.created)
    return TaskOutcome(finished=finished)


@dataclass(frozen=True)
class Claim:
    """A claimed ``chunk``; else whether the job is ``finished``, or the seconds to ``wait`` before looking again."""

    chunk: Optional[RegistrationJobChunk] = None
    finished: bool = False
    wait: int = 0


def _claim(job, runner):
    """
    Claim the job's first waiting chunk (or a running one whose task looks dead) for ``runner``.

    The claim starts by writing the job's row, which locks it (sqlite: takes the write lock) until
    the claim commits: the claims of one job go one at a time, so two tasks never get one chunk,
    and the job never runs more chunks at once than ``TAHOE_REGISTRATION_API_JOB_PARALLELISM``.
    A claim is one short transaction; the chunk is registered outside it.
    """
    now = timezone.now()
    stale = now - heartbeat_timeout()
    with transaction.atomic():
        live_job = RegistrationJob.objects.filter(
            pk=job.pk, status__in=(RegistrationJob.QUEUED, RegistrationJob.RUNNING),
        ).update(status=RegistrationJob.RUNNING, heartbeat=now,
                 started_at=Coalesce("started_at", Value(now, output_field=DateTimeField())))
        if not live_job:
            return Claim(finished=True)
        chunks = RegistrationJobChunk.objects.filter(job=job)
        live = chunks.filter(state=RegistrationJobChunk.RUNNING, heartbeat__gte=stale)
        running = live.aggregate(count=Count("pk"), oldest=Min("heartbeat"))
        if running["count"] < parallelism():
            chunk = chunks.filter(
                Q(state=RegistrationJobChunk.WAITING) | Q(state=RegistrationJobChunk.RUNNING, heartbeat__lt=stale)
            ).order_by("first_number").first()
            if chunk is not None:
                RegistrationJobChunk.objects.filter(pk=chunk.pk).update(
                    state=RegistrationJobChunk.RUNNING, runner=runner, heartbeat=now)
                if chunk.state == RegistrationJobChunk.RUNNING:
                    log.warning("Registration job %s: rows %s-%s showed no progress for %s; resuming them.",
                                job.pk, chunk.first_number, chunk.last_number, heartbeat_timeout())
                return Claim(chunk=chunk)
        if running["count"] == 0:  # nothing waiting, nothing running: every chunk is done
            _finish(job, RegistrationJob.DONE)
            return Claim(finished=True)
    # Look again when the oldest running chunk could be taken for dead (it is usually done long before).
    wait = (running["oldest"] + heartbeat_timeout() - now).total_seconds()
    return Claim(wait=max(1, min(int(wait) + 1, int(heartbeat_timeout().total_seconds()))))


def _complete(job, chunk, runner):
    """
    Mark ``chunk`` done with its rows' counts, and set the job's; after the job's last chunk, finish it (True).

    Raises ``ChunkTaken`` when another task claimed the chunk meanwhile.
    """
    now = timezone.now()
    in_chunk = Q(job=job, number__gte=chunk.first_number, number__lte=chunk.last_number)
    with transaction.atomic():
        RegistrationJob.objects.filter(pk=job.pk).update(heartbeat=now)  # the job's row first, as claims lock it
        counts = RegistrationJobRow.objects.filter(in_chunk).aggregate(
            processed=Count("pk", filter=Q(outcome__isnull=False)),
            created=Count("pk", filter=Q(outcome=pipeline.CREATED)),
            waiting=Count("pk", filter=Q(outcome__isnull=True)),
        )
        state = RegistrationJobChunk.WAITING if counts["waiting"] else RegistrationJobChunk.DONE
        if not RegistrationJobChunk.objects.filter(pk=chunk.pk, runner=runner).update(
                state=state, runner="", heartbeat=now, processed=counts["processed"], created_count=counts["created"]):
            raise ChunkTaken()  # another task claimed it meanwhile (this one looked dead): that one completes it
        _set_counts(job)
        if RegistrationJobChunk.objects.filter(job=job).exclude(state=RegistrationJobChunk.DONE).exists():
            return False
        _finish(job, RegistrationJob.DONE)
    return True


def _set_counts(job):
    """Set the job's counts to the sums of its chunks' (each chunk's are its rows', so they are exact)."""
    sums = RegistrationJobChunk.objects.filter(job=OuterRef("pk")).order_by().values("job")
    RegistrationJob.objects.filter(pk=job.pk).update(
        processed=Coalesce(Subquery(sums.annotate(total=Sum("processed")).values("total")[:1]), 0,
                           output_field=IntegerField()),
        created_count=Coalesce(Subquery(sums.annotate(total=Sum("created_count")).values("total")[:1]), 0,
                               output_field=IntegerField()),
    )


class RowMarks:
    """The rows of a chunk this task marked, and its heartbeat: how many, and how many registered their learner."""

    def __init__(self, chunk, runner):
        """None yet."""
        self.chunk = chunk
        self.runner = runner
        self.processed = 0
        self.created = 0
        self.beaten_at = time.monotonic()

    def mark_created(self, row, user):
        """Mark ``row`` registered as ``user``, in the learner's own transaction (``Abandon`` if another task did)."""
        marked = RegistrationJobRow.objects.filter(pk=row.pk, outcome__isnull=True).update(
            outcome=pipeline.CREATED, user_id=user.pk, payload="",
        )
        if not marked:
            raise RowTaken()

    def mark_all_created(self, created):
        """Mark the rows of ``created`` (``(row, user)`` pairs) registered: one statement, in the group's commit."""
        users = {row.pk: user.pk for row, user in created}
        marked = RegistrationJobRow.objects.filter(pk__in=users, outcome__isnull=True).update(
            outcome=pipeline.CREATED, payload="",
            user_id=Case(*(When(pk=pk, then=Value(user_id)) for pk, user_id in users.items()),
                         output_field=PositiveIntegerField()),
        )
        if marked != len(users):
            raise RowTaken()

    def report(self, row, outcome):
        """Count a created row (marked already); mark a refused one, unless another task did first."""
        self.beat()
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

    def beat(self):
        """Show the chunk's task alive, every ``HEARTBEAT_SECONDS``; ``ChunkTaken`` if another task claimed it."""
        if time.monotonic() - self.beaten_at < HEARTBEAT_SECONDS:
            return
        self.beaten_at = time.monotonic()
        if not RegistrationJobChunk.objects.filter(pk=self.chunk.pk, runner=self.runner).update(
                heartbeat=timezone.now()):
            raise ChunkTaken()


def _register_rows(registrar, rows, marks):
    """Run the chunk's rows through the pipeline, each marked with its outcome (``marks``)."""
    readable = []
    for row in rows:
        try:
            readable.append((row, unseal(row.payload)))
        except (InvalidToken, ValueError):
            log.error("Registration job %s: row %s cannot be read (was the LMS's SECRET_KEY changed?).",
                      row.job_id, row.number)
            marks.report(row, pipeline.LearnerOutcome(ref=row.ref or None, result=pipeline.REFUSED,
                                                      error=InternalError()))
    registrar.run(readable, marks.report, in_transaction=marks.mark_created, in_group=marks.mark_all_created)


def _finish(job, status, failure=""):
    """Mark the job finished; a failed job's waiting rows lose their fields (passwords among them) at once."""
    with transaction.atomic():  # the job's end and its webhooks' event, together (once: a finished job stays so)
        _set_counts(job)
        finished = RegistrationJob.objects.filter(
            pk=job.pk, status__in=(RegistrationJob.QUEUED, RegistrationJob.RUNNING),
        ).update(status=status, failure=failure[:FIELD_MAX], finished_at=timezone.now())
        if status == RegistrationJob.FAILED:
            RegistrationJobRow.objects.filter(job=job, outcome__isnull=True).update(payload="")
        if finished:
            outbox.owe([events.job_completed(RegistrationJob.objects.get(pk=job.pk))])
    log.info("Registration job %s %s.", job.pk, status)


def resume_if_stalled(job):
    """
    Queue the tasks of a job that shows no progress for the heartbeat timeout; return whether it did.

    A worker that died mid-chunk leaves its task with the broker (Redis gives it to another worker
    after its visibility_timeout, an hour by default), and a message can be lost: reading the job's
    status does not wait for either. The new tasks claim the dead task's chunk (its heartbeat is
    old) and resume it at its first unmarked row; a late redelivery of the old task finds the chunk
    claimed, or done.
    """
    now = timezone.now()
    stale = now - heartbeat_timeout()
    finished = job.status not in (RegistrationJob.QUEUED, RegistrationJob.RUNNING)
    if finished or (job.heartbeat or job.created_at) >= stale:
        return False  # a live or finished job: its status is read without writing anything
    running = RegistrationJobChunk.objects.filter(job=job, state=RegistrationJobChunk.RUNNING)
    if running.filter(heartbeat__gte=stale).exists():
        return False  # a chunk's task is alive (a chunk of slow rows)
    stalled = Q(heartbeat__lt=stale) | Q(heartbeat__isnull=True, created_at__lt=stale)
    resumed = RegistrationJob.objects.filter(
        Q(pk=job.pk), Q(status__in=(RegistrationJob.QUEUED, RegistrationJob.RUNNING)), stalled,
    ).update(heartbeat=now)
    if resumed:
        log.warning("Registration job %s showed no progress for %s; its tasks are queued again.",
                    job.pk, heartbeat_timeout())
        transaction.on_commit(lambda: queue_job(job.pk, tasks=parallelism()))
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


# acks_late: the broker keeps the message until the chunk is done, and delivers it again when the
# worker dies mid-chunk (reject_on_worker_lost: at once when only the pool's process died).
@shared_task(bind=True, name="tahoe_registration_api.run_registration_job", ignore_result=True,
             acks_late=True, reject_on_worker_lost=True, max_retries=None)
def run_registration_job(self, job_id):
    """Register a chunk of registration job ``job_id``, then queue this task again (or look again later)."""
    runner = self.request.id or f"eager-{uuid.uuid4().hex}"
    while True:
        try:
            outcome = run_chunk(job_id, runner=runner)
        except ServiceUnavailable as exc:
            log.warning("Registration job %s: the database failed (%s); retrying in %s s.",
                        job_id, exc.developer_message, RETRY_SECONDS)
            raise self.retry(countdown=RETRY_SECONDS) from exc
        if outcome.finished:
            return
        if self.request.is_eager:  # run in this process (the LMS's test settings): the next chunk, here
            if outcome.again_in:
                return  # a chunk whose task looks alive: a status read resumes the job once it is stale
            continue
        if outcome.again_in:  # every chunk left is running: look again once one could be stale
            raise self.retry(countdown=outcome.again_in)
        queue_job(job_id)  # the next chunk, at the tail of the queue: other jobs' tasks take their turn
        return
