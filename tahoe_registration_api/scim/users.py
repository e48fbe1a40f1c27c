"""
A site's learners as SCIM ``User`` resources: listed, read, created, replaced, patched and deleted.

One way to do each thing: a learner is created through the registration pipeline (the same checks,
transaction, emails through the outbox, membership of the site), and changed, switched off and on
through the learner API's ``LearnerUpdate`` (the platform's "User Disabled", an administrator's
email change telling the old address). The provider's own record of the learner (``ScimIdentity``)
is written in the same transaction as what it describes.

* Created ``active: false``: registered, then switched off in the same transaction, and sent no email
  (the platform would drop it: a switched-off learner gets none).
* Created with a password: an active account, no activation email (the provider vouches for the
  address, and tells the learner itself). Without one: the "set your password" email, as any
  passwordless registration.
* The learner's Open edX username is made from ``userName`` (its part before an ``@``, in the
  platform's username alphabet and length), with a random suffix when it is taken.
* A password in a replace or a patch is the learner's new password (the platform's password policy),
  set as the platform's password reset sets one; not kept for a learner the change leaves switched
  off (they have none: switching off never fails on a password).
* ``DELETE`` switches the learner off and hides them from SCIM (a 404 from then on); their records,
  enrollments and grades stay, and their ``userName`` may be given to someone else.
"""

import dataclasses
import re
import secrets
import unicodedata

from django.db import IntegrityError, transaction
from django.db.models import BooleanField, Case, CharField, F, Func, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from tahoe_registration_api import outbox
from tahoe_registration_api.adapter import platform_adapter
from tahoe_registration_api.data import LearnerChange, RegistrationRequest
from tahoe_registration_api.exceptions import DuplicateAccount, LearnerNotFound
from tahoe_registration_api.learner_input import parse_learner_change, username_max_length
from tahoe_registration_api.learners import LearnerUpdate, members
from tahoe_registration_api.lookups import user_id_fits
from tahoe_registration_api.models import ScimIdentity
from tahoe_registration_api.pipeline import Pipeline
from tahoe_registration_api.scim import schemas
from tahoe_registration_api.scim.errors import not_found
from tahoe_registration_api.scim.filters import filter_query
from tahoe_registration_api.scim.patch import apply_patch
from tahoe_registration_api.scim.resources import read_user, represent
from tahoe_registration_api.webhooks import events

DISABLED_AT_CREATION = "Created inactive through SCIM by {caller}"
USERNAME_ATTEMPTS = 5  # a taken username is retried with a random suffix this many times
USER_ID = re.compile(r"[0-9]{1,19}")  # ASCII digits only: "١" (an Arabic-Indic one) is no id here


class CaseExact(Func):  # pylint: disable=abstract-method
    """Text compared byte for byte, case included, on any database (MariaDB's collations ignore case)."""

    template = "%(expressions)s"
    output_field = CharField()

    def as_mysql(self, compiler, connection, **extra_context):
        """Compare as binary on MySQL/MariaDB, whatever the column's collation or character set."""
        return self.as_sql(compiler, connection, template="BINARY %(expressions)s", **extra_context)


class UserNameTaken(DuplicateAccount):
    """The provider's ``userName`` belongs to another learner of the site (a 409 ``uniqueness``)."""

    def __init__(self):
        """Name ``userName``."""
        super().__init__(set(), developer_message="userName: Another User of this site has it.")
        self.fields = ("userName",)
        self.field_errors = {"userName": "Another User of this site has this userName."}


def username_candidates(user_name):
    """Yield Open edX usernames for a ``userName``: its own, then with a random suffix."""
    longest = username_max_length()
    local = user_name.split("@", 1)[0] if "@" in user_name[1:] else user_name
    ascii_text = unicodedata.normalize("NFKD", local).encode("ascii", "ignore").decode("ascii")
    base = re.sub(r"[^A-Za-z0-9_-]+", "_", ascii_text).strip("_-")[:longest]
    if len(base) < 2:
        base = "learner"
    yield base
    for _ in range(USERNAME_ATTEMPTS):
        yield f"{base[:longest - 7]}_{secrets.token_hex(3)}"


class ScimUsers:
    """The SCIM ``Users`` of one site, for one caller (an admin of the site)."""

    def __init__(self, *, site, organization, caller, request, base_url):
        """Name the site, the caller, the request (for the emails' links) and the service's root URL."""
        self.site = site
        self.organization = organization
        self.caller = caller
        self.request = request
        self.base_url = base_url
        self.adapter = platform_adapter()

    # Reading

    def learners(self):
        """Return the site's learners SCIM shows (not those it deleted), with the attributes filters compare."""
        identities = ScimIdentity.objects.filter(organization_id=self.organization.pk, user_id=OuterRef("pk"))
        deleted = ScimIdentity.objects.filter(organization_id=self.organization.pk, deprovisioned__isnull=False)
        return members(self.organization).exclude(pk__in=deleted.values("user_id")).annotate(
            scim_user_name=Coalesce(Subquery(identities.values("user_name")[:1]), F("username")),
            scim_external_id=CaseExact(Subquery(identities.values("external_id")[:1])),  # caseExact
            scim_active=Case(When(password__startswith="!", then=Value(False)), default=Value(True),
                             output_field=BooleanField()),
        )

    def page(self, filter_text=None, start_index=1, count=schemas.MAX_RESULTS):
        """Return ``(total, resources)``: the learners of ``filter_text``, oldest first, from ``start_index`` (1 up)."""
        users = self.learners()
        if filter_text is not None:
            users = users.filter(filter_query(filter_text))
        users = users.order_by("pk")
        total = users.count()
        chosen = list(users[start_index - 1:start_index - 1 + count]) if count > 0 and start_index <= total else []
        return total, self.represent(chosen)

    def get(self, user_id):
        """Return learner ``user_id`` as a ``User``; a 404 for anyone else."""
        return self.represent([self._learner(user_id)])[0]

    def represent(self, users):
        """Return the users as ``User`` resources, in the order given."""
        ids = [user.pk for user in users]
        profiles = self.adapter.learner_profiles(ids)
        identities = {identity.user_id: identity for identity in ScimIdentity.objects.filter(
            organization_id=self.organization.pk, user_id__in=ids)}
        return [represent(user, profiles.get(user.pk, {}), identities.get(user.pk), self.base_url) for user in users]

    def _learner(self, user_id):
        """Return learner ``user_id`` of the site as SCIM shows them, or raise a 404."""
        number = int(user_id) if USER_ID.fullmatch(str(user_id)) else None
        user = self.learners().filter(pk=number).first() if number is not None and user_id_fits(number) else None
        if user is None:
            raise not_found(user_id)
        return user

    # Writing

    def create(self, body):
        """Register the ``User`` of a POST body through the registration pipeline; return it."""
        scim_user = read_user(body)
        if scim_user.active is None:  # created switched on, and shown so
            scim_user = dataclasses.replace(scim_user, active=True)
        self._check_user_name(scim_user.user_name)
        pipeline = Pipeline(site=self.site, organization=self.organization, request=self.request,
                            send_emails=scim_user.enabled, batch_duplicates=False)
        outcome = None
        for username in username_candidates(scim_user.user_name):
            registration = RegistrationRequest(username=username, email=scim_user.email, name=scim_user.full_name,
                                               password=scim_user.password, send_activation_email=False)
            outcome = pipeline.one(registration, in_transaction=lambda user: self._provisioned(user, scim_user))
            if not (isinstance(outcome.error, DuplicateAccount) and outcome.error.fields == ("username",)):
                break
        if outcome.error is not None:
            raise outcome.error
        return self.get(outcome.user_id)

    def replace(self, user_id, body):
        """Make learner ``user_id`` the ``User`` of a PUT body; return it."""
        return self._replace(self._learner(user_id), read_user(body))

    def patch(self, user_id, body):
        """Apply a ``PatchOp`` to learner ``user_id``; return the ``User`` it leaves."""
        learner = self._learner(user_id)
        patched = apply_patch(self.represent([learner])[0], body)
        return self._replace(learner, read_user(patched))

    def delete(self, user_id):
        """Switch learner ``user_id`` off and hide them from SCIM (their records stay)."""
        learner = self._learner(user_id)
        self._update(learner, LearnerChange(disabled=True), lambda: self._deprovision(learner))

    def _replace(self, learner, scim_user):
        """Change the learner to ``scim_user``: their name, email and ``active`` through ``LearnerUpdate``."""
        self._check_user_name(scim_user.user_name, learner)
        profile = self.adapter.learner_profiles([learner.pk]).get(learner.pk, {})
        asked = {}
        if scim_user.full_name != (profile.get("name") or ""):
            asked["name"] = scim_user.full_name
        if scim_user.email != learner.email:
            asked["email"] = scim_user.email
        if scim_user.enabled != learner.has_usable_password():  # a usable password: switched on
            asked["disabled"] = not scim_user.enabled
        change = dataclasses.replace(parse_learner_change(asked), password=scim_user.password)
        self._update(learner, change, lambda: self._keep(learner, scim_user))
        return self.get(learner.pk)

    def _update(self, learner, change, in_transaction):
        """Apply a learner's change through ``LearnerUpdate``, running ``in_transaction`` inside its transaction."""
        update = LearnerUpdate(site=self.site, organization=self.organization, caller=self.caller,
                               secure=self.request.is_secure())
        try:
            update.run(learner.pk, change, in_transaction=lambda shown: in_transaction())
        except LearnerNotFound as exc:  # removed from the site meanwhile
            raise not_found(learner.pk) from exc

    def _check_user_name(self, user_name, learner=None):
        """Raise a 409 when another learner of the site has ``user_name`` (case aside)."""
        taken = ScimIdentity.objects.filter(organization_id=self.organization.pk, user_name_key=user_name.lower())
        unnamed = members(self.organization).filter(username__iexact=user_name).exclude(
            pk__in=ScimIdentity.objects.filter(organization_id=self.organization.pk).values("user_id"))
        if learner is not None:
            taken, unnamed = taken.exclude(user_id=learner.pk), unnamed.exclude(pk=learner.pk)
        if taken.exists() or unnamed.exists():
            raise UserNameTaken()

    def _provisioned(self, user, scim_user):
        """In a new learner's transaction: keep the provider's record; switch them off when created inactive."""
        self._keep(user, scim_user)
        if not scim_user.enabled:
            caller = getattr(self.caller, "username", "") or ""
            self.adapter.disable_learner(user, self.caller, DISABLED_AT_CREATION.format(caller=caller))
            outbox.owe([events.learner_switched(user, self.site.pk, disabled=True)])

    def _keep(self, user, scim_user):
        """Write the provider's record of the learner; a 409 when another learner took the ``userName`` meanwhile."""
        try:
            with transaction.atomic():
                ScimIdentity.objects.update_or_create(
                    organization_id=self.organization.pk, user_id=user.pk,
                    defaults={"user_name": scim_user.user_name, "user_name_key": scim_user.user_name.lower(),
                              "external_id": scim_user.external_id, "attributes": scim_user.kept(),
                              "deprovisioned": None},
                )
        except IntegrityError as exc:
            raise UserNameTaken() from exc

    def _deprovision(self, learner):
        """Mark the learner deleted by the provider; their ``userName`` is free again."""
        now = timezone.now()
        records = ScimIdentity.objects.filter(organization_id=self.organization.pk, user_id=learner.pk)
        if not records.update(user_name_key=None, deprovisioned=now, modified=now):
            ScimIdentity.objects.create(organization_id=self.organization.pk, user_id=learner.pk,
                                        user_name=learner.username, user_name_key=None, deprovisioned=now)
