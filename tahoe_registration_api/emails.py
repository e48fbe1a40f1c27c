"""
The learner's registration emails: which one a registration owes, and how one is sent.

A registration never sends an email itself: it owes one to the outbox (``outbox.owe_email``),
in its own transaction, and the outbox's task sends it with ``send_registration_email`` on
the LMS's Celery workers once the account has committed.
"""

import logging

from django.contrib.auth import get_user_model
from django.contrib.sites.models import Site

from tahoe_registration_api.adapter import platform_adapter

log = logging.getLogger(__name__)

ACTIVATION = "activation"
PASSWORD_RESET = "password-reset"
EMAILS = (ACTIVATION, PASSWORD_RESET)


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
