"""Stand-in for ``common/djangoapps/student/views/management.py``: the queued activation email."""

import logging
import urllib.parse

from common.djangoapps.student.models import Registration
from django.conf import settings
from django.core import mail
from openedx.core.djangoapps.site_configuration import helpers as configuration_helpers

log = logging.getLogger(__name__)

__all__ = ["compose_and_send_activation_email"]

ACTIVATION_EMAIL_SUBJECT = "Action Required: Activate your account"


def _get_activation_confirmation_link(activation_key, redirect_url=None):
    """Build ``<LMS_ROOT_URL>/activate/<key>``, with ``?next=`` when a redirect is wanted."""
    root_url = configuration_helpers.get_value("LMS_ROOT_URL", settings.LMS_ROOT_URL)
    link = f"{root_url}/activate/{activation_key}"
    if not redirect_url:
        return link
    return f"{link}?{urllib.parse.urlencode({'next': redirect_url})}"


def _send_activation_email_task(subject, body, from_address, dest_addr):
    """Deliver the message, as the Celery task ``send_activation_email`` does (run eagerly here)."""
    mail.send_mail(subject, body, from_address, [dest_addr])


def compose_and_send_activation_email(user, profile, user_registration=None, redirect_url=None,
                                      registration_flow=False):
    """Compose the activation message and queue it; a failure to queue is logged, never raised."""
    if user_registration is None:
        user_registration = Registration.objects.get(user=user)
    reroute_to = getattr(settings, "FEATURES", {}).get("REROUTE_ACTIVATION_EMAIL")
    dest_addr = reroute_to or user.email
    link = _get_activation_confirmation_link(user_registration.activation_key, redirect_url)
    body = (
        f"Hello {profile.name},\n\n"
        + ("Thanks for registering. " if registration_flow else "")
        + f"Activate your account: {link}\n"
    )
    from_address = configuration_helpers.get_value("ACTIVATION_EMAIL_FROM_ADDRESS") or (
        configuration_helpers.get_value("email_from_address", settings.DEFAULT_FROM_EMAIL)
    )
    try:
        _send_activation_email_task(ACTIVATION_EMAIL_SUBJECT, body, from_address, dest_addr)
    except Exception:  # pylint: disable=broad-except
        log.exception("Activation email task failed for user %s.", user.id)
