"""Serializers of the v1 registration endpoint: they validate the request, and shape the response."""

import re
import unicodedata

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator
from rest_framework import serializers

from tahoe_registration_api.data import RegistrationRequest
from tahoe_registration_api.features import feature

# Lengths of the platform's form fields and columns (openedx.core.djangoapps.user_api.accounts).
EMAIL_MAX_LENGTH = 254
NAME_MAX_LENGTH = 255
PASSWORD_MAX_LENGTH = 5000


# As the platform's validate_name: no HTML brackets, no URLs.
NAME_HTML = re.compile(r"[<>]")
NAME_URL = re.compile(r"://")
ASCII_USERNAME = re.compile(r"^[-a-zA-Z0-9_]+\Z")


def has_character_of(value, category):
    """Whether ``value`` holds a character of the Unicode ``category`` (e.g. Cc, Cf)."""
    return any(unicodedata.category(char) == category for char in value)


class StrictCharField(serializers.CharField):
    """A string field that refuses other JSON types and, unless told otherwise, control characters."""

    default_error_messages = {
        "invalid": "Must be a string.",
        "Cc": "Must not contain control characters.",
        "Cf": "Must not contain invisible (format) characters such as zero-width spaces.",
    }

    def __init__(self, *, forbidden_categories=("Cc",), **kwargs):
        """Refuse characters of ``forbidden_categories`` (control characters by default)."""
        self.forbidden_categories = tuple(forbidden_categories)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        """Accept only ``str``, without forbidden characters."""
        if not isinstance(data, str):
            self.fail("invalid")
        for category in self.forbidden_categories:
            if has_character_of(data, category):
                self.fail(category)
        return super().to_internal_value(data)


class NameField(StrictCharField):
    """The learner's full name, refused as the platform refuses it: HTML brackets or a URL."""

    def to_internal_value(self, data):
        """Apply the platform's name rules to the string."""
        value = super().to_internal_value(data)
        if NAME_HTML.search(value):
            raise serializers.ValidationError("Full Name cannot contain the following characters: < >")
        if NAME_URL.search(value):
            raise serializers.ValidationError("Enter a valid name")
        return value


class LenientBooleanField(serializers.Field):
    """JSON ``true``/``false`` or the strings ``"true"``/``"false"`` in any letter case; nothing else."""

    default_error_messages = {"invalid": 'Must be true or false (a JSON boolean or the string "true" or "false").'}

    def to_internal_value(self, data):
        """Map the accepted spellings to a bool."""
        if isinstance(data, bool):
            return data
        spelling = data.strip().lower() if isinstance(data, str) else None
        if spelling in ("true", "false"):
            return spelling == "true"
        self.fail("invalid")
        return None  # unreachable: fail() raises

    def to_representation(self, value):
        """Represent as a JSON boolean."""
        return bool(value)


class UsernameField(StrictCharField):
    """The platform's username rules: 2 to USERNAME_MAX_LENGTH characters of its alphabet."""

    def __init__(self, **kwargs):
        """Take the length the platform uses (USERNAME_MAX_LENGTH, default 30)."""
        kwargs.setdefault("max_length", getattr(settings, "USERNAME_MAX_LENGTH", 30))
        kwargs.setdefault("min_length", 2)
        super().__init__(forbidden_categories=("Cc", "Cf"), **kwargs)

    def to_internal_value(self, data):
        """ASCII letters, digits, ``_`` and ``-``; with ENABLE_UNICODE_USERNAME, the platform's wider pattern."""
        value = super().to_internal_value(data)
        if feature("ENABLE_UNICODE_USERNAME"):
            partial = getattr(settings, "USERNAME_REGEX_PARTIAL", r"[\w .@_+-]+")
            pattern = re.compile(rf"^{partial}\Z", re.UNICODE)
            message = "Usernames can only contain letters, numerals, and @/./+/-/_ characters."
        else:
            pattern = ASCII_USERNAME
            message = "Usernames can only contain letters (A-Z, a-z), numerals (0-9), underscores (_), and hyphens (-)."
        if not pattern.match(value):
            raise serializers.ValidationError(message)
        return value


class EmailField(StrictCharField):
    """An email address as the platform's form checks it: Django's validator, 3 to 254 characters."""

    def __init__(self, **kwargs):
        """Strict string, no invisible characters, a valid address."""
        super().__init__(
            min_length=3, max_length=EMAIL_MAX_LENGTH, forbidden_categories=("Cc", "Cf"),
            validators=[EmailValidator(message="Enter a valid email address.")], **kwargs,
        )


LANGUAGE_MAX_LENGTH = 16  # the longest of the LMS's language codes is 7 ("zh-hans")


class PasswordField(StrictCharField):
    """
    An optional password, checked against the platform's password policy (AUTH_PASSWORD_VALIDATORS).

    ``null`` and ``""`` mean "no password", as the original Tahoe API treated them.
    """

    def __init__(self, **kwargs):
        """Any characters but NUL; up to the platform's maximum length."""
        super().__init__(required=False, allow_blank=True, allow_null=True, trim_whitespace=False,
                         max_length=PASSWORD_MAX_LENGTH, forbidden_categories=(), **kwargs)

    def to_internal_value(self, data):
        """Apply the policy to the NFKC-normalised password, as the platform's validate_password does."""
        value = super().to_internal_value(data)
        try:
            password_validation.validate_password(unicodedata.normalize("NFKC", value))
        except DjangoValidationError as exc:
            raise serializers.ValidationError(list(exc.messages)) from exc
        return value


class RegistrationRequestSerializer(serializers.Serializer):  # pylint: disable=abstract-method
    """The request body; fields it does not declare are ignored."""

    username = UsernameField()
    email = EmailField()
    # Names keep format characters: some scripts need zero-width joiners.
    name = NameField(max_length=NAME_MAX_LENGTH)
    password = PasswordField()
    send_activation_email = LenientBooleanField(required=False, default=True)
    # Checked against the LMS's languages by the API (the platform decides which it has).
    language = serializers.CharField(required=False, allow_null=True, max_length=LANGUAGE_MAX_LENGTH)

    def get_fields(self):
        """Build the username field per request: its length and alphabet are operator settings."""
        fields = super().get_fields()
        fields["username"] = UsernameField()
        return fields

    def to_registration(self):
        """Return the validated body as a ``RegistrationRequest``."""
        return self.registration_from(self.validated_data)

    @staticmethod
    def registration_from(data):
        """Return validated data (``validated_data``, or what ``run_validation`` returns) as a RegistrationRequest."""
        return RegistrationRequest(
            username=data["username"],
            email=data["email"],
            name=data["name"],
            password=data.get("password") or None,
            send_activation_email=data["send_activation_email"],
            language=data.get("language"),
        )


class RegistrationResponseSerializer(serializers.Serializer):  # pylint: disable=abstract-method
    """The success body: ``{"user_id": N}``."""

    user_id = serializers.IntegerField()
