"""
A fake of the plugin's platform adapter, ``tahoe_registration_api.edxapp``.

It serves the development LMS and the tests above the adapter. It has the adapter's
verbs with the same signatures (a test keeps them in step) and reproduces what the
platform does behind them: the form's validation rules, the global duplicate checks,
an inactive user with a profile and an activation key, and the activation and
password-reset emails (sent through Django's mail, printed to the console in
development), and the operator's extension form (``PROFILE_EXTENSION_FORM``, else
``REGISTRATION_EXTENSION_FORM``, as Verawood reads them; ``devlms.forms`` has examples).
It writes real rows; nothing here is imported by the plugin itself.
"""

import json
import re
import unicodedata
import uuid

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db.models import CharField, Value
from django.utils.http import int_to_base36
from django.utils.module_loading import import_string
from django.utils.translation import get_language

from devlms.models import ActivationRecord, LearnerProfile, SiteConfiguration
from tahoe_registration_api.data import NewAccount

# The adapter's settings-only verbs are the platform's rules as the adapter reads them: reused.
from tahoe_registration_api.edxapp import (  # pylint: disable=unused-import  # password_was_set: a verb as is
    email_unique_platform_wide,
    password_was_set,
    unset_password_value,
)
from tahoe_registration_api.exceptions import DuplicateAccount, InvalidRegistration
from tahoe_registration_api.features import feature

ASCII_USERNAME = re.compile(r"^[-a-zA-Z0-9_]+\Z")
UNICODE_USERNAME = re.compile(r"^[\w .@_+-]+\Z", re.UNICODE)
# Records of what the platform would have announced; tests read it.
ANNOUNCED = []


def _platform_conflicts(username, email):
    """
    Apply the platform's global checks: an exact match on any user (MySQL's collation ignores case).

    The platform runs them in its form and in a ``pre_save`` receiver of the user, and the
    adapter reports them from ``create_account`` as ``DuplicateAccount``.

    With ``APPSEMBLER_MULTI_TENANT_EMAILS`` on, the platform is Appsembler's fork, whose email
    check is scoped to the learner's organization: ``api.py`` already checks that scope.
    """
    users = get_user_model().objects
    checks = users.filter(username=username).annotate(field=Value("username", output_field=CharField()))
    if email_unique_platform_wide():
        checks = checks.values_list("field").union(
            users.filter(email=email).annotate(field=Value("email", output_field=CharField())).values_list("field")
        )
    else:
        checks = checks.values_list("field")
    return {field for (field,) in checks}


def _username_errors(username):
    """Apply the platform's username rules: 2 to USERNAME_MAX_LENGTH characters of its allowed alphabet."""
    max_length = getattr(settings, "USERNAME_MAX_LENGTH", 30)
    if not 2 <= len(username) <= max_length:
        return [f"Username must be between 2 and {max_length} characters long."]
    pattern = UNICODE_USERNAME if feature("ENABLE_UNICODE_USERNAME") else ASCII_USERNAME
    if not pattern.match(username):
        return ["Usernames can only contain letters, numerals, and @/./+/-/_ characters."]
    return []


def _validation_errors(registration):
    """Apply the platform form's rules; return ``{field: message}``."""
    errors = {}
    username = registration.username.strip()
    if messages := _username_errors(username):
        errors["username"] = " ".join(messages)
    try:
        EmailValidator()(registration.email)
        if not 3 <= len(registration.email) <= 254:
            raise ValidationError("Email must be between 3 and 254 characters long.")
    except ValidationError as exc:
        errors["email"] = " ".join(exc.messages)
    name = registration.name.strip()
    if not name:
        errors["name"] = "Your legal name must be a minimum of one character long."
    elif re.search(r"[<>]", name):
        errors["name"] = "Full Name cannot contain the following characters: < >"
    elif "://" in name:
        errors["name"] = "Enter a valid name"
    if registration.has_password:
        try:
            password_validation.validate_password(registration.password)
        except ValidationError as exc:
            errors["password"] = " ".join(exc.messages)
    return errors


def _extension_form(data=None):
    """Return the operator's extension form (bound to ``data`` if given), None when the settings name none."""
    path = getattr(settings, "PROFILE_EXTENSION_FORM", None) or getattr(settings, "REGISTRATION_EXTENSION_FORM", None)
    if not path:
        return None
    form_class = import_string(path)
    return form_class() if data is None else form_class(data=data)


def extension_field_names():
    """Return the names of the extension form's fields, in its order; () when there is none."""
    form = _extension_form()
    return tuple(form.fields) if form is not None else ()


def _valid_extension_form(registration):
    """Bind the extension form as the platform does (with the learner's username, email and name); validate it."""
    data = dict(registration.extension_fields)
    data.update(username=registration.username, email=registration.email, name=registration.name)
    form = _extension_form(data)
    if form is None:
        return None, {}
    if form.is_valid():
        return form, {}
    return form, {"non_field_errors" if field == "__all__" else field: " ".join(messages)
                  for field, messages in form.errors.items()}


def validate_account(registration):
    """Run the platform's checks (global duplicates, then the forms' rules); return the bound extension form."""
    if conflicts := _platform_conflicts(registration.username.strip(), registration.email.strip()):
        raise DuplicateAccount(conflicts)
    extension_form, errors = _valid_extension_form(registration)
    errors = {**_validation_errors(registration), **errors}
    if errors:
        raise InvalidRegistration(field_errors=errors)
    return extension_form


def create_account(registration, site):  # pylint: disable=unused-argument
    """Create an inactive user, its profile, activation key and extension row; active when no email is wanted."""
    extension_form = validate_account(registration)
    user = get_user_model()(
        username=registration.username.strip(), email=registration.email.strip(), is_active=False
    )
    if registration.has_password:
        user.set_password(unicodedata.normalize("NFKC", registration.password))
    else:
        user.password = unset_password_value()
    user.save()
    activation = ActivationRecord.objects.create(user=user, activation_key=uuid.uuid4().hex)
    profile = LearnerProfile(
        user=user, name=registration.name.strip(), language=registration.language or get_language())
    if extension_form is not None and not hasattr(extension_form, "save"):
        profile.meta = json.dumps(extension_form.cleaned_data, default=str)
    profile.save()
    if extension_form is not None and hasattr(extension_form, "save"):
        extension = extension_form.save(commit=False)
        extension.user = user
        extension.save()
    if registration.has_password and not registration.send_activation_email:
        user.is_active = True
        user.save(update_fields=["is_active"])
    return NewAccount(user=user, platform_records={"profile": profile, "registration": activation})


def announce_registration(account):
    """Record the ``REGISTER_USER`` signal the platform would send."""
    ANNOUNCED.append(account.user.id)


def send_activation_email(user, site):
    """Send the activation email, as the platform's task does, with a link to the learner's site."""
    key = ActivationRecord.objects.get(user=user).activation_key
    root_url = site_configuration_value(site, "LMS_ROOT_URL", None) or f"http://{site.domain}"
    mail.send_mail(
        subject="Action Required: Activate your account",
        message=(
            f"Hello {LearnerProfile.objects.get(user=user).name},\n\n"
            f"Activate your account: {root_url}/activate/{key}\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[user.email],
    )


def send_password_reset_email(user, site, secure):
    """Send the password-reset ("set your password") email, its link on the site's ``SITE_NAME`` as the LMS does."""
    scheme = "https" if secure else "http"
    host = site_configuration_value(site, "SITE_NAME", None) or site.domain
    link = (
        f"{scheme}://{host}/password_reset_confirm/{int_to_base36(user.id)}-"
        f"{default_token_generator.make_token(user)}/"
    )
    mail.send_mail(
        subject="Password reset",
        message=f"Hello {LearnerProfile.objects.get(user=user).name},\n\nSet your password: {link}\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[user.email],
    )


def language_choices(site):  # pylint: disable=unused-argument
    """Return the codes of the development LMS's languages (``settings.LANGUAGES``)."""
    return {code for code, _name in settings.LANGUAGES}


def site_configuration_value(site, name, default=None):
    """Read ``name`` from the site's configuration (enabled ones only), else ``default``."""
    configuration = SiteConfiguration.objects.filter(site=site).first()
    if configuration is None:
        return default
    return configuration.get_value(name, default)


def bearer_authentication():
    """Return None: the development LMS has no OAuth2 provider, so bearer tokens are not accepted there."""
    return None
