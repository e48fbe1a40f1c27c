"""Stand-in for ``common/djangoapps/student/models``: profile, activation record, user attributes, duplicate checks."""

import hashlib
import logging
import uuid

from django.conf import settings
from django.contrib.auth.models import User  # pylint: disable=imported-auth-user
from django.db import models
from django.dispatch import Signal
from django.utils import timezone

log = logging.getLogger(__name__)

# Sent by ``Registration.activate`` (``send_robust``, sender the Registration class, ``user=``).
USER_ACCOUNT_ACTIVATED = Signal()

# The platform's defaults (lms/envs/common.py) for retired usernames and emails.
DEFAULT_RETIRED_USERNAME_FMT = "retired__user_{}"
DEFAULT_RETIRED_EMAIL_FMT = "retired__user_{}@retired.invalid"
DEFAULT_RETIRED_USER_SALTS = ["abc", "123"]


class UserProfile(models.Model):
    """The learner's profile: the full name and the fields ``do_create_account`` fills."""

    user = models.OneToOneField(User, unique=True, db_index=True, related_name="profile", on_delete=models.CASCADE)
    name = models.CharField(blank=True, max_length=255, db_index=True)
    meta = models.TextField(blank=True)  # JSON of the extended profile fields
    level_of_education = models.CharField(blank=True, null=True, max_length=6, db_index=True)
    gender = models.CharField(blank=True, null=True, max_length=6, db_index=True)
    mailing_address = models.TextField(blank=True, null=True)
    city = models.TextField(blank=True, null=True)
    country = models.CharField(blank=True, null=True, max_length=2)
    goals = models.TextField(blank=True, null=True)
    year_of_birth = models.IntegerField(blank=True, null=True, db_index=True)

    class Meta:
        """Table as in the platform."""

        app_label = "student"
        db_table = "auth_userprofile"


class Registration(models.Model):
    """The activation record of an account: created inactive, activated by the emailed key."""

    user = models.OneToOneField(User, on_delete=models.CASCADE)
    activation_key = models.CharField("activation key", max_length=32, unique=True, db_index=True)
    activation_timestamp = models.DateTimeField(default=None, null=True, blank=True)

    class Meta:
        """Table as in the platform."""

        app_label = "student"
        db_table = "auth_registration"

    def register(self, user):
        """Give ``user`` a fresh activation key and save the record."""
        self.user = user
        self.activation_key = uuid.uuid4().hex
        self.save()

    def activate(self):
        """Activate the user, stamp the time and announce ``USER_ACCOUNT_ACTIVATED``."""
        self.user.is_active = True
        self.user.save(update_fields=["is_active"])
        self.activation_timestamp = timezone.now()
        self.save()
        USER_ACCOUNT_ACTIVATED.send_robust(self.__class__, user=self.user)
        log.info("User %s (%s) account is successfully activated.", self.user.username, self.user.email)


class UserAttribute(models.Model):
    """A named value about a user (e.g. ``created_on_site``)."""

    user = models.ForeignKey(User, related_name="attributes", on_delete=models.CASCADE)
    name = models.CharField(max_length=255, db_index=True)
    value = models.CharField(max_length=255)

    class Meta:
        """Table as in the platform."""

        app_label = "student"
        unique_together = (("user", "name"),)

    @classmethod
    def set_user_attribute(cls, user, name, value):
        """Create or update the attribute ``name`` of ``user``."""
        cls.objects.update_or_create(user=user, name=name, defaults={"value": value})

    @classmethod
    def get_user_attribute(cls, user, name):
        """Return the attribute's value, or None."""
        attribute = cls.objects.filter(user=user, name=name).first()
        return attribute.value if attribute else None


def _all_retired_values(value, fmt):
    """As ``user_util.get_all_retired_*``: sha1(salt + lower-cased value) for every historical salt."""
    salts = getattr(settings, "RETIRED_USER_SALTS", DEFAULT_RETIRED_USER_SALTS)
    return [fmt.format(hashlib.sha1(salt.encode() + value.lower().encode("utf-8")).hexdigest()) for salt in salts]


def get_retired_username(username):
    """Return the name a retired account gets (current salt), as retirement renames it."""
    return _all_retired_values(username, getattr(settings, "RETIRED_USERNAME_FMT", DEFAULT_RETIRED_USERNAME_FMT))[-1]


def get_retired_email(email):
    """Return the email a retired account gets (current salt), as retirement rewrites it."""
    return _all_retired_values(email, getattr(settings, "RETIRED_EMAIL_FMT", DEFAULT_RETIRED_EMAIL_FMT))[-1]


def is_username_retired(username):
    """Whether an account once named ``username`` has been retired."""
    fmt = getattr(settings, "RETIRED_USERNAME_FMT", DEFAULT_RETIRED_USERNAME_FMT)
    return User.objects.filter(username__in=_all_retired_values(username, fmt)).exists()


def is_email_retired(email):
    """Whether an account once using ``email`` has been retired."""
    fmt = getattr(settings, "RETIRED_EMAIL_FMT", DEFAULT_RETIRED_EMAIL_FMT)
    return User.objects.filter(email__in=_all_retired_values(email, fmt)).exists()


def username_exists_or_retired(username):
    """Check a username for existence (exact match, as the platform does) or retirement."""
    return User.objects.filter(username=username).exists() or is_username_retired(username)


def email_exists_or_retired(email):
    """Check an email for existence (exact match, as the platform does) or retirement."""
    return User.objects.filter(email=email).exists() or is_email_retired(email)


def on_user_updated(sender, instance, **kwargs):  # pylint: disable=unused-argument
    """
    As the platform's ``pre_save`` receiver of the user (``student/signals/receivers.py``).

    At creation, a retired username or email is refused with ``AccountValidationError``.
    """
    from common.djangoapps.student.helpers import AccountValidationError  # pylint: disable=import-outside-toplevel

    if instance.id or kwargs.get("raw"):
        return
    if is_username_retired(instance.username):
        raise AccountValidationError(f"An account with the Public Username '{instance.username}' already exists.",
                                     field="username")
    if is_email_retired(instance.email):
        raise AccountValidationError(f"An account with the Email '{instance.email}' already exists.", field="email")
