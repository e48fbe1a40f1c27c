"""Stand-in for ``common/djangoapps/util/password_policy_validators.py``: NFKC, then Django's validators."""

import unicodedata

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError


def normalize_password(password):
    """Normalise a password to NFKC, as the platform does before hashing or validating."""
    return unicodedata.normalize("NFKC", password)


def validate_password(password, user=None, password_validators=None):
    """Normalise, then run the configured ``AUTH_PASSWORD_VALIDATORS``; raise ``ValidationError``."""
    if not isinstance(password, str):
        try:
            password = str(password, encoding="utf8")
        except UnicodeDecodeError as exc:
            raise ValidationError("Invalid password.") from exc
    password_validation.validate_password(normalize_password(password), user, password_validators)
