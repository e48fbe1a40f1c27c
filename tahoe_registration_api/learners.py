"""
A site's learners: looked up, changed, switched off and on again.

The rules (docs/reference/rest_api.rst, "Learners: look up, change, switch off"):

* A learner of a site is a member of its organization who is not one of its admins (tahoe-sites'
  ``UserOrganizationMapping``, ``is_admin`` false). A learner of another site is nobody here: the
  same answer as no one at all. Admins are read only when the caller may see them (the view decides).
* A change (``name``, ``email``, ``language``, ``disabled``; a ``password`` from SCIM) is applied as
  the platform applies an administrator's change, through the adapter, in one transaction: a new email is unique on the
  site (and platform-wide where the platform requires it), with the registration's claim on it, so
  a registration and a change racing for one address cannot both win; the old address is told
  through the outbox. ``disabled`` is the platform's own reversible "User Disabled".
* A dry run checks everything and writes nothing.
"""

import hashlib
import logging

from django.contrib.auth import get_user_model
from django.db import transaction
from tahoe_sites.models import UserOrganizationMapping

from tahoe_registration_api import outbox
from tahoe_registration_api.adapter import platform_adapter
from tahoe_registration_api.emails import EMAIL_CHANGED
from tahoe_registration_api.exceptions import DuplicateAccount, InvalidRegistration, LearnerNotFound
from tahoe_registration_api.learner_input import language_refusal
from tahoe_registration_api.lookups import user_id_fits
from tahoe_registration_api.models import RegistrationClaim
from tahoe_registration_api.retries import with_retries
from tahoe_registration_api.webhooks import events

log = logging.getLogger(__name__)

NAME_RATIONALE = "Name changed through the Tahoe registration API by {caller}"
DISABLED_COMMENT = "Disabled through the Tahoe registration API by {caller}"
ENABLED_COMMENT = "Enabled through the Tahoe registration API by {caller}"


def email_claim(adapter, email, organization):
    """Return the claim on an email (before hashing): in its uniqueness scope, the platform's or the organization's."""
    scope = "platform" if adapter.email_unique_platform_wide() else f"organization:{organization.pk}"
    return f"email:{scope}:{email.strip().lower()}"


def claim_key(claim):
    """Return a claim's key, as ``RegistrationClaim`` keeps it (SHA-256)."""
    return hashlib.sha256(claim.encode("utf-8")).hexdigest()


def members(organization, include_admins=False):
    """Return the users of ``organization``'s site: its learners, and its admins too when ``include_admins``."""
    memberships = UserOrganizationMapping.objects.filter(organization=organization)
    if not include_admins:
        memberships = memberships.filter(is_admin=False)
    return get_user_model().objects.filter(pk__in=memberships.values("user_id"))


class SiteLearners:
    """The learners of one site's organization, read as the API shows them."""

    def __init__(self, organization, adapter=None, include_admins=False):
        """Name the organization; ``include_admins``: its admins are found too."""
        self.organization = organization
        self.adapter = adapter or platform_adapter()
        self.include_admins = include_admins

    def listed(self, email=None, username=None):
        """Return the site's learners, oldest account first; ``email`` and ``username`` match exactly, case aside."""
        users = members(self.organization, self.include_admins)
        if email is not None:
            users = users.filter(email__iexact=email)
        if username is not None:
            users = users.filter(username__iexact=username)
        return users.order_by("pk")

    def get(self, user_id):
        """Return learner ``user_id`` of the site; raise ``LearnerNotFound`` otherwise (the same whoever it is)."""
        user = None
        if user_id_fits(user_id):  # a larger id would overflow the query: nobody has it
            user = members(self.organization, self.include_admins).filter(pk=user_id).first()
        if user is None:
            raise LearnerNotFound(f"No learner {user_id} on this site.")
        return user

    def describe(self, users):
        """Return the users as the API shows a learner, in the order given."""
        users = list(users)
        profiles = self.adapter.learner_profiles([user.pk for user in users])
        return [describe(user, profiles.get(user.pk, {})) for user in users]


def describe(user, profile):
    """Return one learner as the API shows them, from the user and their ``{"name", "language"}``."""
    return {
        "user_id": user.pk,
        "username": user.username,
        "email": user.email,
        "name": profile.get("name") or "",
        "is_active": user.is_active,  # activated (the platform's meaning), not switched on
        "disabled": not user.has_usable_password(),
        "language": profile.get("language"),
        "date_joined": user.date_joined,
    }


class LearnerUpdate:
    """
    Apply a ``LearnerChange`` to a learner of one site, by one caller; a dry run checks it and writes nothing.

    ``secure`` gives the scheme of the links of the email the old address gets.
    """

    def __init__(self, *, site, organization, caller, secure=True, dry_run=False):
        """Name the site, the caller and how to apply."""
        self.site = site
        self.organization = organization
        self.caller = caller
        self.secure = secure
        self.dry_run = dry_run
        self.adapter = platform_adapter()
        self.learners = SiteLearners(organization, self.adapter)
        self.learner_id = None  # the learner's id once found on the site

    def run(self, user_id, change, in_transaction=None):
        """
        Change learner ``user_id``; return how they look afterwards (or would, in a dry run).

        Raises ``LearnerNotFound``, ``InvalidRegistration`` (a language the site lacks, a password the
        platform's policy refuses) or
        ``DuplicateAccount`` (the email is taken) having changed nothing. ``in_transaction(learner)``,
        if given, runs inside the change's transaction with its answer.
        """
        learner = self.learners.get(user_id)
        self.learner_id = learner.pk
        self._check_language(change.language)
        if self.dry_run:
            if self._new_email(learner, change) is not None:
                self._check_email(learner, change.email)
            return self._foreseen(learner, change)
        return with_retries(lambda: self._apply(user_id, change, in_transaction), "change")

    def _check_language(self, language):
        """Refuse a language the LMS does not offer on the site (a 400 naming ``language``)."""
        if language is None:
            return
        if message := language_refusal(language, self.adapter.language_choices(self.site)):
            raise InvalidRegistration(field_errors={"language": message})

    @staticmethod
    def _new_email(learner, change):
        """Return the email the change gives the learner, None when it keeps theirs (exactly as it is)."""
        return change.email if change.email is not None and change.email != learner.email else None

    def _check_email(self, learner, email):
        """Raise ``DuplicateAccount`` naming ``email`` when another member of the site (or the platform) has it."""
        taken = UserOrganizationMapping.objects.filter(
            organization=self.organization, user__email__iexact=email).exclude(user_id=learner.pk).exists()
        if taken or (self.adapter.email_unique_platform_wide() and self.adapter.email_taken_by_another(email, learner)):
            raise DuplicateAccount({"email"})

    def _foreseen(self, learner, change):
        """Return the learner as the change would leave them (a dry run)."""
        profile = self.adapter.learner_profiles([learner.pk]).get(learner.pk, {})
        shown = describe(learner, profile)
        for field in ("name", "email", "language", "disabled"):
            if getattr(change, field) is not None:
                shown[field] = getattr(change, field)
        return shown

    def _apply(self, user_id, change, in_transaction):
        """Change the learner in one transaction: claim, check, apply, owe the old address its email."""
        caller = getattr(self.caller, "username", "") or ""
        with transaction.atomic():
            learner = members(self.organization).select_for_update().filter(pk=user_id).first()
            if learner is None:
                raise LearnerNotFound(f"No learner {user_id} on this site.")
            new_email, claims = self._new_email(learner, change), []
            if new_email is not None:
                claims = [claim_key(email_claim(self.adapter, new_email, self.organization))]
                RegistrationClaim.objects.bulk_create([RegistrationClaim(key=key) for key in claims])
                self._check_email(learner, new_email)
            profile = self.adapter.learner_profiles([learner.pk]).get(learner.pk, {})
            owed, changed = [], []
            if change.name is not None and change.name != profile.get("name"):
                self.adapter.change_learner_name(learner, change.name, self.caller)
                changed.append("name")
            if new_email is not None:
                old_email = learner.email
                self.adapter.change_learner_email(learner, new_email)
                owed.append(outbox.email_message(learner.pk, self.site.pk, EMAIL_CHANGED, self.secure,
                                                 details={"old_email": old_email, "new_email": new_email}))
                changed.append("email")
            if change.language is not None and change.language != profile.get("language"):
                self.adapter.change_learner_language(learner, change.language)
                changed.append("language")
            disabled = not learner.has_usable_password()
            if change.disabled is True and not disabled:
                self.adapter.disable_learner(learner, self.caller, DISABLED_COMMENT.format(caller=caller))
                owed.append(events.learner_switched(learner, self.site.pk, disabled=True))
            elif change.disabled is False and disabled:
                self.adapter.enable_learner(learner, self.caller, ENABLED_COMMENT.format(caller=caller))
                owed.append(events.learner_switched(learner, self.site.pk, disabled=False))
            # A switched-off learner has no password (the platform's "User Disabled"): one sent with a change
            # leaving them off is not kept, so that switching off never fails on it.
            if change.password is not None and learner.has_usable_password():
                self.adapter.set_learner_password(learner, change.password)
                changed.append("password")
            if changed:
                owed.append(events.learner_updated(learner, self.site.pk, changed))
            outbox.owe(owed)  # the old address's email and the webhooks' events, in one statement
            [shown] = self.learners.describe([learner])
            if in_transaction is not None:
                in_transaction(shown)
            RegistrationClaim.objects.filter(key__in=claims).delete()
        return shown
