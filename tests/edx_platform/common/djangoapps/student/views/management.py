"""Stand-in for ``common/djangoapps/student/views/management.py``: the queued activation email."""

import json
import logging
import urllib.parse

from common.djangoapps.student.models import Registration
from django.conf import settings
from edx_ace.recipient import Recipient
from openedx.core.djangoapps.site_configuration import helpers as configuration_helpers

log = logging.getLogger(__name__)

__all__ = ["compose_activation_email", "compose_and_send_activation_email"]

ACTIVATION_EMAIL_SUBJECT = "Action Required: Activate your account"


def _get_activation_confirmation_link(activation_key, redirect_url=None):
    """Build ``<LMS_ROOT_URL>/activate/<key>``, with ``?next=`` when a redirect is wanted."""
    root_url = configuration_helpers.get_value("LMS_ROOT_URL", settings.LMS_ROOT_URL)
    link = f"{root_url}/activate/{activation_key}"
    if not redirect_url:
        return link
    return f"{link}?{urllib.parse.urlencode({'next': redirect_url})}"


def compose_activation_email(user, user_registration=None, route_enabled=False, profile_name="", redirect_url=None,
                             registration_flow=False):
    """Compose the activation message (an ACE message serialized by ``str`` in the platform: JSON here)."""
    if user_registration is None:
        user_registration = Registration.objects.get(user=user)
    dest_addr = settings.FEATURES["REROUTE_ACTIVATION_EMAIL"] if route_enabled else user.email
    link = _get_activation_confirmation_link(user_registration.activation_key, redirect_url)
    body = (
        f"Hello {profile_name},\n\n"
        + ("Thanks for registering. " if registration_flow else "")
        + f"Activate your account: {link}\n"
    )
    return ActivationMessage(user.id, dest_addr, ACTIVATION_EMAIL_SUBJECT, body)


class ActivationMessage:
    """The composed message (an ACE message in the platform): recipient, subject, body and options."""

    name = "accountactivation"

    def __init__(self, lms_user_id, email_address, subject, body):
        """Keep the message's parts."""
        self.recipient = Recipient(lms_user_id, email_address)
        self.subject = subject
        self.body = body
        self.options = {}

    def __str__(self):
        """Serialize the message for the platform's task (JSON here)."""
        return json.dumps({"lms_user_id": self.recipient.lms_user_id, "email_address": self.recipient.email_address,
                           "subject": self.subject, "body": self.body})


def compose_and_send_activation_email(user, profile, user_registration=None, redirect_url=None,
                                      registration_flow=False):
    """Compose the activation message and queue it without a site; a failure to queue is logged, never raised."""
    from openedx.core.djangoapps.user_authn.tasks import (
        send_activation_email,  # pylint: disable=import-outside-toplevel
    )

    route_enabled = settings.FEATURES.get("REROUTE_ACTIVATION_EMAIL")
    msg = compose_activation_email(user, user_registration, route_enabled, profile.name, redirect_url,
                                   registration_flow)
    from_address = configuration_helpers.get_value("ACTIVATION_EMAIL_FROM_ADDRESS") or (
        configuration_helpers.get_value("email_from_address", settings.DEFAULT_FROM_EMAIL)
    )
    try:
        send_activation_email.delay(str(msg), from_address)
    except Exception:  # pylint: disable=broad-except
        log.exception("Activation email task failed for user %s.", user.id)
