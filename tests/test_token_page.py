"""The token page on the development LMS: who sees it, each change, CSRF, the key shown once, the activity."""

import logging
import re

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import URLPattern
from rest_framework.authtoken.models import Token

from devlms.models import SiteConfiguration
from tahoe_registration_api.models import AuditEntry
from tahoe_registration_api.pages import urls as page_urls
from tests.conftest import Caller, learner_body, make_user

PAGE = "/tahoe/api/token/"
ACTIONS = {"view": ("get", PAGE), "create": ("post", f"{PAGE}create/"),
           "rotate": ("post", f"{PAGE}rotate/"), "revoke": ("post", f"{PAGE}revoke/")}
ROLES = ("alpha admin", "beta admin", "alpha learner", "inactive alpha admin", "staff", "superuser")
CSRF = "b" * 32


@pytest.fixture
def cast(cast):  # pylint: disable=redefined-outer-name
    """Every role of the access matrix (tests/conftest.py), each with a token."""
    for user in cast.values():
        Token.objects.create(user=user)
    return cast


def browser(user=None, csrf=True):
    """A client as a browser: signed in as ``user``, CSRF checked, holding the CSRF cookie its forms carry."""
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    if csrf:
        client.cookies[django_settings.CSRF_COOKIE_NAME] = CSRF
    return client


def act(client, site, action, csrf=True):
    method, path = ACTIONS[action]
    if method == "get":
        return client.get(path, HTTP_HOST=site.domain)
    return client.post(path, {"csrfmiddlewaretoken": CSRF} if csrf else {}, HTTP_HOST=site.domain)


def expected(role, action, staff_allowed):
    """The answer of the matrix's cell (every user has a token)."""
    if role == "inactive alpha admin":
        return 302  # not signed in: the sign-in page
    if role == "alpha admin" or (staff_allowed and role in ("staff", "superuser")):
        return {"view": 200, "create": 409, "rotate": 200, "revoke": 200}[action]
    return 403


@pytest.mark.parametrize("staff_allowed", [False, True])
@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("role", ROLES)
def test_every_role_and_action(cast, alpha, settings, role, action, staff_allowed):
    settings.TAHOE_REGISTRATION_API_ALLOW_STAFF = staff_allowed
    user = cast[role]
    before = Token.objects.get(user=user).key
    response = act(browser(user), alpha, action)
    status = expected(role, action, staff_allowed)
    assert response.status_code == status, response.content[:300]
    token = Token.objects.filter(user=user).first()
    changed = status == 200 and action in ("rotate", "revoke")
    assert (token is None or token.key != before) == changed
    if status == 403:
        assert b"You cannot manage the API token of this site" in response.content
    assert AuditEntry.objects.filter(action__startswith="token_").count() == int(changed)


@pytest.mark.parametrize("pattern", [p for p in page_urls.urlpatterns if isinstance(p, URLPattern)],
                         ids=lambda p: p.name)
def test_every_page_sends_a_visitor_to_the_sign_in_page_and_back(alpha, pattern):
    path = f"{PAGE}{pattern.pattern}"
    method = "get" if pattern.name == "token-page" else "post"
    response = getattr(Client(), method)(path, HTTP_HOST=alpha.domain)
    assert response.status_code == 302
    assert response["Location"] == f"/login?next={path}"


@pytest.mark.parametrize("action", ["create", "rotate", "revoke"])
def test_a_change_without_the_csrf_token_is_refused(cast, alpha, action):
    admin = cast["alpha admin"]
    if action == "create":
        Token.objects.filter(user=admin).delete()
    before = list(Token.objects.filter(user=admin).values_list("key", flat=True))
    for client, data in ((browser(admin, csrf=False), {}), (browser(admin), {"csrfmiddlewaretoken": "c" * 32})):
        response = client.post(ACTIONS[action][1], data, HTTP_HOST=alpha.domain)
        assert response.status_code == 403
    assert list(Token.objects.filter(user=admin).values_list("key", flat=True)) == before
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("action,method", [("view", "post"), ("create", "get"), ("rotate", "get"), ("revoke", "get")])
def test_each_page_takes_only_its_method(cast, alpha, action, method):
    data = {"csrfmiddlewaretoken": CSRF} if method == "post" else {}
    response = getattr(browser(cast["alpha admin"]), method)(ACTIONS[action][1], data, HTTP_HOST=alpha.domain)
    assert response.status_code == 405


def test_the_key_is_shown_once_then_only_its_last_four_characters(alpha, caplog):
    admin = make_user("alpha_admin", alpha, is_admin=True)
    client = browser(admin)
    page = act(client, alpha, "view").content.decode()
    assert "You have no token" in page and "Create a token" in page
    with caplog.at_level(logging.DEBUG):
        created = act(client, alpha, "create")
    key = Token.objects.get(user=admin).key
    assert created.status_code == 200 and created["Cache-Control"] == "no-store"
    assert f'value="{key}"' in created.content.decode() and "Copy the key" in created.content.decode()
    again = act(client, alpha, "view")
    assert key not in again.content.decode() and f"ends in <code>{key[-4:]}</code>" in again.content.decode()
    assert "Cache-Control" not in again
    assert not [record for record in caplog.records if key in record.getMessage() or key in str(record.__dict__)]
    (entry,) = AuditEntry.objects.all()
    assert (entry.action, entry.outcome, entry.caller_id, entry.site_id) == (
        "token_created", "created", admin.pk, alpha.site.pk)


def test_a_second_create_and_a_rotation_without_a_token_are_409(alpha):
    admin = make_user("alpha_admin", alpha, is_admin=True)
    client = browser(admin)
    assert act(client, alpha, "rotate").status_code == 409
    assert not Token.objects.filter(user=admin).exists()
    assert act(client, alpha, "create").status_code == 200
    key = Token.objects.get(user=admin).key
    conflict = act(client, alpha, "create")
    assert conflict.status_code == 409 and key not in conflict.content.decode()
    assert Token.objects.get(user=admin).key == key
    assert act(client, alpha, "revoke").status_code == 200
    nothing = act(client, alpha, "revoke")
    assert nothing.status_code == 200 and b"You have no token." in nothing.content
    assert list(AuditEntry.objects.order_by("pk").values_list("action", flat=True)) == [
        "token_created", "token_revoked"]


def test_a_rotated_key_is_refused_by_the_api_and_its_replacement_accepted(cast, alpha):
    admin = cast["alpha admin"]
    old = Token.objects.get(user=admin).key
    rotated = act(browser(admin), alpha, "rotate")
    new = Token.objects.get(user=admin).key
    assert new != old and f'value="{new}"' in rotated.content.decode()
    assert Caller(token=old).register(alpha, learner_body()).status_code == 401
    assert Caller(token=new).register(alpha, learner_body()).status_code == 200


def test_a_revoked_key_is_refused_by_the_api(cast, alpha):
    admin = cast["alpha admin"]
    old = Token.objects.get(user=admin).key
    assert act(browser(admin), alpha, "revoke").status_code == 200
    assert Caller(token=old).register(alpha, learner_body()).status_code == 401


def activity_rows(response):
    return re.findall(r"<tr>\s*<td><time[^>]*>[^<]*</time></td>(.*?)</tr>", response.content.decode(), re.S)


def test_the_activity_is_the_sites_last_100_calls_newest_first_by_25(cast, alpha, beta, settings):
    settings.TAHOE_REGISTRATION_API_RATE = None
    admin = Caller(cast["alpha admin"])
    for i in range(103):
        assert admin.register(alpha, learner_body(username=f"l{i}", email=f"l{i}@example.com")).status_code == 200
    Caller(cast["beta admin"]).register(beta, learner_body(username="beta1", email="b@example.com"))
    assert admin.register(alpha, learner_body(username="l0")).status_code == 409
    client = browser(cast["alpha admin"])
    act(client, alpha, "rotate")  # a token change: in the store, not among the API calls
    pages = [client.get(PAGE, {"page": n}, HTTP_HOST=alpha.domain) for n in (1, 2, 3, 4, 5)]
    rows = [row for page in pages[:4] for row in activity_rows(page)]
    assert len(rows) == 100 and [len(activity_rows(page)) for page in pages] == [25, 25, 25, 25, 25]
    assert "409" in rows[0] and "duplicate-username" in rows[0] and "alpha_admin" in rows[0]
    newest_learner = AuditEntry.objects.filter(action="register", status=200, site_id=alpha.site.pk).latest(
        "pk").learner_id
    assert f"<td>{newest_learner}</td>" in rows[1]
    assert not any("beta" in row or "token_" in row or "@example.com" in row for row in rows)
    assert "page 1 of 4" in pages[0].content.decode() and 'rel="next"' in pages[0].content.decode()
    assert "page 4 of 4" in pages[4].content.decode()  # past the end: the last page


def test_the_page_says_when_the_api_is_switched_off_for_the_site(cast, alpha):
    SiteConfiguration.objects.create(site=alpha.site, enabled=True,
                                     site_values={"TAHOE_REGISTRATION_API_ENABLED": False})
    page = act(browser(cast["alpha admin"]), alpha, "view")
    assert page.status_code == 200 and b"switched off" in page.content


def test_the_page_gives_a_ready_curl_for_the_site_with_a_placeholder_for_the_key(cast, alpha):
    page = act(browser(cast["alpha admin"]), alpha, "view").content.decode()
    assert "curl -X POST http://alpha.localhost/tahoe/api/v1/registrations/" in page
    assert "Authorization: Token &lt;your-token&gt;" in page


def test_a_host_that_names_no_tahoe_site_is_a_403_page(cast, db):  # pylint: disable=unused-argument
    response = browser(cast["alpha admin"]).get(PAGE, HTTP_HOST="unknown.localhost")
    assert response.status_code == 403 and b"You cannot manage" in response.content
