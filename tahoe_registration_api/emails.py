"""
The learner's email, sent by the LMS's own Celery workers.

``send_registration_email`` sends a new learner the contract's email (the activation email, or
the "set your password" email) after the registration committed. The API call only queues it,
so no email is rendered or sent while the caller waits. A failed send is retried with a growing
delay, like the platform's activation email; after the last attempt the failure is logged with
the learner's id, and the account stays as it is.

A job's learner is owed its email by the job's row (``RegistrationJobRow.email_due``). The task
claims the row's email before it sends it, so a message queued twice (a job resumed after its
worker died queues the emails still owed) sends one email.
"""

import logging

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sites.models import Site

from tahoe_registration_api.adapter import platform_adapter
from tahoe_registration_api.models import RegistrationJobRow

log = logging.getLogger(__name__)

ACTIVATION = "activation"
PASSWORD_RESET = "password-reset"
EMAILS = (ACTIVATION, PASSWORD_RESET)


def queue_registration_email(user_id, site_id, email, secure, job_row=None):  # pylint: disable=too-many-arguments
    """
    Queue ``send_registration_email`` on the queue the settings name (else the LMS's own routing).

    ``job_row``: the id of the job's row that owes the email (the task then sends it only once).
    """
    options = {}
    if settings.TAHOE_REGISTRATION_API_EMAIL_QUEUE:
        options["queue"] = settings.TAHOE_REGISTRATION_API_EMAIL_QUEUE
    if job_row is not None:
        options["kwargs"] = {"job_row": job_row}
    send_registration_email.apply_async(args=(user_id, site_id, email, secure), **options)


def claim_job_email(job_row, email):
    """Take the ``email`` owed by job row ``job_row``; return False when another message of it took it first."""
    return bool(RegistrationJobRow.objects.filter(pk=job_row, email_due=email).update(email_due=""))


@shared_task(bind=True, name="tahoe_registration_api.send_registration_email", ignore_result=True)
def send_registration_email(self, user_id, site_id, email, secure, job_row=None):  # pylint: disable=too-many-arguments
    """
    Send learner ``user_id`` of site ``site_id`` the ``email`` (``activation`` or ``password-reset``).

    ``secure`` tells whether the registration came over HTTPS: the reset link uses the same scheme.
    ``job_row`` names the job's row that owes the email: its first attempt claims it, or drops a copy.
    """
    if email not in EMAILS:
        raise ValueError(f"Unknown registration email: {email!r}.")
    if job_row is not None and not self.request.retries and not claim_job_email(job_row, email):
        log.info("The %s email of learner %s (job row %s) was already taken by another message; this copy is dropped.",
                 email, user_id, job_row)
        return
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
