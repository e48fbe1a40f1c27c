"""Stand-in for ``common/djangoapps/student/helpers.py``: ``do_create_account`` and its companions."""

import json
import logging

from common.djangoapps.student.models import (
    Registration,
    UserAttribute,
    UserProfile,
    email_exists_or_retired,
    username_exists_or_retired,
)
from common.djangoapps.util.password_policy_validators import normalize_password
from django.conf import settings
from django.contrib.auth.models import User  # pylint: disable=imported-auth-user
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from openedx.core.djangoapps.site_configuration import helpers as configuration_helpers

log = logging.getLogger(__name__)

USERNAME_EXISTS_MSG_FMT = "An account with the Public Username '{username}' already exists."


class AccountValidationError(Exception):
    """A duplicate username or email found while saving the account."""

    def __init__(self, message, field, error_code=None):
        """Keep the offending field and the error code (``duplicate-username`` / ``duplicate-email``)."""
        super().__init__(message)
        self.field = field
        self.error_code = error_code


def _feature(name, default):
    """Read a flag as a top-level setting (Ulmo's flattened FEATURES), then from ``FEATURES``."""
    if hasattr(settings, name):
        return getattr(settings, name)
    return getattr(settings, "FEATURES", {}).get(name, default)


def create_or_set_user_attribute_created_on_site(user, site):
    """Record the site the account was created on, except for the main site (``SITE_ID``)."""
    if site and site.id != settings.SITE_ID:
        UserAttribute.set_user_attribute(user, "created_on_site", site.domain)


def do_create_account(form, custom_form=None):
    """
    Create the User (inactive, password set), its Registration and UserProfile from a bound form.

    Returns ``(user, profile, registration)``. Refuses with ``PermissionDenied`` when public
    account creation is switched off for the site or the LMS.
    """
    if not configuration_helpers.get_value(
        "ALLOW_PUBLIC_ACCOUNT_CREATION", _feature("ALLOW_PUBLIC_ACCOUNT_CREATION", True)
    ):
        raise PermissionDenied()

    errors = {}
    errors.update(form.errors)
    if custom_form:
        errors.update(custom_form.errors)
    if errors:
        raise ValidationError(errors)

    proposed_username = form.cleaned_data["username"]
    user = User(username=proposed_username, email=form.cleaned_data["email"], is_active=False)
    user.set_password(normalize_password(form.cleaned_data["password"]))
    registration = Registration()

    try:
        with transaction.atomic():
            user.save()
            if custom_form:
                custom_model = custom_form.save(commit=False)
                custom_model.user = user
                custom_model.save()
    except IntegrityError:
        if username_exists_or_retired(user.username):
            raise AccountValidationError(  # pylint: disable=raise-missing-from
                USERNAME_EXISTS_MSG_FMT.format(username=proposed_username),
                field="username",
                error_code="duplicate-username",
            )
        if email_exists_or_retired(user.email):
            raise AccountValidationError(  # pylint: disable=raise-missing-from
                f"An account with the Email '{user.email}' already exists.",
                field="email",
                error_code="duplicate-email",
            )
        raise

    registration.register(user)

    profile_fields = [
        "name", "level_of_education", "gender", "mailing_address", "city", "country", "goals", "year_of_birth",
    ]
    profile = UserProfile(user=user, **{key: form.cleaned_data.get(key) for key in profile_fields})
    extended_profile = form.cleaned_extended_profile
    if extended_profile:
        profile.meta = json.dumps(extended_profile)
    try:
        profile.save()
    except Exception:
        log.exception("UserProfile creation failed for user %s.", user.id)
        raise

    return user, profile, registration
