"""
Standard Webhooks' symmetric signatures (https://www.standardwebhooks.com/, "Signature scheme").

A secret is ``whsec_`` followed by the standard base64 of 32 random bytes. A delivery is signed
with HMAC-SHA256 over ``{webhook-id}.{webhook-timestamp}.{body}``; ``webhook-signature`` holds
``v1,<base64 of the digest>`` for each secret that signs, space-separated (two during a rotation).
"""

import base64
import hashlib
import hmac
import os

PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret():
    """Return a new random secret in Standard Webhooks' form."""
    return PREFIX + base64.b64encode(os.urandom(SECRET_BYTES)).decode("ascii")


def _key(secret):
    """Return the bytes of a ``whsec_`` secret."""
    return base64.b64decode(secret[len(PREFIX):] if secret.startswith(PREFIX) else secret)


def signature(secrets, webhook_id, timestamp, body):
    """Return the ``webhook-signature`` header of ``body`` (bytes) sent as ``webhook_id`` at ``timestamp`` (seconds)."""
    signed = f"{webhook_id}.{int(timestamp)}.".encode("ascii") + body
    return " ".join(
        "v1," + base64.b64encode(hmac.new(_key(secret), signed, hashlib.sha256).digest()).decode("ascii")
        for secret in secrets
    )


def headers(secrets, webhook_id, timestamp, body):
    """Return the three Standard Webhooks headers of one attempt."""
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(timestamp)),
        "webhook-signature": signature(secrets, webhook_id, timestamp, body),
    }
