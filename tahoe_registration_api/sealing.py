"""
Seal what the plugin must read back but never keep in clear: Fernet, keyed by SECRET_KEY, one key per purpose.

A job row's fields (its password among them) while it waits; a webhook endpoint's signing secret.
"""

import base64
import json

from cryptography.fernet import Fernet
from django.utils.crypto import salted_hmac

_SALT = "tahoe_registration_api.sealing.job-row"
_SECRET_SALT = "tahoe_registration_api.sealing.webhook-secret"


def _fernet(salt=_SALT):
    """Return the Fernet of this LMS: a key derived from its SECRET_KEY, for this purpose only."""
    return Fernet(base64.urlsafe_b64encode(salted_hmac(salt, "key", algorithm="sha256").digest()))


def seal(fields):
    """Return ``fields`` (a JSON-able dict) encrypted and authenticated, as text."""
    return _fernet().encrypt(json.dumps(fields).encode("utf-8")).decode("ascii")


def unseal(token):
    """Return the dict ``seal`` sealed; raises ``cryptography.fernet.InvalidToken`` under another SECRET_KEY."""
    return json.loads(_fernet().decrypt(token.encode("ascii")))


def seal_secret(secret):
    """Return a webhook secret (text) encrypted and authenticated, as text."""
    return _fernet(_SECRET_SALT).encrypt(secret.encode("utf-8")).decode("ascii")


def unseal_secret(token):
    """Return the secret ``seal_secret`` sealed; raise ``cryptography.fernet.InvalidToken`` under another key."""
    return _fernet(_SECRET_SALT).decrypt(token.encode("ascii")).decode("utf-8")
