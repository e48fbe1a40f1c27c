"""Seal a job row's fields (its password among them) while it waits in the database: Fernet, keyed by SECRET_KEY."""

import base64
import json

from cryptography.fernet import Fernet
from django.utils.crypto import salted_hmac

_SALT = "tahoe_registration_api.sealing.job-row"


def _fernet():
    """Return the Fernet of this LMS: a key derived from its SECRET_KEY, for this purpose only."""
    return Fernet(base64.urlsafe_b64encode(salted_hmac(_SALT, "key", algorithm="sha256").digest()))


def seal(fields):
    """Return ``fields`` (a JSON-able dict) encrypted and authenticated, as text."""
    return _fernet().encrypt(json.dumps(fields).encode("utf-8")).decode("ascii")


def unseal(token):
    """Return the dict ``seal`` sealed; raises ``cryptography.fernet.InvalidToken`` under another SECRET_KEY."""
    return json.loads(_fernet().decrypt(token.encode("ascii")))
