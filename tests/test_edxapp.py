"""
Tests of the platform adapter (``tahoe_registration_api.edxapp``) against the platform stand-ins.

The stand-ins in ``tests/edx_platform`` sit at the platform's real import paths and reproduce
the documented behaviour the adapter depends on (``docs/platform-facts.md``). These tests run
the real adapter, and where useful show the platform's own entry points doing what the adapter
deliberately avoids (logging the learner in, refusing inside a transaction, refusing when public
sign-up is off).
"""

import inspect
import re
from smtplib import SMTPRecipientsRefused

import pytest
from common.djangoapps.student.helpers import do_create_account
from common.djangoapps.student.models import (
    USER_ACCOUNT_ACTIVATED,
    Registration,
    UserAttribute,
    UserProfile,
    get_retired_email,
    get_retired_username,
)
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import MD5PasswordHasher
from django.contrib.auth.tokens import default_token_generator
from django.contrib.sessions.middleware import SessionMiddleware
from django.contrib.sites.models import Site
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.transaction import TransactionManagementError
from django.test import RequestFactory, TestCase, override_settings
from django.utils.http import int_to_base36
from openedx.core.djangoapps.user_authn.views.password_reset import PasswordResetFormNoActive
from openedx.core.djangoapps.user_authn.views.register import REGISTER_USER, create_account_with_params
from openedx.core.djangoapps.user_authn.views.registration_form import AccountCreationForm
from openedx_events.learning.signals import STUDENT_REGISTRATION_COMPLETED
from openedx_filters import PipelineStep
from openedx_filters.learning.filters import StudentRegistrationRequested
from tahoe_sites.api import create_tahoe_site
from tahoe_sites.models import UserOrganizationMapping

from devlms import fake_platform
from devlms.models import LearnerExtension
from tahoe_registration_api import api, edxapp
from tahoe_registration_api.data import RegistrationRequest
from tahoe_registration_api.exceptions import (
    DuplicateAccount,
    EmailNotDelivered,
    InvalidRegistration,
    RegistrationPrevented,
)

# NewAccount.user is annotated ``object`` (the adapter returns a User); pylint cannot see its fields.
# pylint: disable=no-member
User = get_user_model()
REAL_ADAPTER = override_settings(TAHOE_REGISTRATION_API_ADAPTER="tahoe_registration_api.edxapp")
GOOD_PASSWORD = "Correct-Horse-Battery-42"


class CountingHasher(MD5PasswordHasher):
    """A fast hasher that counts how many times a password is hashed."""

    algorithm = "counting_md5"
    calls = 0

    def encode(self, password, salt):
        """Count, then hash as MD5 does."""
        CountingHasher.calls += 1
        return super().encode(password, salt)


class RejectEveryPassword:
    """A password validator that refuses everything: shows when the policy runs at all."""

    def validate(self, password, user=None):
        """Refuse the password."""
        raise ValidationError("No password is good enough.", code="rejected")

    def get_help_text(self):
        """Describe the rule."""
        return "No password is accepted."


class StopRegistration(PipelineStep):
    """An operator's filter step that stops every registration."""

    def run_filter(self, form_data):  # pylint: disable=arguments-differ
        """Stop the registration."""
        raise StudentRegistrationRequested.PreventRegistration("Registrations are closed.", status_code=403)


@pytest.fixture(autouse=True)
def counting_hasher():
    """Hash passwords with the counting hasher, its counter reset."""
    CountingHasher.calls = 0
    with override_settings(PASSWORD_HASHERS=[f"{__name__}.CountingHasher"]):
        yield CountingHasher


@pytest.fixture
def tahoe_site(db):  # pylint: disable=unused-argument
    """A Tahoe site (not the LMS's main site) with its organization."""
    return create_tahoe_site("alpha.example.com", "alpha")


@pytest.fixture
def main_site(db):  # pylint: disable=unused-argument
    """The LMS's main site (``SITE_ID``)."""
    return Site.objects.get(pk=settings.SITE_ID)


def _registration(**overrides):
    """A valid registration request, with ``overrides``."""
    values = {"username": "auserton", "email": "alex.userton@example.com", "name": "Alex Userton"}
    values.update(overrides)
    return RegistrationRequest(**values)


def _make_request(site, user, secure=False):
    """A POST to the registration endpoint on ``site`` by ``user``, with a saved session."""
    request = RequestFactory().post("/tahoe/api/v1/registrations/", HTTP_HOST=site.domain, secure=secure)
    SessionMiddleware(lambda req: None).process_request(request)
    request.session["marker"] = "the caller's session"
    request.session.save()
    request.user = user
    request.site = site
    return request


def _platform_form_data(**overrides):
    """Data for the platform's own ``AccountCreationForm``."""
    data = {
        "username": "auserton", "email": "alex.userton@example.com", "name": "Alex Userton",
        "password": GOOD_PASSWORD, "terms_of_service": "true",
    }
    data.update(overrides)
    return data


def _rows():
    """Counts of every row a registration could leave."""
    return (
        User.objects.count(), UserProfile.objects.count(), Registration.objects.count(),
        UserAttribute.objects.count(), UserOrganizationMapping.objects.count(),
    )


# The platform's form, as the adapter drives it ------------------------------------------------

@pytest.mark.django_db
def test_platform_form_accepts_terms_only_as_a_string():
    """The form lower-cases the terms value: "true" passes, a Python bool raises AttributeError."""
    assert AccountCreationForm(data=_platform_form_data(terms_of_service="True")).is_valid()
    with pytest.raises(AttributeError, match="'bool' object has no attribute 'lower'"):
        AccountCreationForm(data=_platform_form_data(terms_of_service=True)).is_valid()


@pytest.mark.django_db
@override_settings(STANDIN_SITE_CONFIGURATION={"REGISTRATION_EXTRA_FIELDS": {"honor_code": "required"}})
def test_adapter_accepts_terms_and_required_honor_code_on_the_learners_behalf(tahoe_site):
    """The adapter passes the string "true" for the terms and an honor code a site requires."""
    form = edxapp._account_form(_registration(password=GOOD_PASSWORD))
    assert {"terms_of_service", "honor_code"} <= set(form.fields)
    assert form.is_valid(), form.errors
    assert form.data["terms_of_service"] == "true" and form.data["honor_code"] == "true"

    account = edxapp.create_account(_registration(password=GOOD_PASSWORD), tahoe_site["site"])
    assert User.objects.filter(pk=account.user.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"username": "not a slug!"}, "username", "Usernames can only contain"),
        ({"username": "a"}, "username", "between 2 and 30"),
        ({"name": "Alex <script>"}, "name", "Full Name cannot contain the following characters: < >"),
        ({"name": "Alex https://spam.example.com"}, "name", "Enter a valid name"),
        ({"email": "not-an-email"}, "email", "A properly formatted e-mail is required"),
        ({"password": "short"}, "password", "too short"),
    ],
)
def test_form_errors_become_invalid_registration_naming_the_field(tahoe_site, overrides, field, message):
    """The platform form's errors reach the caller per field, and nothing is written."""
    with pytest.raises(InvalidRegistration) as caught:
        edxapp.create_account(_registration(**overrides), tahoe_site["site"])
    assert field in caught.value.field_errors
    assert message in caught.value.field_errors[field]
    assert _rows()[:4] == (0, 0, 0, 0)


@pytest.mark.django_db
@override_settings(AUTH_PASSWORD_VALIDATORS=[{"NAME": f"{__name__}.RejectEveryPassword"}])
def test_password_policy_applies_only_to_a_given_password(tahoe_site):
    """A given password meets the policy; a passwordless learner is never checked against it."""
    with pytest.raises(InvalidRegistration) as caught:
        edxapp.create_account(_registration(password=GOOD_PASSWORD), tahoe_site["site"])
    assert caught.value.field_errors == {"password": "No password is good enough."}

    account = edxapp.create_account(_registration(), tahoe_site["site"])
    assert account.user.pk is not None


@pytest.mark.django_db
@override_settings(USERNAME_MAX_LENGTH=40, ENABLE_UNICODE_USERNAME=True)
def test_unicode_usernames_follow_the_platform_flag(tahoe_site):
    """With the platform's Unicode flag (a top-level setting), a non-ASCII username is accepted."""
    account = edxapp.create_account(_registration(username="Ålex_Üserton"), tahoe_site["site"])
    assert account.user.username == "Ålex_Üserton"


# create_account ------------------------------------------------------------------------------

@pytest.mark.django_db
def test_create_account_writes_an_inactive_user_with_profile_and_activation_key(tahoe_site):
    """As ``do_create_account``: inactive user, profile with the name, activation key, site attribute."""
    site = tahoe_site["site"]
    account = edxapp.create_account(
        _registration(username="  auserton ", name=" Alex Userton ", password=GOOD_PASSWORD), site
    )

    user = User.objects.get(pk=account.user.pk)
    assert (user.username, user.email, user.is_active) == ("auserton", "alex.userton@example.com", False)
    assert account.user.is_active is False
    assert user.profile.name == "Alex Userton"
    assert user.profile.meta == ""
    activation = Registration.objects.get(user=user)
    assert re.fullmatch(r"[0-9a-f]{32}", activation.activation_key)
    assert activation.activation_timestamp is None
    assert account.platform_records == {"profile": user.profile, "registration": activation}
    assert UserAttribute.get_user_attribute(user, "created_on_site") == "alpha.example.com"


@pytest.mark.django_db
def test_create_account_on_the_main_site_records_no_created_on_site(main_site):
    """The platform leaves ``created_on_site`` out for the main site."""
    account = edxapp.create_account(_registration(), main_site)
    assert not UserAttribute.objects.filter(user=account.user).exists()


@pytest.mark.django_db
def test_no_activation_email_wanted_activates_at_once(tahoe_site):
    """With a password and ``send_activation_email=False`` the platform's activation runs."""
    activated = []

    def receiver(sender, user, **kwargs):  # pylint: disable=unused-argument
        activated.append(user.pk)

    USER_ACCOUNT_ACTIVATED.connect(receiver)
    try:
        account = edxapp.create_account(
            _registration(password=GOOD_PASSWORD, send_activation_email=False), tahoe_site["site"]
        )
    finally:
        USER_ACCOUNT_ACTIVATED.disconnect(receiver)

    assert account.user.is_active is True
    assert User.objects.get(pk=account.user.pk).is_active is True
    assert Registration.objects.get(user=account.user).activation_timestamp is not None
    assert activated == [account.user.pk]


@pytest.mark.django_db
def test_passwordless_learner_stays_inactive_even_without_activation_email(tahoe_site):
    """Without a password, ``send_activation_email=False`` does not activate the account."""
    account = edxapp.create_account(_registration(send_activation_email=False), tahoe_site["site"])
    assert account.user.is_active is False
    assert User.objects.get(pk=account.user.pk).is_active is False


@pytest.mark.django_db
def test_a_given_password_is_hashed_exactly_once(tahoe_site, counting_hasher):
    """One hash for a given password (the platform's own flow hashes twice)."""
    account = edxapp.create_account(_registration(password=GOOD_PASSWORD), tahoe_site["site"])
    assert counting_hasher.calls == 1
    user = User.objects.get(pk=account.user.pk)
    assert user.password.startswith("counting_md5$")
    assert user.check_password(GOOD_PASSWORD)


@pytest.mark.django_db
def test_a_passwordless_learner_is_never_hashed_yet_can_reset(tahoe_site, counting_hasher):
    """No hash; no password matches; the platform's reset flows accept the learner."""
    account = edxapp.create_account(_registration(), tahoe_site["site"])
    assert counting_hasher.calls == 0

    user = User.objects.get(pk=account.user.pk)
    assert user.password.startswith(edxapp.UNSET_PASSWORD_PREFIX)
    for guess in ("", GOOD_PASSWORD, user.password, user.password[len(edxapp.UNSET_PASSWORD_PREFIX):]):
        assert not user.check_password(guess)
    assert user.has_usable_password()

    form = PasswordResetFormNoActive({"email": "ALEX.USERTON@example.com"})
    assert form.is_valid(), form.errors
    assert list(form.users_cache) == [user]

    token = default_token_generator.make_token(user)
    assert default_token_generator.check_token(user, token)
    user.set_password(GOOD_PASSWORD)
    user.save()
    assert not default_token_generator.check_token(user, token)
    assert user.check_password(GOOD_PASSWORD)


@pytest.mark.django_db
def test_the_reset_form_stand_in_refuses_an_unusable_password():
    """Why the adapter avoids ``set_unusable_password``: the "forgot password" form refuses it."""
    user = User.objects.create(username="unusable", email="unusable@example.com")
    user.set_unusable_password()
    user.save()
    form = PasswordResetFormNoActive({"email": "unusable@example.com"})
    assert not form.is_valid()
    assert "cannot reset the password" in str(form.errors["email"])


@pytest.mark.django_db
def test_unset_password_values_differ_per_learner():
    """Every passwordless learner gets a different stored value."""
    assert edxapp.unset_password_value() != edxapp.unset_password_value()


@pytest.mark.django_db
def test_create_account_works_inside_a_transaction(tahoe_site):
    """Unlike ``create_account_with_params``, the adapter runs inside the registration's transaction."""
    with transaction.atomic():
        account = edxapp.create_account(_registration(password=GOOD_PASSWORD), tahoe_site["site"])
    assert User.objects.filter(pk=account.user.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "switch_off",
    [
        override_settings(STANDIN_SITE_CONFIGURATION={"ALLOW_PUBLIC_ACCOUNT_CREATION": False}),
        override_settings(ALLOW_PUBLIC_ACCOUNT_CREATION=False),
    ],
    ids=["site-configuration", "lms-setting"],
)
def test_create_account_works_where_public_sign_up_is_off(tahoe_site, switch_off):
    """The platform's ``do_create_account`` refuses where public sign-up is off; the adapter does not."""
    with switch_off:
        with pytest.raises(PermissionDenied):
            do_create_account(AccountCreationForm(data=_platform_form_data(username="refused")))
        assert not User.objects.filter(username="refused").exists()

        account = edxapp.create_account(_registration(password=GOOD_PASSWORD), tahoe_site["site"])
    assert User.objects.filter(pk=account.user.pk).exists()


@pytest.mark.django_db
def test_do_create_account_works_where_public_sign_up_is_on():
    """The stand-in ``do_create_account`` itself creates an account when nothing switches sign-up off."""
    user, profile, registration = do_create_account(AccountCreationForm(data=_platform_form_data()))
    assert (user.is_active, profile.name, len(registration.activation_key)) == (False, "Alex Userton", 32)


# Why the adapter does not call create_account_with_params -------------------------------------

@pytest.mark.django_db(transaction=True)
def test_platform_create_account_with_params_refuses_inside_a_transaction(tahoe_site):
    """``create_account_with_params`` opens ``outer_atomic``: nested, it refuses and creates nothing."""
    admin = User.objects.create(username="siteadmin", email="admin@example.com")
    request = _make_request(tahoe_site["site"], admin)
    with pytest.raises(TransactionManagementError):
        with transaction.atomic():
            create_account_with_params(request, _platform_form_data())
    assert not User.objects.filter(username="auserton").exists()


@pytest.mark.django_db(transaction=True)
def test_platform_create_account_with_params_logs_the_learner_in(tahoe_site, counting_hasher):
    """Outside a transaction it works, but logs the learner into the caller's request and hashes twice."""
    admin = User.objects.create(username="siteadmin", email="admin@example.com")
    request = _make_request(tahoe_site["site"], admin)
    session_key = request.session.session_key

    learner = create_account_with_params(request, _platform_form_data())

    assert request.user == learner != admin
    assert request.session["_auth_user_id"] == str(learner.pk)
    assert request.session.session_key != session_key
    assert counting_hasher.calls == 2
    assert [message.to for message in mail.outbox] == [["alex.userton@example.com"]]


# The platform's own duplicate checks, reported by create_account ----------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("username, email, conflicts", [
    ("auserton", "taken@example.com", {"email"}),
    ("taken", "taken@example.com", {"username", "email"}),
])
def test_create_account_reports_the_platforms_duplicates(tahoe_site, username, email, conflicts):
    """The form's global email check and the username check become ``DuplicateAccount``, nothing written."""
    User.objects.create(username="taken", email="taken@example.com")
    with pytest.raises(DuplicateAccount) as caught:
        edxapp.create_account(_registration(username=username, email=email), tahoe_site["site"])
    assert set(caught.value.field_errors) == conflicts
    assert User.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("username, email, field", [
    ("Gone", "present@example.com", "username"),
    ("present", "GONE@example.com", "email"),
])
def test_create_account_refuses_retired_accounts(tahoe_site, username, email, field):
    """A retired account (renamed to its hashed form) still blocks its username and email."""
    User.objects.create(username=get_retired_username("Gone"), email=get_retired_email("gone@example.com"))
    with pytest.raises(DuplicateAccount) as caught:
        edxapp.create_account(_registration(username=username, email=email), tahoe_site["site"])
    assert set(caught.value.field_errors) == {field}
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_a_taken_username_alone_reaches_the_databases_unique_constraint(tahoe_site):
    """The platform's form does not check usernames: the insert fails, and ``api`` retries into a 409."""
    User.objects.create(username="taken", email="taken@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        edxapp.create_account(_registration(username="taken"), tahoe_site["site"])
    assert User.objects.count() == 1


# After the commit: signal and emails ---------------------------------------------------------

@pytest.mark.django_db
def test_announce_registration_sends_register_user_once(tahoe_site):
    """``REGISTER_USER`` carries the user and the activation record."""
    account = edxapp.create_account(_registration(password=GOOD_PASSWORD), tahoe_site["site"])
    received = []

    def receiver(sender, **kwargs):  # pylint: disable=unused-argument
        received.append(kwargs)

    REGISTER_USER.connect(receiver)
    try:
        edxapp.announce_registration(account)
    finally:
        REGISTER_USER.disconnect(receiver)
    assert len(received) == 1
    assert received[0]["user"] == account.user
    assert received[0]["registration"] == Registration.objects.get(user=account.user)


@pytest.mark.django_db
def test_send_activation_email_sends_one_email_to_the_learner(tahoe_site):
    """The platform's activation email, with the learner's activation link."""
    account = edxapp.create_account(_registration(password=GOOD_PASSWORD), tahoe_site["site"])
    edxapp.send_activation_email(account.user, tahoe_site["site"])

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alex.userton@example.com"]
    assert message.subject == "Action Required: Activate your account"
    key = Registration.objects.get(user=account.user).activation_key
    assert f"{settings.LMS_ROOT_URL}/activate/{key}" in message.body


@pytest.mark.django_db
@override_settings(STANDIN_SITE_CONFIGURATION={"SITE_NAME": "alpha.example.com"})
@pytest.mark.parametrize("secure, scheme", [(True, "https"), (False, "http")])
def test_send_password_reset_email_sends_one_email_with_a_valid_token(tahoe_site, secure, scheme):
    """The platform's reset email to the learner, its link (over the registration's scheme) carrying a valid token."""
    account = edxapp.create_account(_registration(), tahoe_site["site"])
    edxapp.send_password_reset_email(account.user, tahoe_site["site"], secure)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alex.userton@example.com"]
    uidb36 = int_to_base36(account.user.pk)
    link = rf"{scheme}://alpha\.example\.com/password_reset_confirm/{uidb36}-([0-9a-z]+-[0-9a-f]+)/"
    found = re.search(link, message.body)
    assert found, message.body
    assert default_token_generator.check_token(User.objects.get(pk=account.user.pk), found.group(1))


@pytest.mark.django_db
@pytest.mark.parametrize("send", [
    edxapp.send_activation_email,
    lambda user, site: edxapp.send_password_reset_email(user, site, True),
], ids=["activation", "password-reset"])
def test_an_smtp_error_that_ace_swallows_is_reported_as_not_delivered(tahoe_site, monkeypatch, send):
    """ACE's email channel logs an SMTP error and returns; the adapter still reports it, so the task retries."""
    account = edxapp.create_account(_registration(password=GOOD_PASSWORD), tahoe_site["site"])

    def refused(*args, **kwargs):
        raise SMTPRecipientsRefused({"alex.userton@example.com": (550, b"mailbox unavailable")})

    monkeypatch.setattr("edx_ace.ace.mail.send_mail", refused)
    with pytest.raises(EmailNotDelivered):
        send(account.user, tahoe_site["site"])
    assert not mail.outbox


# email_unique_platform_wide ------------------------------------------------------------------

def test_email_unique_platform_wide_by_default():
    """Upstream Open edX refuses an email used on any site."""
    assert edxapp.email_unique_platform_wide() is True


def test_multi_tenant_emails_as_top_level_setting():
    """Appsembler's flag, read as a top-level setting (Ulmo and later) first."""
    with override_settings(APPSEMBLER_MULTI_TENANT_EMAILS=True):
        assert edxapp.email_unique_platform_wide() is False
    with override_settings(
        APPSEMBLER_MULTI_TENANT_EMAILS=False, FEATURES={**settings.FEATURES, "APPSEMBLER_MULTI_TENANT_EMAILS": True}
    ):
        assert edxapp.email_unique_platform_wide() is True


def test_multi_tenant_emails_in_features():
    """Appsembler's flag, read from ``FEATURES`` when there is no top-level setting."""
    with override_settings(FEATURES={**settings.FEATURES, "APPSEMBLER_MULTI_TENANT_EMAILS": True}):
        assert edxapp.email_unique_platform_wide() is False


# Through api.register_user with the real adapter ---------------------------------------------

@pytest.fixture
def site_admin(tahoe_site, django_user_model):
    """An admin of the Tahoe site, the caller of the API."""
    admin = django_user_model.objects.create(username="siteadmin", email="admin@example.com")
    UserOrganizationMapping.objects.create(user=admin, organization=tahoe_site["organization"], is_admin=True)
    return admin


@pytest.fixture
def completed_events():
    """The ``STUDENT_REGISTRATION_COMPLETED`` events sent while the test runs."""
    events = []

    def receiver(signal, sender, user, **kwargs):  # pylint: disable=unused-argument
        events.append(user)

    STUDENT_REGISTRATION_COMPLETED.connect(receiver)
    yield events
    STUDENT_REGISTRATION_COMPLETED.disconnect(receiver)


def _register(tahoe_site, request, registration):
    """Register through the Python API on the Tahoe site; what waits for the commit runs as it would."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return api.register_user(
            registration, site=tahoe_site["site"], organization=tahoe_site["organization"], request=request
        )


@pytest.mark.django_db
@REAL_ADAPTER
def test_register_user_does_not_log_the_learner_in(tahoe_site, site_admin, completed_events, counting_hasher):
    """Through the API: the caller's request and session stay the caller's; one event, one email, one hash."""
    request = _make_request(tahoe_site["site"], site_admin)
    session_key = request.session.session_key

    result = _register(tahoe_site, request, _registration(password=GOOD_PASSWORD))

    assert request.user == site_admin
    assert "_auth_user_id" not in request.session
    assert request.session.session_key == session_key
    assert request.session["marker"] == "the caller's session"
    learner = User.objects.get(pk=result.user_id)
    assert (learner.username, learner.is_active, result.is_active) == ("auserton", False, False)
    assert UserOrganizationMapping.objects.filter(
        user=learner, organization=tahoe_site["organization"], is_admin=False
    ).exists()
    assert [event.id for event in completed_events] == [learner.pk]
    assert completed_events[0].pii.name == "Alex Userton"
    assert [message.subject for message in mail.outbox] == ["Action Required: Activate your account"]
    assert counting_hasher.calls == 1


@pytest.mark.django_db
@REAL_ADAPTER
def test_register_user_without_password_sends_the_reset_email(tahoe_site, site_admin, completed_events):
    """Through the API, a passwordless learner gets only the reset email and stays inactive."""
    result = _register(tahoe_site, _make_request(tahoe_site["site"], site_admin), _registration())
    assert result.is_active is False
    assert len(mail.outbox) == 1
    assert "/password_reset_confirm/" in mail.outbox[0].body
    assert len(completed_events) == 1


@pytest.mark.django_db
@REAL_ADAPTER
def test_register_user_without_request_still_sends_the_reset_email(tahoe_site):
    """The Python API's ``request`` is optional, so a passwordless learner must get the email without one."""
    _register(tahoe_site, None, _registration())
    assert len(mail.outbox) == 1
    assert "http://" in mail.outbox[0].body


@pytest.mark.django_db
@REAL_ADAPTER
def test_register_user_reports_retired_username_as_duplicate(tahoe_site, site_admin):
    """The platform's retired-account check reaches the caller as a 409-type conflict, nothing written."""
    User.objects.create(username=get_retired_username("auserton"), email="someone@example.com")
    before = _rows()
    with pytest.raises(DuplicateAccount) as caught:
        _register(tahoe_site, _make_request(tahoe_site["site"], site_admin), _registration())
    assert caught.value.fields == ("username",)
    assert _rows() == before
    assert not mail.outbox


@pytest.mark.django_db
@REAL_ADAPTER
@override_settings(
    OPEN_EDX_FILTERS_CONFIG={
        "org.openedx.learning.student.registration.requested.v1": {
            "pipeline": [f"{__name__}.StopRegistration"],
            "fail_silently": False,
        }
    }
)
def test_register_user_honours_prevent_registration(tahoe_site, site_admin, completed_events):
    """A ``PreventRegistration`` from the operator's pipeline stops the registration; nothing is written."""
    before = _rows()
    with pytest.raises(RegistrationPrevented) as caught:
        _register(tahoe_site, _make_request(tahoe_site["site"], site_admin), _registration(password=GOOD_PASSWORD))
    assert caught.value.status_code == 403
    assert "Registrations are closed." in caught.value.developer_message
    assert _rows() == before
    assert not User.objects.filter(username="auserton").exists()
    assert not mail.outbox and not completed_events


# The fake adapter keeps in step --------------------------------------------------------------

def _public_functions(module):
    """The public functions defined in ``module`` itself."""
    return {
        name: func
        for name, func in inspect.getmembers(module, inspect.isfunction)
        if not name.startswith("_") and func.__module__ == module.__name__
    }


def test_fake_platform_has_every_adapter_verb_with_the_same_signature():
    """``devlms.fake_platform`` offers each public function of the adapter, with the identical signature."""
    verbs = _public_functions(edxapp)
    assert {"create_account", "announce_registration", "send_activation_email",
            "send_password_reset_email", "email_unique_platform_wide"} <= set(verbs)
    for name, func in verbs.items():
        fake = getattr(fake_platform, name, None)
        assert callable(fake), f"devlms.fake_platform lacks {name}"
        assert inspect.signature(fake) == inspect.signature(func), name


# The extension form, through the platform's loader (the stand-in's: REGISTRATION_EXTENSION_FORM) -----------

EXTENSION_FORM = "devlms.forms.LearnerExtensionForm"


@pytest.mark.django_db
def test_the_extension_form_s_fields_come_from_the_platform_s_loader(settings):
    assert edxapp.extension_field_names() == ()
    settings.REGISTRATION_EXTENSION_FORM = EXTENSION_FORM
    assert edxapp.extension_field_names() == ("company", "title", "department", "employees")


@pytest.mark.django_db
def test_create_account_saves_the_extension_form_s_row_with_the_new_user(tahoe_site, settings):
    settings.REGISTRATION_EXTENSION_FORM = EXTENSION_FORM
    account = edxapp.create_account(_registration(
        extension_fields=(("company", "Example Corp"), ("department", "sales"))), tahoe_site["site"])
    row = LearnerExtension.objects.get(user=account.user)
    assert (row.company, row.department, row.title) == ("Example Corp", "sales", "")


@pytest.mark.django_db
def test_the_extension_form_s_errors_join_the_account_form_s_and_nothing_is_written(tahoe_site, settings):
    settings.REGISTRATION_EXTENSION_FORM = EXTENSION_FORM
    with pytest.raises(InvalidRegistration) as caught:
        edxapp.create_account(_registration(name="Alex <b>", extension_fields=(("department", "hr"),)),
                              tahoe_site["site"])
    assert set(caught.value.field_errors) == {"name", "company", "department"}
    with pytest.raises(InvalidRegistration):
        edxapp.validate_account(_registration(extension_fields=(("company", "x" * 101),)))
    assert _rows()[:4] == (0, 0, 0, 0)


@pytest.mark.django_db
def test_a_plain_extension_form_keeps_its_values_in_the_profile_s_meta(tahoe_site, settings):
    settings.REGISTRATION_EXTENSION_FORM = "devlms.forms.PlainExtensionForm"
    account = edxapp.create_account(_registration(extension_fields=(("company", "Example Corp"),)), tahoe_site["site"])
    assert UserProfile.objects.get(user=account.user).meta == '{"company": "Example Corp", "title": ""}'
