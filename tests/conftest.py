"""The cast of the tests: two Tahoe sites, their admins, a learner, and an API client per caller."""

import time as real_time

import django_ratelimit.core
import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import TestCase
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from tahoe_sites.api import add_user_to_organization, create_tahoe_site

from devlms import fake_platform
from devlms.middleware import SITES_BY_HOST

REGISTRATIONS_URL = "/tahoe/api/v1/registrations/"
REGISTRATIONS_V2_URL = "/tahoe/api/v2/registrations/"


class Site:
    """A Tahoe site of the tests: domain, site, organization."""

    def __init__(self, domain, short_name):
        created = create_tahoe_site(domain=domain, short_name=short_name)
        self.domain = domain
        self.site = created["site"]
        self.organization = created["organization"]


def make_user(username, site=None, is_admin=False, is_active=True, **extra):
    """Create a user, optionally a member (or admin) of a site's organization."""
    user = get_user_model().objects.create_user(
        username=username, email=f"{username}@example.com", password="not-used-1234", is_active=is_active, **extra
    )
    if site is not None:
        add_user_to_organization(user, site.organization, is_admin=is_admin)
    return user


class Caller:
    """An API client that speaks to one site as one user (or anonymously)."""

    def __init__(self, user=None, token=None):
        self.user = user
        self.client = APIClient()
        if token is None and user is not None:
            token = Token.objects.get_or_create(user=user)[0].key
        self.token = token
        if token is not None:
            self.client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    def register(self, site, body=None, fmt="json", url=REGISTRATIONS_URL, **kwargs):
        """POST a registration to ``site`` (a Site, or a bare host name), to v1 unless ``url`` says otherwise."""
        host = site.domain if isinstance(site, Site) else site
        # Inside a test's transaction, run what waits for the commit once the request is done.
        with TestCase.captureOnCommitCallbacks(execute=True):
            return self.client.post(url, body if body is not None else {}, format=fmt,
                                    HTTP_HOST=host, **kwargs)


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
    """Each test starts with no announced registration and no rate counted."""
    fake_platform.ANNOUNCED.clear()
    cache.clear()
    SITES_BY_HOST.clear()


@pytest.fixture
def alpha(db):  # pylint: disable=unused-argument
    """The site alpha.localhost."""
    return Site("alpha.localhost", "alpha")


@pytest.fixture
def beta(db):  # pylint: disable=unused-argument
    """The site beta.localhost."""
    return Site("beta.localhost", "beta")


@pytest.fixture
def alpha_admin(alpha):
    """An active admin of alpha."""
    return Caller(make_user("alpha_admin", alpha, is_admin=True))


@pytest.fixture
def beta_admin(beta):
    """An active admin of beta."""
    return Caller(make_user("beta_admin", beta, is_admin=True))


@pytest.fixture
def alpha_learner(alpha):
    """A learner (non-admin member) of alpha."""
    return Caller(make_user("alpha_learner", alpha))


@pytest.fixture
def cast(alpha, beta):
    """Every role of the access matrices, as users."""
    return {
        "alpha admin": make_user("alpha_admin", alpha, is_admin=True),
        "beta admin": make_user("beta_admin", beta, is_admin=True),
        "alpha learner": make_user("alpha_learner", alpha),
        "inactive alpha admin": make_user("old_admin", alpha, is_admin=True, is_active=False),
        "staff": make_user("staffer", is_staff=True),
        "superuser": make_user("root", is_staff=True, is_superuser=True),
    }


@pytest.fixture
def anonymous():
    """A caller without credentials."""
    return Caller()


def learner_body(**overrides):
    """A valid registration body, as in the contract's example."""
    body = {"username": "auserton", "email": "alex.userton@example.com", "name": "Alex Userton"}
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


def on_mariadb():
    """Whether the suite runs on MariaDB/MySQL (``make test`` runs it on sqlite, then on MariaDB)."""
    from django.db import connection

    return connection.vendor == "mysql"


def pytest_collection_modifyitems(config, items):
    """Leave the MariaDB-only tests out of the sqlite run (they run in the MariaDB run, never skipped)."""
    if on_mariadb():
        return
    deselected = [item for item in items if item.get_closest_marker("mariadb")]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker("mariadb")]
