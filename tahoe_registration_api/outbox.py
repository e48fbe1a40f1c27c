"""
The outbox: every effect that follows a commit (a learner's email) leaves from here, and only from here.

Its emails: a learner's registration email (activation, "set your password") and the platform's
enrollment emails of an enrollment call (``enrollments.py``).

1. ``owe_email`` writes an ``OutboxMessage`` in the caller's transaction (the learner's own):
   the message exists exactly when the account does.
2. Once that transaction commits, the message is handed over to the LMS's Celery
   (``deliver_outbox_message``, on ``TAHOE_REGISTRATION_API_EMAIL_QUEUE``). A run of the
   pipeline hands its learners' messages over in batches (``batched_hand_overs``): one task
   delivers up to ``HAND_OVER_BATCH`` of them, one after the other. A batch is handed over when
   it is full, when a message joins it ``HAND_OVER_WAIT`` seconds or more after its first, and
   when the run ends.
3. The task claims the message with a lease (``TAHOE_REGISTRATION_API_OUTBOX_LEASE`` seconds),
   sends it, and marks it sent. A failed send is handed back with a growing delay, up to
   ``TAHOE_REGISTRATION_API_EMAIL_RETRIES`` retries; then it is marked failed and logged.

A message never handed over (the process died between the commit and the hand-over) or whose
lease ran out (the worker died after its claim) is handed over again by the sweep: no cron job,
it runs as messages are handed over and delivered, at most every
``TAHOE_REGISTRATION_API_OUTBOX_SWEEP_INTERVAL`` seconds per process, and a sweep that leaves
messages in flight queues one more sweep (``sweep_outbox``) for when the first of them falls
due, so a stranded message is taken up even when nothing else happens. A copy of a message (a
sweep racing a slow queue) is harmless: only one claim succeeds. So no email is lost; one is
sent twice only when a worker dies after the mail server accepted it and before its mark.
"""

import json
import logging
import threading
import time
from contextlib import contextmanager
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from tahoe_registration_api.emails import Undeliverable, send_email
from tahoe_registration_api.models import OutboxMessage
from tahoe_registration_api.purging import Retention, days_setting

log = logging.getLogger(__name__)

EMAIL = "email"
HAND_OVER_BATCH = 50  # messages one delivery task sends (a bulk call of 500: 10 tasks, not 500)
HAND_OVER_WAIT = 1.0  # a message joining a batch this long after its first hands the batch over
SWEEP_BATCH = 500  # messages handed over again by one sweep (a backlog: the next sweep takes more)
# Sent and failed messages older than this are deleted as the sweep runs (pending ones never are).
RETENTION = Retention(OutboxMessage, "done_at", days_setting("TAHOE_REGISTRATION_API_OUTBOX_RETENTION_DAYS"),
                      interval=600, batch=1000)


def _seconds(name):
    """Return a setting of seconds as a timedelta."""
    return timedelta(seconds=float(getattr(settings, name)))


def owe_email(user_id, site_id, email, secure, details=None):
    """
    Owe learner ``user_id`` of site ``site_id`` (None: an address of nobody) ``email``, in the current transaction.

    ``email`` is a registration email or one of the platform's enrollment emails, whose
    ``details`` (the course, the address, ``auto_enroll``) travel with it. The message is handed
    over when the transaction commits (at once outside one); return it.
    """
    [message] = owe([email_message(user_id, site_id, email, secure, details)])
    return message


def email_message(user_id, site_id, email, secure, details=None):
    """Return (unsaved) the message owing ``email`` to learner ``user_id`` of site ``site_id``, for ``owe``."""
    return message_of(EMAIL, email, site_id, user_id, {**(details or {}), "secure": bool(secure)})


def message_of(kind, topic, site_id, user_id, payload):
    """Return (unsaved) a pending message of ``kind`` and ``topic`` carrying ``payload`` (JSON-able)."""
    now = timezone.now()
    return OutboxMessage(kind=kind, topic=topic, site_id=site_id, user_id=user_id,
                         payload=json.dumps(payload, separators=(",", ":")), state=OutboxMessage.PENDING,
                         created=now, due=now + _seconds("TAHOE_REGISTRATION_API_OUTBOX_HANDOVER_GRACE"))


def owe(messages):
    """
    Write the (unsaved) ``messages`` in the current transaction; return them.

    They are handed over when the transaction commits (at once outside one). One statement writes
    them all where the database returns the new rows' ids from it (MariaDB 10.5 and later, sqlite);
    elsewhere (MySQL) one statement each.
    """
    messages = [message for message in messages if message is not None]
    if not messages:
        return messages
    if len(messages) == 1 or not connections[OutboxMessage.objects.db].features.can_return_rows_from_bulk_insert:
        for message in messages:
            message.save(force_insert=True)
    else:
        OutboxMessage.objects.bulk_create(messages)
    ids = [message.pk for message in messages]
    batch = getattr(_BATCHING, "batch", None)  # the batch of this thread's run, if any
    if ids:
        transaction.on_commit(lambda: batch.add_all(ids) if batch is not None else hand_over(ids))
    return messages


class HandOverBatch:
    """Committed messages waiting to be handed over together; shared by the threads of one run."""

    def __init__(self):
        """Open an empty batch."""
        self._lock = threading.Lock()
        self._ids = []
        self._first_at = 0.0
        self._closed = False

    def add_all(self, message_ids):
        """Keep committed messages; hand the batch over once full or waited long enough (at once if closed)."""
        with self._lock:
            if self._closed:
                ids = list(message_ids)
            else:
                if not self._ids:
                    self._first_at = time.monotonic()
                self._ids.extend(message_ids)
                if len(self._ids) < HAND_OVER_BATCH and time.monotonic() - self._first_at < HAND_OVER_WAIT:
                    return
                if time.monotonic() - self._first_at < HAND_OVER_WAIT:  # full tasks now, the rest waits its turn
                    cut = len(self._ids) - len(self._ids) % HAND_OVER_BATCH
                    ids, self._ids = self._ids[:cut], self._ids[cut:]
                    self._first_at = time.monotonic()
                else:
                    ids, self._ids = self._ids, []
        hand_over(ids)

    def close(self):
        """Hand over what waits; later messages (a transaction committed after the run) are handed over at once."""
        with self._lock:
            ids, self._ids, self._closed = self._ids, [], True
        if ids:
            hand_over(ids)


_BATCHING = threading.local()


@contextmanager
def batched_hand_overs(batch=None):
    """
    In this thread, hand the messages owed from now on over in ``batch`` (a new one when None); yield it.

    The batch is closed (what waits is handed over) when the block that made it ends; a thread
    that joins a given batch leaves it open for its maker.
    """
    made = batch is None
    batch = HandOverBatch() if made else batch
    outer, _BATCHING.batch = getattr(_BATCHING, "batch", None), batch
    try:
        yield batch
    finally:
        _BATCHING.batch = outer
        if made:
            batch.close()


def hand_over(message_ids, countdown=None):
    """
    Queue the delivery of the messages (after ``countdown`` seconds), ``HAND_OVER_BATCH`` to a task.

    A failure is logged: the sweep hands those messages over later.
    """
    options = {"countdown": countdown} if countdown else {}
    if settings.TAHOE_REGISTRATION_API_EMAIL_QUEUE:
        options["queue"] = settings.TAHOE_REGISTRATION_API_EMAIL_QUEUE
    message_ids = list(message_ids)
    for start in range(0, len(message_ids), HAND_OVER_BATCH):
        chunk = tuple(message_ids[start:start + HAND_OVER_BATCH])
        try:
            deliver_outbox_message.apply_async(args=chunk, **options)
        except Exception as exc:  # pylint: disable=broad-except
            log.error("Outbox messages %s were not handed over (%s); the sweep hands them over later.",
                      ", ".join(map(str, chunk)), type(exc).__name__)
    SWEEP.run_if_due()


def deliver(message_id):
    """
    Claim message ``message_id``, send it, mark it sent; return its state, or None when another claim holds it.

    A failed send is handed back for a later attempt (or marked failed after the last one).
    """
    now = timezone.now()
    claimed = OutboxMessage.objects.filter(claimable(now), pk=message_id).update(
        state=OutboxMessage.LEASED, due=now + _seconds("TAHOE_REGISTRATION_API_OUTBOX_LEASE"),
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return None  # sent already, or held by another worker's claim
    message = OutboxMessage.objects.get(pk=message_id)
    try:
        if _kind(message).atomic:  # what it writes and its mark commit together, or neither does
            with transaction.atomic():
                _send(message)
                if not _still_ours(message).update(state=OutboxMessage.SENT, due=None, done_at=timezone.now(),
                                                   last_error=""):
                    raise _ChangedMeanwhile()
            return OutboxMessage.SENT
        _send(message)
    except _ChangedMeanwhile:  # what it wrote is undone: the message is another's now, or given up
        return _changed_meanwhile(message)
    except Undeliverable as exc:
        log.log(logging.INFO if getattr(exc, "expected", False) else logging.ERROR,
                "Outbox message %s (%s %s of learner %s) cannot be sent: %s", message.pk, message.topic,
                message.kind, message.user_id, exc)
        return _done(message, OutboxMessage.FAILED, type(exc).__name__)
    except Exception as exc:  # pylint: disable=broad-except
        return _retry_later(message, exc)
    return _done(message, OutboxMessage.SENT)


class EmailKind:
    """A learner's email: sent by ``emails.send_email``; a failure retried with a doubling delay."""

    atomic = False

    @staticmethod
    def send(message):
        """Send the email."""
        send_email(message.user_id, message.site_id, message.topic, json.loads(message.payload or "{}"))

    @staticmethod
    def retry_delay(message, error):
        """Return the seconds before the next attempt, None after the last retry (logged)."""
        limit = max(0, int(settings.TAHOE_REGISTRATION_API_EMAIL_RETRIES))
        retries = message.attempts - 1  # attempts includes this one
        if retries >= limit:
            log.error("The %s email of learner %s failed %s times; the last error: %s.",
                      message.topic, message.user_id, message.attempts, type(error).__name__)
            return None
        delay = settings.TAHOE_REGISTRATION_API_EMAIL_RETRY_DELAY * 2 ** retries
        log.warning("The %s email of learner %s failed (%s); retry %s of %s in %s s.",
                    message.topic, message.user_id, type(error).__name__, retries + 1, limit, delay)
        return delay


# How each kind of message is sent and retried: a learner's email here; the webhooks' kinds register
# themselves (``webhooks.delivery``, imported when the app is ready).
KINDS = {EMAIL: EmailKind}


def register_kind(name, kind):
    """
    Send the messages of kind ``name`` with ``kind`` (``send``, ``retry_delay``, ``atomic``).

    A kind may also have ``settle_all(message_ids)``: mark done at once, together, those of a task's
    messages that have nothing to send (and return their ids); the others are delivered one by one.
    """
    KINDS[name] = kind


def _kind(message):
    """Return how a message of this kind is sent and retried."""
    if message.kind not in KINDS:
        raise Undeliverable(f"Unknown outbox message kind: {message.kind!r}.")
    return KINDS[message.kind]


def _send(message):
    """Send the message as its kind says."""
    _kind(message).send(message)


class _ChangedMeanwhile(Exception):
    """A message changed while an attempt held it: the attempt's writes are rolled back."""


def _still_ours(message):
    """
    Return the message while this attempt is still its last: not claimed again since, nor given up.

    A message changed meanwhile (given up when its learner was retired, or claimed by another worker
    once the lease ran out) is left as it is: this attempt's outcome is no longer the message's. A
    message the sweep handed back (its lease ran out during a slow send) but nobody claimed yet is
    still this attempt's: marking it sent keeps the sweep's copy from sending it again.
    """
    return OutboxMessage.objects.filter(pk=message.pk, state__in=(OutboxMessage.LEASED, OutboxMessage.PENDING),
                                        attempts=message.attempts)


def _changed_meanwhile(message):
    """Log and return the state of a message changed while this attempt held it."""
    state = OutboxMessage.objects.filter(pk=message.pk).values_list("state", flat=True).first()
    log.info("Outbox message %s (%s %s) changed while it was being sent (now %s); its state is kept.",
             message.pk, message.topic, message.kind, state)
    return state


def _done(message, state, error=""):
    """Mark the message sent or failed; return the state."""
    if not _still_ours(message).update(state=state, due=None, done_at=timezone.now(), last_error=error[:64]):
        return _changed_meanwhile(message)
    return state


# A retry (or a sweep) due later than this is left to the sweep rather than queued with a countdown:
# Redis hands a task held longer than its visibility timeout (an hour by default) to another worker too.
LONGEST_COUNTDOWN = 1800


def _retry_later(message, error):
    """Hand a failed message back with its kind's delay, or mark it failed after the last retry; return the state."""
    try:
        delay = _kind(message).retry_delay(message, error)
    except Undeliverable as exc:  # the kind gave up on it (an endpoint switched off meanwhile)
        log.info("Outbox message %s (%s %s) is not retried: %s", message.pk, message.topic, message.kind, exc)
        return _done(message, OutboxMessage.FAILED, type(error).__name__)
    if delay is None:
        return _done(message, OutboxMessage.FAILED, type(error).__name__)
    now = timezone.now()
    if delay <= LONGEST_COUNTDOWN:
        due = now + timedelta(seconds=delay) + _seconds("TAHOE_REGISTRATION_API_OUTBOX_HANDOVER_GRACE")
    else:
        due = now + timedelta(seconds=delay)
    if not _still_ours(message).update(state=OutboxMessage.PENDING, due=due, last_error=type(error).__name__[:64]):
        return _changed_meanwhile(message)
    if delay <= LONGEST_COUNTDOWN:
        hand_over([message.pk], countdown=delay)
    else:
        SWEEP.queue_next_sweep()
    return OutboxMessage.PENDING


def sweep(limit=SWEEP_BATCH):
    """Hand over again the messages overdue (never handed over, or their lease ran out); return how many."""
    now = timezone.now()
    # Only a message in flight (pending or leased) has a due time: the range is read from its index.
    ids = list(OutboxMessage.objects.filter(due__lt=now).order_by("due").values_list("pk", flat=True)[:limit])
    if not ids:
        return 0
    # A claim made since the select moved its message's due on: the update leaves that one alone.
    OutboxMessage.objects.filter(pk__in=ids, due__lt=now).update(
        state=OutboxMessage.PENDING, due=now + _seconds("TAHOE_REGISTRATION_API_OUTBOX_HANDOVER_GRACE"))
    log.warning("%s outbox message(s) due (a retry's time came, or overdue: never handed over, or their worker "
                "died) are handed over again.", len(ids))
    hand_over(ids)
    return len(ids)


class Sweep:
    """The outbox's sweep and purge, run at most every ``TAHOE_REGISTRATION_API_OUTBOX_SWEEP_INTERVAL`` s a process."""

    def __init__(self):
        """Not run yet; no later sweep queued."""
        self.next_at = 0.0
        self.queued_for = None  # when the later sweep this process queued runs

    def run_if_due(self):
        """Sweep (and purge old messages) when the interval has passed; a failure is logged, never raised."""
        if time.monotonic() < self.next_at:
            return
        self.next_at = time.monotonic() + float(settings.TAHOE_REGISTRATION_API_OUTBOX_SWEEP_INTERVAL)
        try:
            if sweep() >= SWEEP_BATCH:
                self.next_at = 0.0  # a backlog: the next chance sweeps the next batch
            self.queue_next_sweep()
            RETENTION.purge_if_due()
        except Exception as exc:  # pylint: disable=broad-except
            log.warning("The outbox's sweep failed (%s); the next one retries.", type(exc).__name__)

    def queue_next_sweep(self):
        """Queue a sweep for when the first message in flight falls due, unless one is queued for then already."""
        first_due = OutboxMessage.objects.filter(due__isnull=False).order_by("due").values_list(
            "due", flat=True).first()  # the first in flight, read from the index of ``due``
        if first_due is None:
            return
        now = timezone.now()
        if self.queued_for is not None and now <= self.queued_for <= first_due + timedelta(seconds=1):
            return  # the sweep queued before runs once this one falls due
        # Just after it falls due; a sweep due later than LONGEST_COUNTDOWN is queued for then, and queues the next.
        self.queued_for = min(max(first_due, now) + timedelta(seconds=1), now + timedelta(seconds=LONGEST_COUNTDOWN))
        options = {"countdown": (self.queued_for - now).total_seconds()}
        if settings.TAHOE_REGISTRATION_API_EMAIL_QUEUE:
            options["queue"] = settings.TAHOE_REGISTRATION_API_EMAIL_QUEUE
        sweep_outbox.apply_async(**options)


SWEEP = Sweep()


@shared_task(name="tahoe_registration_api.deliver_outbox_message", ignore_result=True)
def deliver_outbox_message(*message_ids):
    """
    Deliver each message (claim, send, mark), one after the other; then sweep when due.

    A message whose delivery fails unexpectedly (the database went away) is left to the sweep;
    the next ones are still delivered.
    """
    settled = set()
    for kind in {kind for kind in KINDS.values() if hasattr(kind, "settle_all")}:
        try:
            settled |= kind.settle_all(message_ids)
        except Exception as exc:  # pylint: disable=broad-except  # each is then delivered on its own
            log.error("Outbox messages %s were not settled together (%s).", message_ids, type(exc).__name__)
    for message_id in message_ids:
        if message_id in settled:
            continue
        try:
            deliver(message_id)
        except Exception as exc:  # pylint: disable=broad-except
            log.error("Outbox message %s was not delivered (%s); the sweep hands it over again.",
                      message_id, type(exc).__name__)
    SWEEP.run_if_due()


def claimable(now):
    """Return the condition of the messages a delivery may claim now: waiting, or leased but out of lease."""
    return Q(state=OutboxMessage.PENDING) | Q(state=OutboxMessage.LEASED, due__lt=now)


@shared_task(name="tahoe_registration_api.sweep_outbox", ignore_result=True)
def sweep_outbox():
    """Hand over again the messages due by now (queued for when the first in flight fell due); queue the next."""
    sweep()
    SWEEP.queue_next_sweep()  # a message still in flight (handed over again, or a retry due later) is looked at then


# The task name of releases before the outbox: a message an older release queued (still with the
# broker when the LMS is upgraded) becomes an outbox message, sent as any other.
@shared_task(name="tahoe_registration_api.send_registration_email", ignore_result=True)
def send_registration_email_queued_before_the_outbox(user_id, site_id, email, secure, job_row=None):
    """Owe the email a message of an older release asks for (its ``job_row`` is no longer needed)."""
    del job_row
    owe_email(user_id, site_id, email, secure)
