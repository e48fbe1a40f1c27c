"""
Register many learners in one go: what the bulk call, the registration jobs and the import command share.

Each learner is registered exactly as a single call registers one (``api.register_user``): its
own checks, its own transaction, all or nothing. A learner whose username or email (case
aside) is that of an earlier valid learner of the same batch is refused with a 409, so that a
dry run and a real run of a batch give the same answers.
"""

import logging
import threading
from dataclasses import dataclass
from typing import Optional

from tahoe_sites.models import UserOrganizationMapping

from tahoe_registration_api import api, audit, learner_input
from tahoe_registration_api.exceptions import DuplicateAccount, InternalError, RegistrationError
from tahoe_registration_api.rest_api.errors import status_of

log = logging.getLogger(__name__)

REF_MAX_LENGTH = 255
EXISTS = "exists"  # the status of a learner an import finds already registered (a resumed import)


class Abandon(Exception):
    """Raised by an ``on_created`` callback to roll the learner back and stop: it reaches the caller as it is."""


@dataclass(frozen=True)
class LearnerOutcome:
    """What became of one learner of a batch: the status a single call would have answered."""

    ref: Optional[str]
    status: object  # 200, 400, 409 (as a single call), 503 or 500; ``"exists"`` for a resumed import
    user_id: Optional[int] = None
    error: Optional[RegistrationError] = None

    @property
    def created(self):
        """Whether this learner was registered now (or would be, in a dry run)."""
        return self.status == 200


def learner_ref(item):
    """Return the item's ``ref`` (the caller's own id) as a string, or None; refuse all but a short string or number."""
    return learner_input.parse_ref(item)


class LearnerParser:
    """Validates learners by the v1 rules: the domain's (``learner_input``)."""

    def parse(self, item):
        """Return the learner's ``RegistrationRequest``, or raise ``InvalidRegistration`` naming the fields."""
        return learner_input.parse_registration(item)


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


class BatchRegistration:
    """
    Register (or, in a dry run, check) the learners of one batch on one site, one at a time.

    ``send_emails=False`` queues no email for anyone; ``existing_ok=True`` reports a learner
    already registered on the site with the same username and email as ``"exists"`` instead of
    a 409 (an import run again after an interruption).
    """

    def __init__(self, *, site, organization, request=None, dry_run=False,  # pylint: disable=too-many-arguments
                 send_emails=True, existing_ok=False, secure=None, audit_as=None):
        """Name the site and how to register; ``audit_as`` = (action, caller id, request id) audits each learner."""
        self.site = site
        self.organization = organization
        self.request = request
        self.dry_run = dry_run
        self.send_emails = send_emails
        self.existing_ok = existing_ok
        self.secure = secure
        self.duplicates = BatchDuplicates()
        self.parser = LearnerParser()
        self.audit_as = audit_as
        self._audit_records = []
        self._audit_lock = threading.Lock()  # the import command completes learners in threads

    def _audited(self, outcome):
        """Log the learner's audit record (when the batch is audited), to be stored by ``store_audit``."""
        if self.audit_as is not None:
            action, caller_id, request_id = self.audit_as
            record = audit.record_learner(action, self.site, caller_id, request_id, outcome)
            with self._audit_lock:
                self._audit_records.append(record)
        return outcome

    def store_audit(self):
        """Store the audit records gathered since the last call, in one statement."""
        with self._audit_lock:
            records, self._audit_records = self._audit_records, []
        audit.store(records, self.site)

    def register(self, item, on_created=None, check_batch_duplicates=True):
        """
        Register one item (a dict of a single call's fields, with an optional ``ref``); return its ``LearnerOutcome``.

        ``on_created(user)`` runs in the learner's transaction. ``check_batch_duplicates=False``
        leaves duplicates within the batch to the site's own conflict check (a job, whose rows
        are not all in memory: the first row registered wins).
        """
        prepared = self.prepare(item, check_batch_duplicates)
        if isinstance(prepared, LearnerOutcome):
            return prepared
        return self.complete(prepared, on_created)

    def prepare(self, item, check_batch_duplicates=True):
        """
        Validate an item and check it against the batch's earlier learners, in the batch's order.

        Returns the ``(ref, registration)`` to ``complete``, or the ``LearnerOutcome`` of a refusal.
        """
        ref = registration = None
        try:
            ref = learner_ref(item)
            registration = self.parser.parse(item)
            if check_batch_duplicates:
                self.duplicates.check_and_add(registration)
            return ref, registration
        except DuplicateAccount as exc:
            return self._audited(self._duplicate(ref, registration, exc))
        except RegistrationError as exc:
            return self._audited(LearnerOutcome(ref=ref, status=status_of(exc), error=exc))

    def complete(self, prepared, on_created=None):
        """Register (or, in a dry run, check) a prepared learner; return its ``LearnerOutcome``. Safe in any thread."""
        return self._audited(self._complete(prepared, on_created))

    def _complete(self, prepared, on_created):
        """Register or check the learner; return the outcome (not audited yet)."""
        ref, registration = prepared
        try:
            if self.dry_run:
                api.check_registration(registration, site=self.site, organization=self.organization)
                return LearnerOutcome(ref=ref, status=200)
            result = api.register_user(
                registration, site=self.site, organization=self.organization, request=self.request,
                on_created=on_created, send_emails=self.send_emails, secure=self.secure,
            )
            return LearnerOutcome(ref=ref, status=200, user_id=result.user_id)
        except DuplicateAccount as exc:
            return self._duplicate(ref, registration, exc)
        except RegistrationError as exc:
            return LearnerOutcome(ref=ref, status=status_of(exc), error=exc)
        except Abandon:
            raise
        except Exception:  # pylint: disable=broad-except
            # One learner's unexpected failure (written nothing: its transaction rolled back) must not
            # lose the answers of the learners registered before it.
            log.exception("Registering learner %s of a batch failed unexpectedly.", ref)
            return LearnerOutcome(ref=ref, status=500, error=InternalError())

    def _duplicate(self, ref, registration, error):
        """Return the outcome of a taken username or email: ``exists`` (that learner, if existing_ok), else 409."""
        # Only a learner whose username or email is taken can be one already registered.
        if self.existing_ok and (user_id := existing_learner_id(registration, self.organization)):
            return LearnerOutcome(ref=ref, status=EXISTS, user_id=user_id)
        return LearnerOutcome(ref=ref, status=status_of(error), error=error)
