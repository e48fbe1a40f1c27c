"""Stand-in for ``openedx/core/djangoapps/user_authn/views/register.py``: account creation and ``REGISTER_USER``."""

from common.djangoapps.student.helpers import create_or_set_user_attribute_created_on_site, do_create_account
from common.djangoapps.student.views import compose_and_send_activation_email
from common.djangoapps.util.db import outer_atomic
from django.conf import settings
from django.contrib.auth import load_backend
from django.contrib.auth import login as django_login
from django.db import transaction
from django.dispatch import Signal
from openedx.core.djangoapps.site_configuration import helpers as configuration_helpers
from openedx.core.djangoapps.user_authn.views.registration_form import AccountCreationForm
from openedx_events.learning.data import UserData, UserPersonalData
from openedx_events.learning.signals import STUDENT_REGISTRATION_COMPLETED

# Sent with ``user=`` and ``registration=`` once an account exists.
REGISTER_USER = Signal()

# The backend the platform logs new (still inactive) users in with.
NEW_USER_AUTH_BACKEND = "django.contrib.auth.backends.AllowAllUsersModelBackend"


def _feature(name, default):
    """Read a flag as a top-level setting (Ulmo's flattened FEATURES), then from ``FEATURES``."""
    if hasattr(settings, name):
        return getattr(settings, name)
    return getattr(settings, "FEATURES", {}).get(name, default)


def _authenticate_new_user(request, username, password):
    """Authenticate the just-created (inactive) user: hashes the password a second time."""
    backend = load_backend(NEW_USER_AUTH_BACKEND)
    user = backend.authenticate(request=request, username=username, password=password)
    user.backend = NEW_USER_AUTH_BACKEND
    return user


@transaction.non_atomic_requests
def create_account_with_params(request, params):
    """
    Create an account from request parameters, then log the new user into ``request``.

    Refuses inside an atomic block (``outer_atomic``), validates the password policy,
    sends the activation email (unless skipped by settings), ``REGISTER_USER`` and
    ``STUDENT_REGISTRATION_COMPLETED``. Returns the new user.
    """
    params = dict(params.items())
    extra_fields = configuration_helpers.get_value(
        "REGISTRATION_EXTRA_FIELDS", getattr(settings, "REGISTRATION_EXTRA_FIELDS", {})
    ) or {}
    registration_fields = getattr(settings, "REGISTRATION_EXTRA_FIELDS", {})
    tos_required = (
        registration_fields.get("terms_of_service") != "hidden" or registration_fields.get("honor_code") != "hidden"
    )
    form = AccountCreationForm(
        data=params,
        extra_fields=extra_fields,
        extended_profile_fields=[],
        do_third_party_auth=False,
        tos_required=tos_required,
    )

    with outer_atomic():
        user, profile, registration = do_create_account(form)

    new_user = _authenticate_new_user(request, user.username, form.cleaned_data["password"])
    django_login(request, new_user)
    request.session.set_expiry(0)

    create_or_set_user_attribute_created_on_site(user, getattr(request, "site", None))

    skip_email = _feature("SKIP_EMAIL_VALIDATION", False) or _feature("AUTOMATIC_AUTH_FOR_TESTING", False)
    if skip_email:
        registration.activate()
    else:
        compose_and_send_activation_email(user, profile, registration, registration_flow=True)

    REGISTER_USER.send(sender=None, user=user, registration=registration)
    STUDENT_REGISTRATION_COMPLETED.send_event(
        user=UserData(
            pii=UserPersonalData(username=user.username, email=user.email, name=user.profile.name),
            id=user.id,
            is_active=user.is_active,
        ),
    )
    return new_user
