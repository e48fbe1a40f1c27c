"""
Stand-in for ``openedx/core/djangoapps/user_authn/tasks.py``: the activation email task.

As in the platform, the task renders under the site it is given (the default site without one)
inside ``emulate_http_request``, which rewrites the *current* request's ``site`` and ``user``:
where Celery runs tasks eagerly, that request is the one being answered.
"""

import json

import crum
from django.contrib.auth.models import User  # pylint: disable=imported-auth-user
from django.contrib.sites.models import Site
from django.core import mail


class _EagerTask:
    """``.delay`` runs the function at once, as Celery does with ``CELERY_ALWAYS_EAGER``."""

    def __init__(self, func):
        """Wrap the task's function."""
        self.func = func

    def delay(self, *args, **kwargs):
        """Run the task now."""
        return self.func(*args, **kwargs)


def _send_activation_email(msg_string, from_address=None, site_id=None):
    """Send the composed activation message under ``site_id``'s site, emulating a request for it."""
    msg = json.loads(msg_string)
    site = Site.objects.get(id=site_id) if site_id else Site.objects.get_current()
    user = User.objects.get(id=msg["lms_user_id"])
    request = crum.get_current_request()
    if request is not None:  # emulate_http_request(site=site, user=user)
        request.site = site
        request.user = user
    mail.send_mail(msg["subject"], msg["body"], from_address, [msg["email_address"]])
    return site.domain


send_activation_email = _EagerTask(_send_activation_email)
