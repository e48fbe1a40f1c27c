"""
The token page inside the LMS: its sign-in redirect, its CSRF middleware, its templates and sessions.

Every role against every action of the page; CSRF refused; a rotated key refused by the API and
its replacement accepted; the audit store's activity and retention purge, on the LMS's database.
"""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from tahoe_registration_api import audit
from tahoe_registration_api.models import AuditEntry

from conftest import PASSWORD, Caller, learner_body, make_user

PAGE = "/tahoe/api/token/"
ACTIONS = {  # action: (method, path)
    "view": ("get", PAGE),
    "create": ("post", f"{PAGE}create/"),
    "rotate": ("post", f"{PAGE}rotate/"),
    "revoke": ("post", f"{PAGE}revoke/"),
}
ROLES = ("alpha admin", "beta admin", "alpha learner", "staff", "superuser")


@pytest.fixture
def cast(alpha, beta):
    """The users of the role matrix, each signed in through the LMS's own authentication, with a token."""
    users = {
        "alpha admin": make_user("alpha_admin", alpha, is_admin=True),
        "beta admin": make_user("beta_admin", beta, is_admin=True),
        "alpha learner": make_user("alpha_learner", alpha),
        "staff": make_user("staffer", is_staff=True),
        "superuser": make_user("root", is_staff=True, is_superuser=True),
    }
    for user in users.values():
        Token.objects.create(user=user)
    return users


def signed_in(username):
    """A browser-like client of the LMS, signed in, holding the LMS's CSRF cookie."""
    client = Client(enforce_csrf_checks=True)
    assert client.login(username=username, password=PASSWORD)
    return client


def act(client, site, action, csrf=True):
    """Do a page action on ``site``, with the CSRF token a form of the page carries (unless ``csrf`` is false)."""
    method, path = ACTIONS[action]
    if method == "get":
        return client.get(path, HTTP_HOST=site.domain)
    data = {}
    if csrf:
        page = client.get(PAGE, HTTP_HOST=site.domain)
        if page.status_code == 200:
            data["csrfmiddlewaretoken"] = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"',
                                                    page.content.decode()).group(1)
        else:  # a refused user's page has no form: the cookie's value, which the middleware also takes
            client.get("/login", HTTP_HOST=site.domain)
            data["csrfmiddlewaretoken"] = client.cookies[settings.CSRF_COOKIE_NAME].value
    return client.post(path, data, HTTP_HOST=site.domain)


def allowed(role, staff_allowed):
    return role == "alpha admin" or (staff_allowed and role in ("staff", "superuser"))


@pytest.mark.parametrize("staff_allowed", [False, True])
@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("role", ROLES)
def test_every_role_and_action_on_alpha(cast, alpha, settings, role, action, staff_allowed):
    settings.TAHOE_REGISTRATION_API_ALLOW_STAFF = staff_allowed
    user = cast[role]
    before = Token.objects.get(user=user).key
    response = act(signed_in(user.username), alpha, action)
    token = Token.objects.filter(user=user).first()
    if not allowed(role, staff_allowed):
        assert response.status_code == 403
        assert b"You cannot manage the API token of this site" in response.content
        assert token.key == before
        return
    expected = {"view": 200, "create": 409, "rotate": 200, "revoke": 200}[action]  # the user has a token
    assert response.status_code == expected, response.content[:500]
    text = response.content.decode()
    if action == "rotate":
        assert token.key != before and token.key in text  # the new key, shown once
    elif action == "revoke":
        assert token is None
    else:
        assert token.key == before and before not in text and f"ends in <code>{before[-4:]}</code>" in text


def test_the_page_is_served_with_the_lms_base_template(cast, alpha):
    response = signed_in("alpha_admin").get(PAGE, HTTP_HOST=alpha.domain)
    text = response.content.decode()
    assert response.status_code == 200
    assert 'class="window-wrap"' in text and 'class="nav-skip"' in text  # lms/templates/main_django.html
    assert "Registration API of alpha.localhost" in text and 'id="main"' in text
    assert "switched on" in text


@pytest.mark.parametrize("action", list(ACTIONS))
def test_a_visitor_is_sent_to_the_lms_sign_in_page_and_back(alpha, action):
    method, path = ACTIONS[action]
    response = getattr(Client(), method)(path, HTTP_HOST=alpha.domain)
    assert response.status_code == 302
    assert response["Location"] == f"{settings.LOGIN_URL}?next={path}"


@pytest.mark.parametrize("action", ["create", "rotate", "revoke"])
def test_a_change_without_the_csrf_token_is_refused(cast, alpha, action):
    before = Token.objects.get(user=cast["alpha admin"]).key
    response = act(signed_in("alpha_admin"), alpha, action, csrf=False)
    assert response.status_code == 403
    assert Token.objects.get(user=cast["alpha admin"]).key == before
    assert not AuditEntry.objects.filter(action__startswith="token_").exists()


def test_a_rotated_key_is_refused_by_the_api_and_its_replacement_accepted(cast, alpha):
    old = Token.objects.get(user=cast["alpha admin"]).key
    response = act(signed_in("alpha_admin"), alpha, "rotate")
    new = Token.objects.get(user=cast["alpha admin"]).key
    assert new != old and new in response.content.decode()
    assert Caller(authorization=f"Token {old}").register(alpha, learner_body()).status_code == 401
    accepted = Caller(authorization=f"Token {new}").register(alpha, learner_body())
    assert accepted.status_code == 200
    entries = list(AuditEntry.objects.filter(site_id=alpha.site.pk).order_by("pk").values_list(
        "action", "status", "caller_id", "learner_id"))
    admin_id = cast["alpha admin"].pk
    assert entries == [("token_rotated", 200, admin_id, None), ("register", 401, None, None),
                       ("register", 200, admin_id, accepted.json()["user_id"])]
    page = signed_in("alpha_admin").get(PAGE, HTTP_HOST=alpha.domain).content.decode()
    assert new not in page and f"ends in <code>{new[-4:]}</code>" in page
    assert "authentication-failed" in page and f"<td>{accepted.json()['user_id']}</td>" in page


def test_the_store_is_purged_of_entries_older_than_the_retention(cast, alpha, settings, monkeypatch):
    settings.TAHOE_REGISTRATION_API_AUDIT_RETENTION_DAYS = 30
    now = timezone.now()
    for age in (31, 29):
        AuditEntry.objects.create(created=now - timedelta(days=age), site_id=alpha.site.pk, action="register",
                                  status=200, outcome="registered")
    monkeypatch.setattr(audit.RETENTION, "next_at", 0.0)
    assert Caller(cast["alpha admin"]).register(alpha, learner_body()).status_code == 200
    assert not AuditEntry.objects.filter(created__lt=now - timedelta(days=30)).exists()  # the 31 days old one
    assert AuditEntry.objects.filter(created__lt=now - timedelta(days=28)).count() == 1  # 29 days: kept
    assert AuditEntry.objects.filter(created__gte=now, action="register", status=200).count() == 1


@pytest.mark.parametrize("action", list(ACTIONS))
def test_an_inactive_admin_signed_in_to_the_lms_gets_the_403_page_and_changes_nothing(alpha, action):
    # The LMS signs inactive users in (AllowAllUsersModelBackend): the page itself must refuse them.
    sleeper = make_user("sleeper", alpha, is_admin=True, is_active=False)
    key = Token.objects.create(user=sleeper).key
    response = act(signed_in("sleeper"), alpha, action)
    assert response.status_code == 403, response
    assert list(Token.objects.filter(user=sleeper).values_list("key", flat=True)) == [key]


def form_post(client, site, path, data):
    """POST a form of the page on ``site`` with the CSRF token the page's forms carry."""
    page = client.get(PAGE, HTTP_HOST=site.domain)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    return client.post(path, {"csrfmiddlewaretoken": token, **data}, HTTP_HOST=site.domain)


def test_the_webhooks_part_inside_the_lms_secret_once_rotate_remove_and_another_site_sees_none(cast, alpha, beta):
    """The token page's webhooks, through the LMS's own sign-in, CSRF and base template (docs/howto/token_page.rst)."""
    from tahoe_registration_api.models import WebhookEndpoint  # pylint: disable=import-outside-toplevel

    admin = signed_in("alpha_admin")
    url = "https://93.184.215.14/hooks"  # a public address: checked without a DNS lookup
    made = form_post(admin, alpha, f"{PAGE}webhooks/create/", {"url": url, "events": ["learner.registered"]})
    text = made.content.decode()
    secret = re.search(r'id="tahoe-new-secret" value="(whsec_[A-Za-z0-9+/=]+)"', text)
    assert made.status_code == 200 and secret and made["Cache-Control"].startswith("no-store")
    assert 'class="window-wrap"' in text  # the LMS's base template
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.site_id, endpoint.url, endpoint.events) == (alpha.site.pk, url, '["learner.registered"]')
    again = admin.get(PAGE, HTTP_HOST=alpha.domain).content.decode()
    assert url in again and secret.group(1) not in again  # shown once
    assert url not in signed_in("beta_admin").get(PAGE, HTTP_HOST=beta.domain).content.decode()
    sealed = endpoint.secret
    rotated = form_post(admin, alpha, f"{PAGE}webhooks/rotate/", {"webhook": endpoint.pk})
    assert rotated.status_code == 200 and secret.group(1) not in rotated.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.secret != sealed and endpoint.previous_secret == sealed
    refused = form_post(signed_in("beta_admin"), beta, f"{PAGE}webhooks/remove/", {"webhook": endpoint.pk})
    assert refused.status_code == 404 and WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    removed = form_post(admin, alpha, f"{PAGE}webhooks/remove/", {"webhook": endpoint.pk})
    assert removed.status_code == 200 and not WebhookEndpoint.objects.exists()
    assert list(AuditEntry.objects.filter(action__startswith="webhook_").order_by("pk").values_list(
        "action", flat=True)) == ["webhook_create", "webhook_rotate", "webhook_delete"]
