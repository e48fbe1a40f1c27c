"""
Every verb of ``tahoe_registration_api.edxapp`` against the real platform.

Each public function of the adapter is called directly inside the LMS, and its effect is read
back from the platform's own models, signals, outbox and views. The registration's API calls
these verbs while it answers a request of the learner's site; ``on_site`` stands for that request.
"""

from contextlib import contextmanager
from datetime import timedelta
from smtplib import SMTPServerDisconnected

import crum
import pytest
from common.djangoapps.student.models import (
    Registration,
    UserAttribute,
    UserProfile,
    get_retired_email_by_email,
    get_retired_username_by_username,
)
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import get_hasher, identify_hasher
from django.contrib.auth.models import AnonymousUser
from django.contrib.sites.models import Site
from django.core import mail
from django.core.mail.backends import locmem
from django.db import IntegrityError, transaction
from django.test import Client, RequestFactory, override_settings
from django.utils import timezone
from edx_django_utils.cache import RequestCache
from oauth2_provider.models import get_access_token_model, get_application_model
from openedx.core.djangoapps.site_configuration.models import SiteConfiguration
from openedx.core.djangoapps.user_authn.views.password_reset import PasswordResetFormNoActive
from openedx.core.djangoapps.user_authn.views.register import REGISTER_USER
from openedx.core.lib.api.authentication import BearerAuthentication
from rest_framework.exceptions import AuthenticationFailed

from tahoe_registration_api import edxapp, hashing
from tahoe_registration_api.data import RegistrationRequest
from tahoe_registration_api.exceptions import DuplicateAccount, EmailNotDelivered, InvalidRegistration

from conftest import PASSWORD, links, make_user

USERNAME = "auserton"
EMAIL = "alex.userton@example.com"
NAME = "Alex Userton"
NEW_PASSWORD = "An0ther-str0ng-one!"


@pytest.fixture(autouse=True)
def _fresh_request_cache():
    """Each test starts, as each LMS request does, with an empty request cache (the site's configuration)."""
    RequestCache.clear_all_namespaces()
    yield
    crum.set_current_request(None)
    RequestCache.clear_all_namespaces()


@contextmanager
def on_site(site):
    """Run the block as the LMS runs a request of ``site`` (a TahoeSite): the current request, its site."""
    request = RequestFactory().post("/tahoe/api/v1/registrations/", HTTP_HOST=site.domain)
    request.site = site.site
    request.user = AnonymousUser()
    RequestCache.clear_all_namespaces()
    crum.set_current_request(request)
    try:
        yield request
    finally:
        crum.set_current_request(None)
        RequestCache.clear_all_namespaces()


def registration(**overrides):
    """A registration as the API's serializer builds it (``to_registration``), by default without a password."""
    fields = {"username": USERNAME, "email": EMAIL, "name": NAME}
    fields.update(overrides)
    return RegistrationRequest(**fields)


def create(site, **overrides):
    """Create an account on ``site`` (a TahoeSite) inside a transaction, as ``api.register_user`` does."""
    with transaction.atomic():
        return edxapp.create_account(registration(**overrides), site.site)


def reloaded(user):
    """The user as stored now."""
    return get_user_model().objects.get(pk=user.pk)


def existing_learner(username, site, email):
    """A learner of ``site`` already registered with ``email``."""
    user = make_user(username, site)
    user.email = email
    user.save()
    return user


def users_named(username):
    """How many users have this username."""
    return get_user_model().objects.filter(username=username).count()


# create_account


def test_create_account_with_a_password_makes_an_inactive_learner_with_the_platforms_records(alpha):
    """A learner with a password: inactive, the password hashed, profile, activation key and created_on_site."""
    account = create(alpha, password=PASSWORD)

    user = reloaded(account.user)
    assert (user.username, user.email, user.is_active) == (USERNAME, EMAIL, False)
    assert user.password != PASSWORD
    assert identify_hasher(user.password).algorithm == get_hasher().algorithm  # the LMS's first hasher
    assert user.check_password(PASSWORD)
    assert not user.check_password(PASSWORD.upper())
    assert UserProfile.objects.get(user=user).name == NAME
    activation = Registration.objects.get(user=user)
    assert len(activation.activation_key) == 32 and activation.activation_timestamp is None
    assert UserAttribute.get_user_attribute(user, "created_on_site") == alpha.domain
    assert account.platform_records["profile"].pk == UserProfile.objects.get(user=user).pk
    assert account.platform_records["registration"].pk == activation.pk


def test_a_password_hashed_ahead_in_a_thread_is_the_hash_the_platform_stores(alpha):
    """The hash started before the account (the platform's policy passed) is stored, made by the LMS's hasher."""
    pending = edxapp.hash_password_ahead(registration(password=f"  {PASSWORD} "))  # the form strips the password
    with hashing.ahead(pending):
        account = create(alpha, password=f"  {PASSWORD} ")
    user = reloaded(account.user)
    assert pending.raw == PASSWORD and user.password == pending.future.result()
    assert identify_hasher(user.password).algorithm == get_hasher().algorithm and user.check_password(PASSWORD)


def test_a_password_the_platforms_policy_refuses_for_this_learner_is_not_hashed_ahead():
    """The platform's similarity rule (the learner's own username as password) is checked before any hash."""
    assert edxapp.hash_password_ahead(registration(username="gracehopper1906", password="gracehopper1906")) is None
    assert edxapp.hash_password_ahead(registration()) is None  # no password, no hash


def test_create_account_without_a_password_stores_an_unusable_but_resettable_value(alpha):
    """A passwordless learner: no password matches, yet the platform's "forgot password" form accepts them."""
    account = create(alpha)

    user = reloaded(account.user)
    assert user.password.startswith(edxapp.UNSET_PASSWORD_PREFIX)
    assert not user.is_active
    assert not any(user.check_password(candidate) for candidate in ("", PASSWORD, user.password))
    assert user.has_usable_password()  # the platform treats "!" passwords as disabled by an admin
    reset_form = PasswordResetFormNoActive(data={"email": EMAIL})
    assert reset_form.is_valid(), reset_form.errors
    assert list(reset_form.users_cache) == [user]


def test_create_account_activates_a_learner_with_a_password_and_no_email_wanted(alpha):
    """With a password and ``send_activation_email=False`` the learner is active and the activation recorded."""
    account = create(alpha, password=PASSWORD, send_activation_email=False)

    assert reloaded(account.user).is_active
    assert Registration.objects.get(user=account.user).activation_timestamp is not None


def test_create_account_never_activates_a_passwordless_learner(alpha):
    """Without a password the learner stays inactive whatever ``send_activation_email`` says."""
    account = create(alpha, send_activation_email=False)

    assert not reloaded(account.user).is_active
    assert Registration.objects.get(user=account.user).activation_timestamp is None


def test_create_account_on_the_lms_default_site_writes_no_created_on_site(transactional_db):
    """As the platform does, the default site (``SITE_ID``) is not recorded as the site of creation."""
    default_site = Site.objects.get(id=settings.SITE_ID)
    with transaction.atomic():
        account = edxapp.create_account(registration(password=PASSWORD), default_site)

    assert UserAttribute.get_user_attribute(account.user, "created_on_site") is None


def test_create_account_refuses_an_email_taken_on_any_site(alpha, beta):
    """An email used by a learner of another site is a DuplicateAccount on ``email``; nothing is written."""
    existing_learner("someone_else", beta, EMAIL)

    with pytest.raises(DuplicateAccount) as refused:
        create(alpha, password=PASSWORD)

    assert refused.value.fields == ("email",)
    assert users_named(USERNAME) == 0


def test_create_account_refuses_a_taken_username_and_email_together(alpha):
    """A registration repeating an existing learner's username and email names both fields."""
    existing_learner(USERNAME, alpha, EMAIL)

    with pytest.raises(DuplicateAccount) as refused:
        create(alpha, password=PASSWORD)

    assert refused.value.fields == ("email", "username")
    assert get_user_model().objects.filter(email=EMAIL).count() == 1


def test_create_account_leaves_a_taken_username_alone_to_the_unique_index(alpha):
    """A taken username with a fresh email passes the platform's form; the user row's unique index refuses it."""
    # The platform's form checks no username for existence. api.register_user finds such a username
    # first (``_conflicts``) and retries on this IntegrityError, so the caller gets a 409 all the same.
    make_user(USERNAME, alpha)

    with pytest.raises(IntegrityError):
        create(alpha, password=PASSWORD)

    assert users_named(USERNAME) == 1
    assert not get_user_model().objects.filter(email=EMAIL).exists()


def test_create_account_refuses_a_retired_username(alpha):
    """A username whose owner was retired (the platform's retired hash) is a DuplicateAccount on ``username``."""
    retired = make_user("gone_learner")
    retired.username = get_retired_username_by_username(USERNAME)
    retired.save()

    with pytest.raises(DuplicateAccount) as refused:
        create(alpha, password=PASSWORD)

    assert refused.value.fields == ("username",)
    assert users_named(USERNAME) == 0


def test_create_account_refuses_a_retired_email(alpha):
    """An email whose owner was retired (the platform's retired hash) is a DuplicateAccount on ``email``."""
    retired = make_user("gone_learner")
    retired.email = get_retired_email_by_email(EMAIL)
    retired.save()

    with pytest.raises(DuplicateAccount) as refused:
        create(alpha, password=PASSWORD)

    assert refused.value.fields == ("email",)
    assert users_named(USERNAME) == 0


def test_create_account_refuses_a_password_the_lms_policy_refuses(alpha):
    """A password under the LMS's minimum length is an InvalidRegistration naming ``password``."""
    with pytest.raises(InvalidRegistration) as refused:
        create(alpha, password="Sh0rt!")

    assert set(refused.value.field_errors) == {"password"}
    assert "8" in refused.value.field_errors["password"]
    assert users_named(USERNAME) == 0


def test_create_account_refuses_a_password_like_the_username(alpha):
    """The LMS's similarity validator applies: a password too like the username names ``password``."""
    with pytest.raises(InvalidRegistration) as refused:
        create(alpha, username="learner_alpha_one", password="learner_alpha_one")

    assert set(refused.value.field_errors) == {"password"}
    assert users_named("learner_alpha_one") == 0


def test_create_account_refuses_what_the_platforms_form_refuses_by_field(alpha):
    """A username and an email the platform's form refuses are an InvalidRegistration naming both."""
    with pytest.raises(InvalidRegistration) as refused:
        create(alpha, username="no spaces allowed here", email="not-an-email")

    assert set(refused.value.field_errors) == {"username", "email"}


# announce_registration


def test_announce_registration_sends_the_platforms_register_user_signal_once(alpha):
    """REGISTER_USER reaches its receivers once, with the learner and their activation record."""
    account = create(alpha, password=PASSWORD)
    received = []

    def receiver(**kwargs):
        """Record one signal."""
        received.append(kwargs)

    REGISTER_USER.connect(receiver, weak=False)
    try:
        edxapp.announce_registration(account)
    finally:
        REGISTER_USER.disconnect(receiver)

    assert len(received) == 1
    assert received[0]["user"] == account.user
    assert received[0]["registration"].activation_key == Registration.objects.get(user=account.user).activation_key


# send_activation_email


def test_send_activation_email_sends_one_email_whose_link_activates_the_learner_on_the_site(alpha):
    """One email, from the site's address, whose activation link is the site's and activates the learner."""
    account = create(alpha, password=PASSWORD)
    with on_site(alpha):
        edxapp.send_activation_email(account.user, alpha.site)

    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == [EMAIL]
    assert email.from_email == "learning@alpha.localhost"
    assert "Alpha Academy" in email.subject
    key = Registration.objects.get(user=account.user).activation_key
    activation_link = f"http://alpha.localhost/activate/{key}"
    assert activation_link in links(email.body)

    response = Client().get(activation_link.removeprefix("http://alpha.localhost"), HTTP_HOST=alpha.domain)

    assert response.status_code in (200, 302)
    assert reloaded(account.user).is_active


def test_send_activation_email_outside_a_request_of_the_site_still_brands_it_for_the_site(alpha):
    """Called with no request (as on a Celery worker), the email is still the site's."""
    account = create(alpha, password=PASSWORD)
    edxapp.send_activation_email(account.user, alpha.site)

    assert len(mail.outbox) == 1
    key = Registration.objects.get(user=account.user).activation_key
    assert f"http://alpha.localhost/activate/{key}" in links(mail.outbox[0].body)
    assert mail.outbox[0].from_email == "learning@alpha.localhost"


# send_password_reset_email


def test_send_password_reset_email_sends_the_platforms_reset_email_whose_link_works(alpha):
    """The reset email's link is the site's; through the LMS it opens, sets a password and activates the learner."""
    account = create(alpha)
    with on_site(alpha):
        edxapp.send_password_reset_email(account.user, alpha.site, False)

    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == [EMAIL]
    assert email.from_email == "learning@alpha.localhost"
    assert "Alpha Academy" in email.subject
    reset_links = [link for link in links(email.body) if "/password_reset_confirm/" in link]
    assert len(reset_links) == 1 and reset_links[0].startswith("http://alpha.localhost/password_reset_confirm/")

    browser = Client()
    opened = browser.get(reset_links[0].removeprefix("http://alpha.localhost"), HTTP_HOST=alpha.domain, follow=True)
    assert opened.status_code == 200
    assert opened.context_data["validlink"] is True
    assert reloaded(account.user).is_active  # the platform activates a learner who opens a valid link
    set_password_path = opened.redirect_chain[-1][0]
    done = browser.post(set_password_path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
                        HTTP_HOST=alpha.domain)

    assert done.status_code == 302
    learner = reloaded(account.user)
    assert learner.is_active
    assert learner.check_password(NEW_PASSWORD)


def test_send_password_reset_email_without_any_request_links_over_the_scheme_it_is_given(alpha):
    """Called with no request at all (as on a Celery worker), the email leaves, its link over HTTPS if told so."""
    account = create(alpha)
    edxapp.send_password_reset_email(account.user, alpha.site, True)

    assert len(mail.outbox) == 1
    reset_links = [link for link in links(mail.outbox[0].body) if "/password_reset_confirm/" in link]
    assert len(reset_links) == 1 and reset_links[0].startswith("https://alpha.localhost/password_reset_confirm/")


@pytest.mark.parametrize("send", [
    edxapp.send_activation_email,
    lambda user, site: edxapp.send_password_reset_email(user, site, True),
], ids=["activation", "password-reset"])
def test_an_smtp_error_swallowed_by_ace_is_reported_as_not_delivered(alpha, monkeypatch, send):
    """ACE's email channel logs an SMTP error and returns; the adapter raises, so the email task retries."""
    account = create(alpha, password=PASSWORD)

    def disconnected(self, messages):
        raise SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", disconnected)
    with pytest.raises(EmailNotDelivered):
        send(account.user, alpha.site)
    assert not mail.outbox


# unset_password_value


def test_unset_password_value_matches_no_password_and_is_never_the_same(transactional_db):
    """A value no hasher knows, never starting with "!", different each time, that no password matches."""
    first, second = edxapp.unset_password_value(), edxapp.unset_password_value()

    assert first != second
    assert first.startswith(edxapp.UNSET_PASSWORD_PREFIX) and not first.startswith("!")
    with pytest.raises(ValueError):
        identify_hasher(first)
    user = make_user("unset_one")
    user.password = first
    user.save()
    user = reloaded(user)
    assert user.has_usable_password()
    assert not user.check_password(first)
    assert not user.check_password(first.removeprefix(edxapp.UNSET_PASSWORD_PREFIX))


# email_unique_platform_wide


def test_email_unique_platform_wide_by_default():
    """Upstream Open edX refuses an email used on any site."""
    assert edxapp.email_unique_platform_wide() is True


def test_email_unique_platform_wide_not_under_appsembler_multi_tenant_emails():
    """The Tahoe fork's APPSEMBLER_MULTI_TENANT_EMAILS (in FEATURES, or top-level since Ulmo) scopes emails."""
    with override_settings(FEATURES={**settings.FEATURES, "APPSEMBLER_MULTI_TENANT_EMAILS": True}):
        assert edxapp.email_unique_platform_wide() is False
    with override_settings(APPSEMBLER_MULTI_TENANT_EMAILS=True):
        assert edxapp.email_unique_platform_wide() is False


# site_configuration_value


def test_site_configuration_value_reads_the_sites_configuration(alpha, beta):
    """Each site's SiteConfiguration answers for it; a missing value is the default."""
    assert edxapp.site_configuration_value(alpha.site, "PLATFORM_NAME") == "Alpha Academy"
    assert edxapp.site_configuration_value(beta.site, "PLATFORM_NAME") == "Beta Institute"
    assert edxapp.site_configuration_value(alpha.site, "NOT_CONFIGURED", "fallback") == "fallback"
    assert edxapp.site_configuration_value(alpha.site, "NOT_CONFIGURED") is None


def test_site_configuration_value_is_the_default_without_a_configuration_or_when_disabled(alpha):
    """A site without a SiteConfiguration, or with a disabled one, gives the default."""
    bare = Site.objects.create(domain="bare.localhost", name="bare.localhost")
    assert edxapp.site_configuration_value(bare, "PLATFORM_NAME", "LMS default") == "LMS default"

    SiteConfiguration.objects.filter(site=alpha.site).update(enabled=False)
    assert edxapp.site_configuration_value(Site.objects.get(pk=alpha.site.pk), "PLATFORM_NAME", "off") == "off"


# bearer_authentication


def access_token(user, expires_in=timedelta(hours=1)):
    """A django-oauth-toolkit access token of ``user``, as the LMS's /oauth2/access_token mints them."""
    application = get_application_model().objects.create(
        name="tahoe-client", user=user, client_type="confidential", authorization_grant_type="client-credentials",
    )
    return get_access_token_model().objects.create(
        user=user, application=application, token=f"token-of-{user.username}", scope="read write",
        expires=timezone.now() + expires_in,
    )


def bearer_request(token):
    """A request carrying ``Authorization: Bearer <token>``."""
    return RequestFactory().post("/", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_bearer_authentication_authenticates_a_django_oauth_toolkit_token(alpha):
    """The platform's own BearerAuthentication: a valid token authenticates its user."""
    admin = make_user("alpha_admin", alpha, is_admin=True)
    token = access_token(admin)

    authentication = edxapp.bearer_authentication()

    assert isinstance(authentication, BearerAuthentication)
    user, used_token = authentication.authenticate(bearer_request(token.token))
    assert (user.pk, used_token.pk) == (admin.pk, token.pk)


def test_bearer_authentication_refuses_unknown_and_expired_tokens_and_ignores_other_schemes(alpha):
    """An unknown or expired token fails; a ``Token`` header is left to other authentications."""
    admin = make_user("alpha_admin", alpha, is_admin=True)
    expired = access_token(admin, expires_in=-timedelta(minutes=1))
    authentication = edxapp.bearer_authentication()

    with pytest.raises(AuthenticationFailed):
        authentication.authenticate(bearer_request("no-such-token"))
    with pytest.raises(AuthenticationFailed):
        authentication.authenticate(bearer_request(expired.token))
    assert authentication.authenticate(RequestFactory().post("/", HTTP_AUTHORIZATION="Token abc")) is None
