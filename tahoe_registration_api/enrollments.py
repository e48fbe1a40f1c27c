"""
Enroll a site's learners in the site's courses, or unenroll them: one change per course and identifier.

The call's rules (``docs/decisions/0019-courses-and-enrollments-through-the-platforms-own-code.rst``):

* Identifiers are user ids, usernames or emails of the site's members. A JSON number is a user
  id; a string is a username, else an email, else (all digits) a user id. A learner of another
  site is nobody here: their email is treated as an address of nobody, their id or username as no one.
* A learner of the site is enrolled at once (activated or not: the learner exists on this site);
  the address of nobody is pre-enrolled (the platform's enrollment-allowed record, which enrolls
  whoever registers with it, on activation when ``auto_enroll``), as the platform's bulk enroll does.
* Unenrolling leaves the enrollment inactive and deletes the pre-enrollment, as the platform does.
* Each change is its own transaction, through the platform's own enrollment code (its filters,
  signals and events); its audit records (the platform's ``ManualEnrollmentAudit``) and the
  emails it owes (the platform's own, through the outbox) are written in it. A change that fails
  is rolled back alone and reported as the platform's bulk enroll reports it (``"error": true``).
"""

import logging
from dataclasses import dataclass, replace
from typing import Optional, Tuple

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from tahoe_sites.models import UserOrganizationMapping

from tahoe_registration_api import audit, outbox
from tahoe_registration_api.adapter import platform_adapter
from tahoe_registration_api.data import EnrollmentState
from tahoe_registration_api.lookups import user_id_fits
from tahoe_registration_api.webhooks import events

log = logging.getLogger(__name__)

ENROLL, UNENROLL = "enroll", "unenroll"
ACTIONS = (ENROLL, UNENROLL)
# The platform's enrollment emails (its bulk enroll's ``message_type``), sent through the outbox.
ALLOWED_ENROLL, ENROLLED_ENROLL = "allowed_enroll", "enrolled_enroll"
ALLOWED_UNENROLL, ENROLLED_UNENROLL = "allowed_unenroll", "enrolled_unenroll"
EMAILS = (ALLOWED_ENROLL, ENROLLED_ENROLL, ALLOWED_UNENROLL, ENROLLED_UNENROLL)
# What the platform's ManualEnrollmentAudit keeps as the reason of each change.
REASON = "Tahoe registration API, request {request_id}"


@dataclass(frozen=True)
class EnrollmentRequest:
    """What a caller asks for: one action on each of its identifiers in each of its courses (checked keys)."""

    action: str
    identifiers: Tuple[object, ...]
    courses: Tuple[str, ...]
    auto_enroll: bool = False
    email_learners: bool = False
    mode: Optional[str] = None

    @property
    def size(self):
        """The number of changes: identifiers × courses."""
        return len(self.identifiers) * len(self.courses)


@dataclass(frozen=True)
class Target:
    """Whom an identifier names: a member of the site (``user``), the address of nobody (``email``), or no one."""

    user: object = None
    email: Optional[str] = None

    @property
    def valid(self):
        """Whether the identifier names a learner or an address."""
        return self.user is not None or self.email is not None


@dataclass(frozen=True)
class Change:
    """The outcome of one identifier in one course: its states before and after, or why there are none."""

    identifier: object
    before: Optional[EnrollmentState] = None
    after: Optional[EnrollmentState] = None
    invalid: bool = False  # the identifier names no learner of the site and no address
    error: bool = False  # the change failed and was rolled back

    def as_dict(self):
        """Return the change as the platform's bulk enroll API shows one of its results."""
        if self.invalid:
            return {"identifier": self.identifier, "invalidIdentifier": True}
        if self.error:
            return {"identifier": self.identifier, "error": True}
        return {"identifier": self.identifier, "before": self.before.as_dict(), "after": self.after.as_dict()}


def _variants(texts):
    """Return the texts as given and lower-cased: matched by the database's own collation, then case aside here."""
    return sorted(set(texts) | {text.lower() for text in texts})


def resolve(identifiers, organization):
    """Return ``{identifier: Target}`` for the distinct identifiers: members of ``organization``, addresses, no one."""
    texts = [item.strip() for item in identifiers if isinstance(item, str) and item.strip()]
    ids = {int(item) for item in identifiers if isinstance(item, int) and not isinstance(item, bool)}
    ids |= {int(text) for text in texts if text.isascii() and text.isdigit() and len(text) < 19}
    ids = {user_id for user_id in ids if user_id_fits(user_id)}
    lookups = Q(user__username__in=_variants(texts)) | Q(user__email__in=_variants(texts)) | Q(user_id__in=sorted(ids))
    members = [membership.user for membership in UserOrganizationMapping.objects.filter(
        lookups, organization=organization).select_related("user")]
    by_username = {user.username.lower(): user for user in members}
    by_email = {user.email.lower(): user for user in members}
    by_id = {user.pk: user for user in members}
    targets = {}
    for item in identifiers:
        if item in targets:
            continue
        targets[item] = _target(item, by_username, by_email, by_id)
    return targets


def _target(item, by_username, by_email, by_id):
    """Return whom one identifier names."""
    if isinstance(item, bool) or not isinstance(item, (str, int)):
        return Target()
    if isinstance(item, int):
        return Target(user=by_id.get(item))
    text = item.strip()
    user = by_username.get(text.lower()) or by_email.get(text.lower())
    if user is None and text.isascii() and text.isdigit() and len(text) < 19:
        user = by_id.get(int(text))
    if user is not None:
        return Target(user=user)
    try:
        validate_email(text)
    except ValidationError:
        return Target()
    return Target(email=text)


def expected_after(action, before, auto_enroll):
    """Return the state a change leads to from ``before`` (what a dry run shows)."""
    if action == ENROLL:
        if before.user:
            return replace(before, enrollment=True)
        return replace(before, allowed=True, auto_enroll=auto_enroll)
    return replace(before, enrollment=False, allowed=False, auto_enroll=False)


def emails_owed(action, before, after):
    """Return the platform's emails a change sends when the caller asks for them, as its bulk enroll sends them."""
    if action == ENROLL:
        if after.enrollment:
            return [ENROLLED_ENROLL]
        return [ALLOWED_ENROLL] if after.allowed else []  # a retired address is left alone, and not written to
    return ([ENROLLED_UNENROLL] if before.enrollment else []) + ([ALLOWED_UNENROLL] if before.allowed else [])


class Enrollments:  # pylint: disable=too-many-instance-attributes
    """
    Apply an ``EnrollmentRequest`` on one site, by one caller; a dry run reads and writes nothing.

    ``secure`` gives the scheme of the emails' links; ``request_id`` ties the changes' audit records together.
    """

    def __init__(self, *, site, organization, caller, request_id, secure=True,  # pylint: disable=too-many-arguments
                 dry_run=False, audit_action=None):
        """Name the site, the caller and how to apply."""
        self.site = site
        self.organization = organization
        self.caller = caller
        self.request_id = request_id
        self.secure = secure
        self.dry_run = dry_run
        self.audit_action = audit_action
        self.adapter = platform_adapter()
        self.audit_records = []

    def run(self, request):
        """Return ``{course: [Change, ...]}``: each identifier in each course, in the order given."""
        targets = resolve(request.identifiers, self.organization)
        results = {}
        with outbox.batched_hand_overs():
            for key in request.courses:
                results[key] = [self._change(request, key, identifier, targets[identifier])
                                for identifier in request.identifiers]
        audit.store(self.audit_records, self.site)
        return results

    def _change(self, request, key, identifier, target):
        """Apply (or, in a dry run, foresee) the action for one identifier in one course."""
        if not target.valid:
            self._audit(target, "invalid-identifier")
            return Change(identifier, invalid=True)
        try:
            if self.dry_run:
                before = self._state(key, target)
                return self._audited(Change(identifier, before, expected_after(request.action, before,
                                                                               request.auto_enroll)), target)
            with transaction.atomic():
                before = self._state(key, target)
                self._apply(request, key, target, before)
                after = self._state(key, target)
                email = target.user.email if target.user is not None else target.email
                self.adapter.record_manual_enrollment(
                    self.caller, key, email, (request.action, before, after),
                    REASON.format(request_id=self.request_id), user=target.user)
                owed = [outbox.email_message(target.user and target.user.pk, self.site.pk, message, self.secure,
                                             details={"course_id": key, "address": email,
                                                      "auto_enroll": request.auto_enroll})
                        for message in (emails_owed(request.action, before, after) if request.email_learners else ())]
                if target.user is not None and before.enrollment != after.enrollment:
                    owed.append(events.enrollment(target.user, self.site.pk, key, after.mode or before.mode,
                                                  active=after.enrollment))
                outbox.owe(owed)
            return self._audited(Change(identifier, before, after), target)
        except Exception as exc:  # pylint: disable=broad-except
            # As the platform's bulk enroll: one change's failure (rolled back) is reported, the others go on.
            log.error("Enrollment change in %s failed (%s).", key, type(exc).__name__,
                      exc_info=not hasattr(exc, "error_code"))
            self._audit(target, "error", getattr(exc, "error_code", "internal-error"))
            return Change(identifier, error=True)

    def _state(self, key, target):
        """Return the target's state in the course."""
        return self.adapter.enrollment_state(key, user=target.user, email=None if target.user else target.email)

    def _apply(self, request, key, target, before):
        """Enroll, pre-enroll, unenroll or withdraw the pre-enrollment, through the platform's code."""
        if request.action == ENROLL:
            if target.user is not None:
                self.adapter.enroll(target.user, key, request.mode)
            else:
                self.adapter.allow_enrollment(key, target.email, request.auto_enroll)
            return
        if before.enrollment:
            self.adapter.unenroll(target.user, key)
        if before.allowed:
            self.adapter.disallow_enrollment(key, user=target.user, email=None if target.user else target.email)

    def _audited(self, change, target):
        """Keep the change's audit record; return the change."""
        if change.after.enrollment and not change.before.enrollment:
            outcome = "enrolled"
        elif change.before.enrollment and not change.after.enrollment:
            outcome = "unenrolled"
        elif change.after.allowed != change.before.allowed:
            outcome = "pre-enrolled" if change.after.allowed else "pre-enrollment-withdrawn"
        else:
            outcome = "unchanged"
        self._audit(target, outcome)
        return change

    def _audit(self, target, outcome, error_code=None):
        """Keep one change's record (the learner's id, never an email) when the call is audited."""
        if self.audit_action is None:
            return
        self.audit_records.append(audit.record_change(
            self.audit_action, self.site, getattr(self.caller, "pk", None), self.request_id,
            outcome=outcome, learner_id=getattr(target.user, "pk", None), error_code=error_code))


def enroll_at_registration(adapter, user, keys, mode):
    """Enroll a learner registered in this transaction in the courses of ``keys`` (checked): all, or raise.

    Return ``{key: the enrollment's mode}``.
    """
    return {key: adapter.enroll(user, key, mode) for key in keys}
