"""Serializers of the v1 registration endpoint: they validate the request, and shape the response."""

from django.conf import settings
from rest_framework import serializers

from tahoe_registration_api.data import RegistrationRequest

# Lengths of the platform's form fields and columns (openedx.core.djangoapps.user_api.accounts).
EMAIL_MAX_LENGTH = 254
NAME_MAX_LENGTH = 255
PASSWORD_MAX_LENGTH = 5000


class StrictCharField(serializers.CharField):
    """A string field that refuses numbers, booleans, lists and objects instead of coercing them."""

    default_error_messages = {"invalid": "Must be a string."}

    def to_internal_value(self, data):
        """Accept only ``str``."""
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class LenientBooleanField(serializers.Field):
    """JSON ``true``/``false`` or the strings ``"true"``/``"false"`` in any letter case; nothing else."""

    default_error_messages = {"invalid": 'Must be true or false (a JSON boolean or the string "true" or "false").'}

    def to_internal_value(self, data):
        """Map the accepted spellings to a bool."""
        if isinstance(data, bool):
            return data
        if isinstance(data, str) and data.strip().lower() in ("true", "false"):
            return data.strip().lower() == "true"
        self.fail("invalid")
        return None  # unreachable: fail() raises

    def to_representation(self, value):
        """Represent as a JSON boolean."""
        return bool(value)


class RegistrationRequestSerializer(serializers.Serializer):  # pylint: disable=abstract-method
    """The request body; fields it does not declare are ignored."""

    username = StrictCharField()
    email = StrictCharField(max_length=EMAIL_MAX_LENGTH)
    name = StrictCharField(max_length=NAME_MAX_LENGTH)
    password = StrictCharField(required=False, allow_blank=False, trim_whitespace=False, max_length=PASSWORD_MAX_LENGTH)
    send_activation_email = LenientBooleanField(required=False, default=True)

    def get_fields(self):
        """Apply the platform's username length, which an operator may change."""
        fields = super().get_fields()
        fields["username"] = StrictCharField(max_length=getattr(settings, "USERNAME_MAX_LENGTH", 30))
        return fields

    def to_registration(self):
        """Return the validated body as a ``RegistrationRequest``."""
        data = self.validated_data
        return RegistrationRequest(
            username=data["username"],
            email=data["email"],
            name=data["name"],
            password=data.get("password"),
            send_activation_email=data["send_activation_email"],
        )


class RegistrationResponseSerializer(serializers.Serializer):  # pylint: disable=abstract-method
    """The success body: ``{"user_id": N}``."""

    user_id = serializers.IntegerField()
