"""
The cast of the platform suite: two Tahoe sites of a real LMS, each branded by its own
SiteConfiguration, their admins with API tokens, a learner, and an HTTP client into the LMS.

Tests run in real transactions (``transaction=True``): the plugin commits and then sends its
emails and events, exactly as in the LMS, where the registration view is not atomic.
"""

import re
import time as real_time

import django_ratelimit.core
import pytest
from django.contrib.auth import get_user_model
from django.contrib.sites.models import Site
from django.core import mail
from django.core.cache import caches
from django.test import Client
from openedx.core.djangoapps.site_configuration.models import SiteConfiguration
from rest_framework.authtoken.models import Token
from tahoe_sites.api import add_user_to_organization, create_tahoe_site

REGISTRATIONS_URL = "/tahoe/api/v1/registrations/"
REGISTRATIONS_V2_URL = "/tahoe/api/v2/registrations/"
PLATFORM_REGISTRATION_URL = "/api/user/v2/account/registration/"
PASSWORD = "Str0ng-enough-pw!"


# Each site names itself everywhere an email could show a site: a mention of the other site,
# of the LMS's defaults (example.com, edx.org, localhost:8000) in one site's email is a bug.
def brand(domain, platform_name, from_address):
    """A site's configuration: the values a Tahoe site sets to name itself in its emails."""
    root = f"http://{domain}"
    return {
        "SITE_NAME": domain,
        "LMS_ROOT_URL": root,
        "PLATFORM_NAME": platform_name,
        "email_from_address": from_address,
        "CONTACT_EMAIL": f"help@{domain}",
        "contact_email": f"help@{domain}",
        "contact_mailing_address": f"{platform_name}, 1 Campus Road",
        "ACTIVATION_EMAIL_SUPPORT_LINK": f"{root}/support",
        "SOCIAL_MEDIA_FOOTER_ACE_URLS": {"linkedin": f"{root}/community/linkedin"},
        "SOCIAL_MEDIA_LOGO_URLS": {"linkedin": f"{root}/static/linkedin.png"},
        "MOBILE_STORE_ACE_URLS": {"apple": f"{root}/mobile/ios"},
        "MOBILE_STORE_LOGO_URLS": {"apple": f"{root}/static/ios.png"},
        "TAHOE_REGISTRATION_API_ENABLED": True,
    }


BRANDS = {
    "alpha": brand("alpha.localhost", "Alpha Academy", "learning@alpha.localhost"),
    "beta": brand("beta.localhost", "Beta Institute", "courses@beta.localhost"),
}


class TahoeSite:
    """A Tahoe site of the LMS: Site, SiteConfiguration, tahoe-sites organization."""

    def __init__(self, short_name):
        domain = f"{short_name}.localhost"
        created = create_tahoe_site(domain=domain, short_name=short_name)
        self.short_name = short_name
        self.domain = domain
        self.site = created["site"]
        self.organization = created["organization"]
        self.configuration = SiteConfiguration.objects.create(
            site=self.site, enabled=True, site_values=dict(BRANDS[short_name])
        )


def make_user(username, site=None, is_admin=False, is_active=True, **extra):
    """Create a user of the LMS, optionally a member (or admin) of a site's organization."""
    user = get_user_model().objects.create_user(
        username=username, email=f"{username}@example.org", password=PASSWORD, is_active=is_active, **extra
    )
    if site is not None:
        add_user_to_organization(user, site.organization, is_admin=is_admin)
    return user


class Caller:
    """An HTTP client into the LMS, speaking as one user with one kind of credentials."""

    def __init__(self, user=None, authorization=None, enforce_csrf_checks=False):
        self.user = user
        self.client = Client(enforce_csrf_checks=enforce_csrf_checks)
        if authorization is None and user is not None:
            authorization = f"Token {Token.objects.get_or_create(user=user)[0].key}"
        self.authorization = authorization

    def headers(self, host, extra):
        """The request's headers: its Host and credentials."""
        headers = {"HTTP_HOST": host}
        if self.authorization:
            headers["HTTP_AUTHORIZATION"] = self.authorization
        headers.update(extra)
        return headers

    def register(self, site, body=None, url=REGISTRATIONS_URL, **extra):
        """POST a JSON registration to ``site`` (a TahoeSite, or a bare Host header), to v1 unless ``url``."""
        host = site.domain if isinstance(site, TahoeSite) else site
        return self.client.post(url, body if body is not None else {},
                                content_type="application/json", **self.headers(host, extra))

    def request(self, method, site, path=REGISTRATIONS_URL, **extra):
        """Send any method to a path of ``site``."""
        host = site.domain if isinstance(site, TahoeSite) else site
        return getattr(self.client, method.lower())(path, **self.headers(host, extra))


class StoppedClock:
    """django-ratelimit's clock, stopped for one test: a fixed window never turns over between its requests."""

    def __init__(self):
        self.now = real_time.time()

    def time(self):
        """The test's one instant."""
        return self.now


@pytest.fixture(autouse=True)
def _rate_windows_hold_still(monkeypatch):
    """
    Keep each test inside one rate-limit window (counting "2/m" across a minute's turn would restart at 0).

    Only django-ratelimit's own ``time`` is replaced; every other clock runs.
    """
    monkeypatch.setattr(django_ratelimit.core, "time", StoppedClock())


@pytest.fixture(autouse=True)
def _fresh_start():
    """Each test starts with empty caches (rate counts, cached sites) and an empty outbox."""
    for cache in caches.all():
        cache.clear()
    Site.objects.clear_cache()
    mail.outbox = []


@pytest.fixture(autouse=True)
def _no_webpack_bundles(monkeypatch):
    """The LMS's templates render without built front-end assets, as in the platform's own tests."""
    for target in ("webpack_loader.templatetags.webpack_loader.render_bundle",):
        monkeypatch.setattr(target, lambda *args, **kwargs: "")
    for target in ("webpack_loader.utils.get_as_tags", "webpack_loader.utils.get_files"):
        monkeypatch.setattr(target, lambda *args, **kwargs: [])


@pytest.fixture
def alpha(transactional_db):  # pylint: disable=unused-argument
    """The site alpha.localhost, branded "Alpha Academy"."""
    return TahoeSite("alpha")


@pytest.fixture
def beta(transactional_db):  # pylint: disable=unused-argument
    """The site beta.localhost, branded "Beta Institute"."""
    return TahoeSite("beta")


@pytest.fixture
def alpha_admin(alpha):
    """An active admin of alpha, calling with its API token."""
    return Caller(make_user("alpha_admin", alpha, is_admin=True))


@pytest.fixture
def beta_admin(beta):
    """An active admin of beta, calling with its API token."""
    return Caller(make_user("beta_admin", beta, is_admin=True))


@pytest.fixture
def alpha_learner(alpha):
    """A learner (non-admin member) of alpha."""
    return Caller(make_user("alpha_learner", alpha))


@pytest.fixture
def anonymous(transactional_db):  # pylint: disable=unused-argument
    """A caller without credentials."""
    return Caller()


def learner_body(**overrides):
    """A valid registration body, as in the contract's example."""
    body = {"username": "auserton", "email": "alex.userton@example.com", "name": "Alex Userton"}
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


def links(text):
    """Every URL in an email's text."""
    return re.findall(r"https?://[^\s\"'<>)]+", text)
