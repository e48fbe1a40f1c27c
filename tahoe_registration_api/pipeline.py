"""
The registration pipeline: how every driver (a single call, a bulk call, a job, the import command) registers.

A driver hands the pipeline a sequence of learners, each ``(key, data)``: ``key`` is the
driver's own handle (an index, a job's row, a CSV line), ``data`` a learner's fields (a JSON
object, a CSV row) or a ``RegistrationRequest`` already read. For each learner, in order, the
pipeline reads the fields (``learner_input``), checks the learner against the batch's earlier
ones, registers it (``api.register_user``: its own checks, transaction, email owed to the
outbox) or, in a dry run, checks it, and reports a ``LearnerOutcome`` to the driver's sink.
Outcomes are the domain's: ``created``, ``checked``, ``exists`` or ``refused`` with its error;
what they become (an HTTP answer, a results CSV, a job's row) is the driver's business.
"""

import logging
import queue
import threading
from dataclasses import dataclass
from typing import Optional

from django.db import DatabaseError, connections
from tahoe_sites.models import UserOrganizationMapping

from tahoe_registration_api import api, audit, outbox
from tahoe_registration_api.adapter import platform_adapter
from tahoe_registration_api.courses import SiteCourses
from tahoe_registration_api.data import RegistrationRequest
from tahoe_registration_api.exceptions import DuplicateAccount, InternalError, RegistrationError, ServiceUnavailable
from tahoe_registration_api.learner_input import parse_ref, parse_registration

log = logging.getLogger(__name__)

CREATED = "created"  # registered now
CHECKED = "checked"  # a dry run: it would be registered
EXISTS = "exists"  # already registered on the site with this username and email (a resumed import)
REFUSED = "refused"  # not registered: ``error`` says why
# Learners of a bulk call, a job or an import registered in one transaction: the plugin's own statements
# (claims, conflict check, memberships, outbox, a job's row marks) are written once per group, and a
# group holds its claims (and the database's locks) a fraction of a second.
GROUP_SIZE = 20
_STOP = object()


class Abandon(Exception):
    """Raised by an ``in_transaction`` callback: the learner is rolled back and reported to no sink."""


@dataclass(frozen=True)
class LearnerOutcome:
    """What became of one learner."""

    ref: Optional[str]
    result: str  # CREATED, CHECKED, EXISTS or REFUSED
    user_id: Optional[int] = None
    error: Optional[RegistrationError] = None

    @property
    def created(self):
        """Whether this learner was registered now (or would be, in a dry run)."""
        return self.result in (CREATED, CHECKED)


class BatchDuplicates:
    """The usernames and emails (case aside) of the batch's valid learners so far: the first one wins."""

    def __init__(self):
        """Start with an empty batch."""
        self.usernames = set()
        self.emails = set()

    def check_and_add(self, registration):
        """Raise ``DuplicateAccount`` naming the fields an earlier learner of the batch holds; else remember these."""
        username, email = registration.username.strip().lower(), registration.email.strip().lower()
        fields = {name for name, taken in (("username", username in self.usernames),
                                           ("email", email in self.emails)) if taken}
        if fields:
            raise DuplicateAccount(fields, developer_message=(
                f"An earlier learner of this batch has the same {' and '.join(sorted(fields))}."
            ))
        self.usernames.add(username)
        self.emails.add(email)


def existing_learner_id(registration, organization):
    """Return the id of the learner of ``organization`` with this username and email (case aside), else None."""
    return UserOrganizationMapping.objects.filter(
        organization=organization,
        user__username__iexact=registration.username.strip(),
        user__email__iexact=registration.email.strip(),
    ).values_list("user_id", flat=True).first()


class Pipeline:  # pylint: disable=too-many-instance-attributes
    """
    Register (or, in a dry run, check) learners on one site, reporting each outcome to a sink.

    ``send_emails=False`` owes no email to anyone; ``existing_ok=True`` reports a learner already
    registered on the site with the same username and email as ``exists`` instead of refusing it
    (an import run again); ``batch_duplicates=False`` leaves duplicates within the batch to the
    site's own conflict check (a job, whose learners are not all in memory: the first registered
    wins); ``audit_as`` = (action, caller id, request id) makes each learner a record of the audit trail.
    ``group_size`` > 1 registers that many learners at a time in one transaction (``api.register_group``:
    the plugin's own statements once per group); a group that fails as a whole is registered one by one.
    """

    def __init__(self, *, site, organization, request=None, secure=None,  # pylint: disable=too-many-arguments
                 dry_run=False, send_emails=True, existing_ok=False, batch_duplicates=True, audit_as=None,
                 group_size=1):
        """Name the site and how to register."""
        self.group_size = max(1, group_size)
        self.site = site
        self.organization = organization
        self.request = request
        self.secure = secure
        self.dry_run = dry_run
        self.send_emails = send_emails
        self.existing_ok = existing_ok
        self.duplicates = BatchDuplicates() if batch_duplicates else None
        self.audit_as = audit_as
        self._audit_records = []
        self._audit_lock = threading.Lock()  # learners are completed in threads with ``concurrency``
        self._extension_fields = None  # the LMS's extension form's fields, read once per run
        self.site_courses = SiteCourses(organization)  # the courses learners are enrolled in, looked up once

    @property
    def extension_fields(self):
        """Return the names of the fields of the LMS's extension form (none without one), read once."""
        if self._extension_fields is None:
            self._extension_fields = platform_adapter().extension_field_names()
        return self._extension_fields

    def run(self, learners, sink, in_transaction=None, concurrency=1, in_group=None):
        """
        Register each ``(key, data)`` of ``learners`` in order; call ``sink(key, outcome)`` for each, in input order.

        ``in_transaction(key, user)`` runs inside each new learner's transaction (it may raise
        ``Abandon``); with groups, ``in_group([(key, user), ...])`` runs once inside the group's
        transaction instead, for the group's new learners (it may raise ``Abandon``: the whole group is
        rolled back). ``concurrency`` > 1 registers that many learners (or groups) at a time, each thread
        on its own database connection; the learners are still read, checked against the batch and
        reported in order, so the first of two duplicates wins. An exception of the sink stops the run.
        The learners' emails are handed over to the outbox's workers in batches, the last when the run ends.
        """
        callbacks = (in_transaction, in_group)
        with outbox.batched_hand_overs() as batch:
            if concurrency > 1:
                self._run_in_threads(learners, sink, callbacks, concurrency, batch)
            else:
                self._run_in_order(learners, sink, callbacks)

    def _run_in_order(self, learners, sink, callbacks):
        """``run`` in this thread, a group at a time."""
        waiting = []  # (key, prepared learner or outcome), in input order

        def flush():
            done, waiting[:] = list(waiting), []
            completed = iter(self._complete_all(
                [(key, item) for key, item in done if not isinstance(item, LearnerOutcome)], callbacks))
            for key, item in done:
                outcome = item if isinstance(item, LearnerOutcome) else next(completed)
                if outcome is not None:
                    sink(key, self._audited(outcome))

        prepared = 0
        for key, data in learners:
            item = self._prepare(data)
            waiting.append((key, item))
            prepared += not isinstance(item, LearnerOutcome)
            if prepared >= self.group_size:
                flush()
                prepared = 0
        flush()

    def one(self, data, in_transaction=None):
        """Register one learner (a sequence of one); return its outcome."""
        outcomes = []
        self.run([(None, data)], lambda key, outcome: outcomes.append(outcome),
                 in_transaction and (lambda key, user: in_transaction(user)))
        return outcomes[0]

    def store_audit(self):
        """Store the audit records gathered since the last call, in one statement."""
        with self._audit_lock:
            records, self._audit_records = self._audit_records, []
        audit.store(records, self.site)

    def _prepare(self, data):
        """Read a learner and check it against the batch's earlier ones; return ``(ref, registration)`` or a refusal."""
        ref = registration = None
        try:
            if isinstance(data, RegistrationRequest):
                registration = data
            else:
                ref = parse_ref(data)
                registration = parse_registration(data, self.extension_fields)
            if self.duplicates is not None:
                self.duplicates.check_and_add(registration)
            return ref, registration
        except DuplicateAccount as exc:
            return self._duplicate(ref, registration, exc)
        except RegistrationError as exc:
            return LearnerOutcome(ref=ref, result=REFUSED, error=exc)

    def _complete(self, key, prepared, in_transaction):
        """Register (or check) a prepared learner; return its outcome, or None when abandoned."""
        try:
            return self._register(key, prepared, in_transaction)
        except Abandon:
            return None

    def _complete_all(self, prepared, callbacks):
        """Register (or check) prepared ``(key, learner)``s, as a group when they are several; return their outcomes."""
        in_transaction, in_group = callbacks
        if self.dry_run or len(prepared) < 2 or (in_transaction is not None and in_group is None):
            return [self._complete(key, learner, in_transaction) for key, learner in prepared]
        keys = [key for key, _ in prepared]
        try:
            results = api.register_group(
                [registration for _, (_, registration) in prepared], site=self.site, organization=self.organization,
                on_created=in_group and (lambda created: in_group([(keys[index], user) for index, user in created])),
                send_emails=self.send_emails, site_courses=self.site_courses,
                secure=api.is_secure(self.request) if self.secure is None else self.secure,
            )
        except Abandon:
            return [None] * len(prepared)
        except Exception as exc:  # pylint: disable=broad-except  # nothing of the group was written
            log.warning("A group of %s learners failed as a whole (%s); registering them one by one.",
                        len(prepared), type(exc).__name__)
            return [self._complete(key, learner, in_transaction) for key, learner in prepared]
        return [self._group_outcome(learner, result) for (_, learner), result in zip(prepared, results)]

    def _group_outcome(self, learner, result):
        """Return the outcome of a learner of a group from what ``register_group`` returned."""
        ref, registration = learner
        if isinstance(result, DuplicateAccount):
            return self._duplicate(ref, registration, result)
        if isinstance(result, RegistrationError):
            return LearnerOutcome(ref=ref, result=REFUSED, error=result)
        return LearnerOutcome(ref=ref, result=CREATED, user_id=result.user_id)

    def _register(self, key, prepared, in_transaction):
        """Register or check the learner; return the outcome."""
        ref, registration = prepared
        try:
            if self.dry_run:
                api.check_registration(registration, site=self.site, organization=self.organization,
                                       site_courses=self.site_courses)
                return LearnerOutcome(ref=ref, result=CHECKED)
            result = api.register_user(
                registration, site=self.site, organization=self.organization, request=self.request,
                on_created=in_transaction and (lambda user: in_transaction(key, user)),
                send_emails=self.send_emails, secure=self.secure, site_courses=self.site_courses,
            )
            return LearnerOutcome(ref=ref, result=CREATED, user_id=result.user_id)
        except DuplicateAccount as exc:
            return self._duplicate(ref, registration, exc)
        except RegistrationError as exc:
            return LearnerOutcome(ref=ref, result=REFUSED, error=exc)
        except Abandon:
            raise
        except DatabaseError as exc:
            log.error("Registering learner %s failed: the database is unavailable (%s).", ref, type(exc).__name__)
            return LearnerOutcome(ref=ref, result=REFUSED, error=ServiceUnavailable())
        except Exception:  # pylint: disable=broad-except
            # One learner's unexpected failure (written nothing: its transaction rolled back) must not
            # lose the outcomes of the learners registered before it.
            log.exception("Registering learner %s failed unexpectedly.", ref)
            return LearnerOutcome(ref=ref, result=REFUSED, error=InternalError())

    def _duplicate(self, ref, registration, error):
        """Return the outcome of a taken username or email: ``exists`` (that learner, if existing_ok), else refused."""
        # Only a learner whose username or email is taken can be one already registered.
        if self.existing_ok and (user_id := existing_learner_id(registration, self.organization)):
            return LearnerOutcome(ref=ref, result=EXISTS, user_id=user_id)
        return LearnerOutcome(ref=ref, result=REFUSED, error=error)

    def _audited(self, outcome):
        """Keep the learner's audit record (when the run is audited) for ``store_audit``; called in input order."""
        if self.audit_as is not None:
            action, caller_id, request_id = self.audit_as
            record = audit.record_learner(action, self.site, caller_id, request_id, outcome)
            with self._audit_lock:
                self._audit_records.append(record)
        return outcome

    def _run_in_threads(self, learners, sink, callbacks, concurrency, batch):  # pylint: disable=too-many-locals
        """``run`` with ``concurrency`` threads registering groups; at most a few groups per thread wait in memory."""
        todo, done = queue.Queue(maxsize=concurrency * 4), queue.Queue()

        def work():
            try:
                with outbox.batched_hand_overs(batch):
                    while (group := todo.get()) is not _STOP:
                        outcomes = self._complete_all([(key, prepared) for _, key, prepared in group], callbacks)
                        for (number, _, _), outcome in zip(group, outcomes):
                            done.put((number, outcome))
            finally:
                connections.close_all()

        threads = [threading.Thread(target=work, name=f"tahoe-registration-{n}", daemon=True)
                   for n in range(concurrency)]
        for thread in threads:
            thread.start()
        keys, finished, next_number, group = {}, {}, 0, []

        def report_ready(wait):
            nonlocal next_number
            while keys:
                if next_number not in finished:
                    if not wait and done.empty():
                        return
                    number_done, outcome = done.get()
                    finished[number_done] = outcome
                    continue
                key, outcome = keys.pop(next_number), finished.pop(next_number)
                next_number += 1
                if outcome is not None:
                    sink(key, self._audited(outcome))

        try:
            for number, (key, data) in enumerate(learners):
                keys[number] = key
                prepared = self._prepare(data)
                if isinstance(prepared, LearnerOutcome):
                    finished[number] = prepared
                else:
                    group.append((number, key, prepared))
                    if len(group) >= self.group_size:
                        todo.put(group)
                        group = []
                report_ready(wait=False)
            if group:
                todo.put(group)
            report_ready(wait=True)
        finally:
            for _ in threads:
                todo.put(_STOP)
            for thread in threads:
                thread.join()
