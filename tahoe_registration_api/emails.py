"""
The learner's email, sent by the LMS's own Celery workers.

``send_registration_email`` sends a new learner the contract's email (the activation email, or
the "set your password" email) after the registration committed. The API call only queues it,
so no email is rendered or sent while the caller waits. A failed send is retried with a growing
delay, like the platform's activation email; after the last attempt the failure is logged with
the learner's id, and the account stays as it is.
"""

import logging

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sites.models import Site

from tahoe_registration_api.adapter import platform_adapter

log = logging.getLogger(__name__)

ACTIVATION = "activation"
PASSWORD_RESET = "password-reset"
EMAILS = (ACTIVATION, PASSWORD_RESET)


def queue_registration_email(user_id, site_id, email, secure):
    """Queue ``send_registration_email`` on the queue the settings name (else the LMS's own routing)."""
    options = {}
    if settings.TAHOE_REGISTRATION_API_EMAIL_QUEUE:
        options["queue"] = settings.TAHOE_REGISTRATION_API_EMAIL_QUEUE
    send_registration_email.apply_async(args=(user_id, site_id, email, secure), **options)


@shared_task(bind=True, name="tahoe_registration_api.send_registration_email", ignore_result=True)
def send_registration_email(self, user_id, site_id, email, secure):
    """
    Send learner ``user_id`` of site ``site_id`` the ``email`` (``activation`` or ``password-reset``).

    ``secure`` tells whether the registration came over HTTPS: the reset link uses the same scheme.
    """
    if email not in EMAILS:
        raise ValueError(f"Unknown registration email: {email!r}.")
    user = get_user_model().objects.filter(pk=user_id).first()
    site = Site.objects.filter(pk=site_id).first()
    if user is None or site is None:
        log.error("Learner %s was registered, but the %s email was not sent: the learner or site %s is gone.",
                  user_id, email, site_id)
        return
    adapter = platform_adapter()
    try:
        if email == ACTIVATION:
            adapter.send_activation_email(user, site)
        else:
            adapter.send_password_reset_email(user, site, secure)
    except Exception as exc:
        retries = self.request.retries
        limit = max(0, int(settings.TAHOE_REGISTRATION_API_EMAIL_RETRIES))
        if retries >= limit:
            log.error("Learner %s was registered, but the %s email failed %s times; the last error: %s.",
                      user_id, email, retries + 1, type(exc).__name__)
            return
        delay = settings.TAHOE_REGISTRATION_API_EMAIL_RETRY_DELAY * 2 ** retries
        log.warning("The %s email of learner %s failed (%s); retry %s of %s in %s s.",
                    email, user_id, type(exc).__name__, retries + 1, limit, delay)
        raise self.retry(countdown=delay, max_retries=limit) from exc
