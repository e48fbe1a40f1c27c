"""
Stand-in for ``edx_ace.ace``: ``send`` delivers a message over Django's mail.

As ACE's email channel does, an SMTP error is logged and swallowed, and only a delivered
message sends ``ACE_MESSAGE_SENT`` (with the recipient's ``user_id``); other errors propagate.
"""

import logging
from smtplib import SMTPException

from django.core import mail
from edx_ace.signals import ACE_MESSAGE_SENT

log = logging.getLogger(__name__)


def send(msg):
    """Send ``msg`` (with ``name``, ``subject``, ``body``, ``options`` and ``recipient``) to its recipient."""
    try:
        mail.send_mail(msg.subject, msg.body, msg.options.get("from_address"), [msg.recipient.email_address])
    except SMTPException:
        log.exception("An SMTP error occurred (and logged) from Django send_email()")
        return
    ACE_MESSAGE_SENT.send(sender=None, message={
        "name": msg.name,
        "recipient": {"email": msg.recipient.email_address, "user_id": msg.recipient.lms_user_id},
    })
