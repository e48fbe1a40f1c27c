"""Stand-in for ``openedx/core/djangoapps/user_authn/views/password_reset.py``: reset email, "forgot password" form."""

from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.models import User  # pylint: disable=imported-auth-user
from django.contrib.auth.tokens import default_token_generator
from django.utils.http import int_to_base36
from edx_ace import ace
from edx_ace.recipient import Recipient
from openedx.core.djangoapps.site_configuration import helpers as configuration_helpers

PASSWORD_RESET_SUBJECT = "Password reset"


def send_password_reset_email_for_user(user, request, preferred_email=None):
    """Send the password-reset message, its link built from ``SITE_NAME`` and ``default_token_generator``."""
    reset_link = "{protocol}://{site}/password_reset_confirm/{uidb36}-{token}/?track=pwreset".format(
        protocol="https" if request.is_secure() else "http",
        site=configuration_helpers.get_value("SITE_NAME", getattr(settings, "SITE_NAME", "localhost")),
        uidb36=int_to_base36(user.id),
        token=default_token_generator.make_token(user),
    )
    ace.send(PasswordResetMessage(
        recipient=Recipient(user.id, preferred_email or user.email),
        subject=PASSWORD_RESET_SUBJECT,
        body=f"You're receiving this e-mail because you requested a password reset.\n\n{reset_link}\n",
        options={"from_address": configuration_helpers.get_value("email_from_address", settings.DEFAULT_FROM_EMAIL)},
    ))


@dataclass
class PasswordResetMessage:
    """The ACE message of the reset email."""

    recipient: Recipient
    subject: str
    body: str
    options: dict
    name: str = "passwordreset"


class PasswordResetFormNoActive(PasswordResetForm):
    """Django's reset form without the active-user requirement; refuses users with an unusable password."""

    error_messages = {
        "unknown": "That e-mail address doesn't have an associated user account. Are you sure you've registered?",
        "unusable": "The user account associated with this e-mail address cannot reset the password.",
    }
    users_cache = []

    def clean_email(self):
        """Select every user with the email (any case, active or not); refuse unusable passwords."""
        email = self.cleaned_data["email"]
        self.users_cache = User.objects.filter(email__iexact=email)
        if not self.users_cache:
            raise forms.ValidationError(self.error_messages["unknown"])
        if any(user.password.startswith(UNUSABLE_PASSWORD_PREFIX) for user in self.users_cache):
            raise forms.ValidationError(self.error_messages["unusable"])
        return email

    def save(  # pylint: disable=arguments-differ
        self, use_https=False, token_generator=default_token_generator, request=None, **_kwargs
    ):
        """Email each selected user a reset link."""
        for user in self.users_cache:
            send_password_reset_email_for_user(user, request)
