"""
The learner's emails: which one a registration owes, and how each is sent.

A registration or an enrollment never sends an email itself: it owes one to the outbox
(``outbox.owe_email``), in its own transaction, and the outbox's task sends it with
``send_email`` on the LMS's Celery workers once the change has committed. The registration
emails are the activation and the "set your password" ones; the enrollment emails are the
platform's own (``allowed_enroll``, ``enrolled_enroll``, ``allowed_unenroll``, ``enrolled_unenroll``); a
learner's changed email tells the old address (``email-changed``: the platform's ``EmailChangeConfirmation``).
"""

import logging

from django.contrib.auth import get_user_model
from django.contrib.sites.models import Site

from tahoe_registration_api.adapter import platform_adapter

log = logging.getLogger(__name__)

ACTIVATION = "activation"
PASSWORD_RESET = "password-reset"
EMAILS = (ACTIVATION, PASSWORD_RESET)
# The platform's enrollment emails (its bulk enroll's message types): sent to a learner or an address.
ENROLLMENT_EMAILS = ("allowed_enroll", "enrolled_enroll", "allowed_unenroll", "enrolled_unenroll")
# A learner's email changed through the API: the old address is told (its details: old and new addresses).
EMAIL_CHANGED = "email-changed"


def registration_email(registration):
    """Return the email the contract gives this registration: ``activation``, ``password-reset`` or None."""
    if registration.activation_email_wanted:
        return ACTIVATION
    if not registration.has_password:
        return PASSWORD_RESET
    return None


class Undeliverable(Exception):
    """The email cannot be sent at all (its learner or site is gone): trying again would not help."""


def send_registration_email(user_id, site_id, email, secure):
    """
    Send learner ``user_id`` of site ``site_id`` the ``email`` (``activation`` or ``password-reset``).

    ``secure`` tells whether the registration came over HTTPS: the reset link uses the same scheme.
    Raises ``Undeliverable`` when the learner or site is gone, and what the platform raises when
    the send fails (the outbox then tries again later).
    """
    if email not in EMAILS:
        raise Undeliverable(f"Unknown registration email: {email!r}.")
    user = get_user_model().objects.filter(pk=user_id).first()
    site = Site.objects.filter(pk=site_id).first()
    if user is None or site is None:
        raise Undeliverable(f"The learner {user_id} or site {site_id} is gone.")
    adapter = platform_adapter()
    if email == ACTIVATION:
        adapter.send_activation_email(user, site)
    else:
        adapter.send_password_reset_email(user, site, secure)


def send_email(user_id, site_id, email, details):
    """
    Send the ``email`` an outbox message owes: a registration email, or an enrollment email with its ``details``.

    Raises ``Undeliverable`` for an unknown email, a learner, site or course that is gone.
    """
    if email == EMAIL_CHANGED:
        send_email_change_notice(user_id, site_id, details)
        return
    if email not in ENROLLMENT_EMAILS:
        send_registration_email(user_id, site_id, email, details.get("secure", True))
        return
    site = Site.objects.filter(pk=site_id).first()
    user = get_user_model().objects.filter(pk=user_id).first() if user_id is not None else None
    if site is None or (user_id is not None and user is None) or not details.get("course_id"):
        raise Undeliverable(f"The site {site_id}, learner {user_id} or course of the email is gone.")
    adapter = platform_adapter()
    if not adapter.existing_course_keys([details["course_id"]]):
        raise Undeliverable(f"The course {details['course_id']} is gone.")
    address = user.email if user is not None else details.get("address")
    adapter.send_enrollment_email(site, details["course_id"], email, address, user=user,
                                  auto_enroll=bool(details.get("auto_enroll")), secure=details.get("secure", True))


def send_email_change_notice(user_id, site_id, details):
    """Tell a learner's old address (``details["old_email"]``) that their email is now ``details["new_email"]``."""
    user = get_user_model().objects.filter(pk=user_id).first()
    site = Site.objects.filter(pk=site_id).first()
    if user is None or site is None or not details.get("old_email"):
        raise Undeliverable(f"The learner {user_id}, site {site_id} or old address of the email is gone.")
    platform_adapter().send_email_change_notice(user, site, details["old_email"], details.get("new_email", user.email),
                                                details.get("secure", True))
