"""Stand-in for ``openedx/core/djangoapps/user_authn/views/registration_form.py``: ``AccountCreationForm``."""

import re
from importlib import import_module

from common.djangoapps.student.models import email_exists_or_retired
from common.djangoapps.util.password_policy_validators import validate_password
from django import forms
from django.conf import settings
from django.contrib.auth.models import User  # pylint: disable=imported-auth-user
from django.core.validators import RegexValidator, ValidationError, slug_re
from django.forms import widgets

# openedx/core/djangoapps/user_api/accounts/__init__.py
USERNAME_MIN_LENGTH = 2
EMAIL_MIN_LENGTH = 3
EMAIL_MAX_LENGTH = 254
NAME_MIN_LENGTH = 1
NAME_MAX_LENGTH = 255
USERNAME_INVALID_CHARS_ASCII = (
    "Usernames can only contain letters (A-Z, a-z), numerals (0-9), underscores (_), and hyphens (-)."
)
USERNAME_INVALID_CHARS_UNICODE = "Usernames can only contain letters, numerals, and @/./+/-/_ characters."
USERNAME_REGEX_PARTIAL = r"[\w .@_+-]+"  # lms/envs/common.py


def _username_max_length():
    """Return the platform's ``USERNAME_MAX_LENGTH`` (30 unless the LMS changes it)."""
    return getattr(settings, "USERNAME_MAX_LENGTH", 30)


def _feature(name, default):
    """Read a flag as a top-level setting (Ulmo's flattened FEATURES), then from ``FEATURES``."""
    if hasattr(settings, name):
        return getattr(settings, name)
    return getattr(settings, "FEATURES", {}).get(name, default)


class TrueCheckbox(widgets.CheckboxInput):
    """A checkbox widget that only accepts "true" (case-insensitive) as true."""

    def value_from_datadict(self, data, files, name):
        """Lower-case the submitted value: anything but a string (e.g. a bool) raises AttributeError."""
        value = data.get(name, "")
        return value.lower() == "true"


class TrueField(forms.BooleanField):
    """A boolean field that only accepts "true" (case-insensitive) as true."""

    widget = TrueCheckbox


def validate_username(username):
    """ASCII slug usernames, or Unicode ones under ``ENABLE_UNICODE_USERNAME``."""
    username_re, flags, message = slug_re, None, USERNAME_INVALID_CHARS_ASCII
    if _feature("ENABLE_UNICODE_USERNAME", False):
        partial = getattr(settings, "USERNAME_REGEX_PARTIAL", USERNAME_REGEX_PARTIAL)
        username_re, flags, message = rf"^{partial}\Z", re.UNICODE, USERNAME_INVALID_CHARS_UNICODE
    RegexValidator(regex=username_re, flags=flags, message=message, code="invalid")(username)


def validate_name(name):
    """Refuse names with HTML brackets or a URL."""
    if re.search("(<|>)", name, re.UNICODE):
        raise forms.ValidationError("Full Name cannot contain the following characters: < >")
    if "://" in name:
        raise forms.ValidationError("Enter a valid name")


class UsernameField(forms.CharField):
    """A CharField that strips the username and applies the platform's length and alphabet rules."""

    default_validators = [validate_username]

    def __init__(self, *args, **kwargs):  # pylint: disable=unused-argument
        """Length 2 to ``USERNAME_MAX_LENGTH``, with the platform's message."""
        max_length = _username_max_length()
        bad_length = f"Username must be between {USERNAME_MIN_LENGTH} and {max_length} characters long."
        super().__init__(
            min_length=USERNAME_MIN_LENGTH,
            max_length=max_length,
            error_messages={"required": bad_length, "min_length": bad_length, "max_length": bad_length},
        )

    def clean(self, value):
        """Strip the spaces from the username, as ``SlugField`` does."""
        return super().clean(self.to_python(value).strip())


class AccountCreationForm(forms.Form):
    """The platform's account creation form: used for validation only."""

    _EMAIL_INVALID_MSG = "A properly formatted e-mail is required"
    _NAME_TOO_SHORT_MSG = "Your legal name must be a minimum of one character long"
    _NAME_TOO_LONG_MSG = "Your legal name is too long. It must not exceed %(max_length)s characters"

    username = UsernameField()
    email = forms.EmailField(
        max_length=EMAIL_MAX_LENGTH,
        min_length=EMAIL_MIN_LENGTH,
        error_messages={
            "required": _EMAIL_INVALID_MSG,
            "invalid": _EMAIL_INVALID_MSG,
            "max_length": "Email cannot be more than %(limit_value)s characters long",
        },
    )
    password = forms.CharField()
    name = forms.CharField(
        min_length=NAME_MIN_LENGTH,
        max_length=NAME_MAX_LENGTH,
        error_messages={
            "required": _NAME_TOO_SHORT_MSG,
            "min_length": _NAME_TOO_SHORT_MSG,
            "max_length": _NAME_TOO_LONG_MSG % {"max_length": NAME_MAX_LENGTH},
        },
        validators=[validate_name],
    )

    def __init__(self, data=None, extra_fields=None, extended_profile_fields=None, do_third_party_auth=True,
                 tos_required=True):
        """Add the terms of service, honor code and the site's extra and extended profile fields."""
        super().__init__(data)
        extra_fields = extra_fields or {}
        self.extended_profile_fields = extended_profile_fields or {}
        self.do_third_party_auth = do_third_party_auth
        if tos_required:
            self.fields["terms_of_service"] = TrueField(
                error_messages={"required": "You must accept the terms of service."}
            )
        for field_name, field_value in extra_fields.items():
            if field_name in self.fields:
                continue
            if field_name == "honor_code":
                if field_value == "required":
                    self.fields[field_name] = TrueField(
                        error_messages={"required": "To enroll, you must follow the honor code."}
                    )
            else:
                message = "You are missing one or more required fields"
                self.fields[field_name] = forms.CharField(
                    required=field_value == "required",
                    min_length=1,
                    error_messages={"required": message, "min_length": message},
                )
        for field in self.extended_profile_fields:
            if field not in self.fields:
                self.fields[field] = forms.CharField(required=False)

    def clean_password(self):
        """Enforce the password policy, except for third-party-auth sign-ups."""
        password = self.cleaned_data["password"]
        if not self.do_third_party_auth:
            username = self.cleaned_data.get("username")
            email = self.cleaned_data.get("email")
            temp_user = User(username=username, email=email) if username else None
            validate_password(password, temp_user)
        return password

    def clean_email(self):
        """Refuse an email any account (or a retired one) uses, platform-wide."""
        email = self.cleaned_data["email"]
        if email_exists_or_retired(email):
            raise ValidationError(
                f"It looks like {email} belongs to an existing account. Try again with a different email address."
            )
        return email

    @property
    def cleaned_extended_profile(self):
        """The extended profile fields and their values."""
        return {
            key: value
            for key, value in self.cleaned_data.items()
            if key in self.extended_profile_fields and value is not None
        }


def get_registration_extension_form(*args, **kwargs):
    """The form ``REGISTRATION_EXTENSION_FORM`` names (a dotted path), built with the arguments; None without one."""
    if not getattr(settings, "REGISTRATION_EXTENSION_FORM", None):
        return None
    module, klass = settings.REGISTRATION_EXTENSION_FORM.rsplit(".", 1)
    return getattr(import_module(module), klass)(*args, **kwargs)
