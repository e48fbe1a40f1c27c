"""
The token page's webhooks on the development LMS: who may see and change them, each change, the secret shown once.

Adding one (its secret shown once, never again, never logged), rotating its secret, removing it,
switching a switched-off one on again (its reason shown); another site's admin neither sees nor
touches them (404); a learner, a visitor and a missing CSRF token are refused as the token's
changes are; a refused URL, no event, an unknown event and one webhook too many are the form's
errors, never a 500; each webhook's last ten delivery attempts.
"""

import logging
import re
from datetime import timedelta
from datetime import timezone as dt_timezone

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from tahoe_registration_api.models import AuditEntry, WebhookAttempt, WebhookEndpoint
from tahoe_registration_api.sealing import unseal_secret
from tahoe_registration_api.webhooks import delivery, endpoints
from tahoe_registration_api.webhooks.events import EVENT_TYPES
from tests.conftest import make_user
from tests.test_token_page import CSRF, PAGE, browser

CHANGES = {"create": f"{PAGE}webhooks/create/", "rotate": f"{PAGE}webhooks/rotate/",
           "remove": f"{PAGE}webhooks/remove/", "switch-on": f"{PAGE}webhooks/switch-on/"}
ROLES = ("alpha admin", "beta admin", "alpha learner", "inactive alpha admin", "staff", "superuser")
PUBLIC_URL = "https://93.184.215.14/hooks"  # a literal public address: checked without a DNS lookup
SECRET = re.compile(r'id="tahoe-new-secret" value="(whsec_[A-Za-z0-9+/=]+)"')
WEBHOOK_EVENTS = ["learner.registered", "enrollment.created"]


@pytest.fixture
def hook(alpha):
    """A webhook of alpha (made as the API makes one), with a secret nobody was shown here."""
    return endpoints.create(alpha.site.pk, PUBLIC_URL, ["learner.registered"], None)[0]


def post(client, site, change, data=None, csrf=True):
    """POST one webhook change to ``site``'s page, with the CSRF token its forms carry."""
    data = {**({"csrfmiddlewaretoken": CSRF} if csrf else {}), **(data or {})}
    return client.post(CHANGES[change], data, HTTP_HOST=site.domain)


def create(client, site, url=PUBLIC_URL, events=None):
    """Add a webhook through the page's form."""
    return post(client, site, "create", {"url": url, "events": WEBHOOK_EVENTS if events is None else events})


def secret_shown(response):
    """Return the secret the answer shows (None when it shows none)."""
    found = SECRET.search(response.content.decode())
    return found.group(1) if found else None


def state(endpoint_id):
    """Return what a change may alter of a webhook: whether it exists, its sealed secret, whether it is on."""
    return list(WebhookEndpoint.objects.filter(pk=endpoint_id).values_list("secret", "enabled"))


def make_attempt(endpoint, minutes_ago, number=1, **fields):
    """Keep one delivery attempt of ``endpoint``, ``minutes_ago`` minutes ago."""
    return WebhookAttempt.objects.create(
        endpoint=endpoint, message_id=number, webhook_id=f"msg_{number:032x}", attempt=number,
        at=timezone.now() - timedelta(minutes=minutes_ago), **{"event": "learner.registered", **fields})


def expected(role, staff_allowed, allowed_status):
    """The status a role's change gets: the token page's rule (the site's active admins; staff where allowed)."""
    if role == "inactive alpha admin":
        return 302  # not signed in: the sign-in page
    if role == "alpha admin" or (staff_allowed and role in ("staff", "superuser")):
        return allowed_status
    return 403


# Who may see and change them ---------------------------------------------------------------------

@pytest.mark.parametrize("staff_allowed", [False, True])
@pytest.mark.parametrize("change", list(CHANGES))
@pytest.mark.parametrize("role", ROLES)
def test_every_role_and_change(cast, alpha, hook, settings, role, change, staff_allowed):
    settings.TAHOE_REGISTRATION_API_ALLOW_STAFF = staff_allowed
    delivery.switch_off(hook, "Switched off by the test.")
    before = state(hook.pk)
    data = {"url": PUBLIC_URL, "events": WEBHOOK_EVENTS} if change == "create" else {"webhook": hook.pk}
    response = post(browser(cast[role]), alpha, change, data)
    status = expected(role, staff_allowed, 200)
    assert response.status_code == status, response.content[:300]
    changed = status == 200
    if change == "create":
        assert WebhookEndpoint.objects.count() == 1 + int(changed)
    else:
        assert (state(hook.pk) != before) == changed
    if status == 403:
        assert b"You cannot manage the API token of this site" in response.content
        assert PUBLIC_URL.encode() not in response.content
    actions = {"create": "webhook_create", "rotate": "webhook_rotate", "remove": "webhook_delete",
               "switch-on": "webhook_enable"}
    assert list(AuditEntry.objects.values_list("action", "caller_id")) == (
        [(actions[change], cast[role].pk)] if changed else [])


@pytest.mark.parametrize("staff_allowed", [False, True])
@pytest.mark.parametrize("role", ROLES)
def test_only_who_acts_for_the_site_sees_its_webhooks(cast, alpha, hook, settings, role, staff_allowed):
    settings.TAHOE_REGISTRATION_API_ALLOW_STAFF = staff_allowed
    make_attempt(hook, 1, status_code=204, succeeded=True)
    response = browser(cast[role]).get(PAGE, HTTP_HOST=alpha.domain)
    assert response.status_code == expected(role, staff_allowed, 200)
    page = response.content.decode()
    assert (PUBLIC_URL in page and f"Webhook {hook.pk}" in page) == (response.status_code == 200)


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_visitor_is_sent_to_the_sign_in_page_and_nothing_changes(alpha, hook, change):
    before = state(hook.pk)
    response = Client().post(CHANGES[change], {"webhook": hook.pk, "url": PUBLIC_URL, "events": WEBHOOK_EVENTS},
                             HTTP_HOST=alpha.domain)
    assert response.status_code == 302 and response["Location"] == f"/login?next={CHANGES[change]}"
    assert state(hook.pk) == before and WebhookEndpoint.objects.count() == 1
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_learner_of_the_site_gets_the_403_page_and_nothing_changes(alpha, hook, change):
    learner = make_user("alpha_learner", alpha)
    before = state(hook.pk)
    response = post(browser(learner), alpha, change, {"webhook": hook.pk, "url": PUBLIC_URL,
                                                      "events": WEBHOOK_EVENTS})
    assert response.status_code == 403 and b"You cannot manage" in response.content
    assert state(hook.pk) == before and WebhookEndpoint.objects.count() == 1
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("change", ["rotate", "remove", "switch-on"])
def test_another_sites_admin_neither_sees_nor_touches_them(cast, alpha, beta, hook, change):
    delivery.switch_off(hook, "Switched off by the test.")
    before = state(hook.pk)
    beta_admin = browser(cast["beta admin"])
    own_page = beta_admin.get(PAGE, HTTP_HOST=beta.domain).content.decode()
    assert PUBLIC_URL not in own_page and "This site has no webhook." in own_page
    response = post(beta_admin, beta, change, {"webhook": hook.pk})  # alpha's webhook, on beta's page
    assert response.status_code == 404
    page = response.content.decode()
    assert "There is no such webhook on this site." in page and PUBLIC_URL not in page
    assert secret_shown(response) is None
    assert state(hook.pk) == before and not AuditEntry.objects.exists()


@pytest.mark.parametrize("webhook", ["", "abc", "-1", "0", "1.0", " 1", "99999999999999999999", "\u0661", "1" * 5000])
@pytest.mark.parametrize("change", ["rotate", "remove", "switch-on"])
def test_a_change_naming_no_webhook_of_the_site_is_a_404_page(cast, alpha, hook, change, webhook):
    before = state(hook.pk)
    response = post(browser(cast["alpha admin"]), alpha, change, {"webhook": webhook})
    assert response.status_code == 404 and b"There is no such webhook on this site." in response.content
    assert state(hook.pk) == before and not AuditEntry.objects.exists()


def test_a_change_without_the_webhook_is_a_404_page(cast, alpha, hook):
    response = post(browser(cast["alpha admin"]), alpha, "rotate")
    assert response.status_code == 404 and state(hook.pk)


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_change_without_the_csrf_token_is_refused(cast, alpha, hook, change):
    admin = cast["alpha admin"]
    delivery.switch_off(hook, "Switched off by the test.")
    before = state(hook.pk)
    data = {"webhook": hook.pk, "url": PUBLIC_URL, "events": WEBHOOK_EVENTS}
    for client, token in ((browser(admin, csrf=False), None), (browser(admin), "c" * 32)):
        response = client.post(CHANGES[change], {**data, **({"csrfmiddlewaretoken": token} if token else {})},
                               HTTP_HOST=alpha.domain)
        assert response.status_code == 403
    assert state(hook.pk) == before and WebhookEndpoint.objects.count() == 1
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("change", list(CHANGES))
def test_each_change_takes_only_a_post(cast, alpha, change):
    response = browser(cast["alpha admin"]).get(CHANGES[change], HTTP_HOST=alpha.domain)
    assert response.status_code == 405


@pytest.mark.parametrize("charset", ["rot13", "latin-1"])
@pytest.mark.parametrize("change", list(CHANGES))
def test_a_change_in_a_charset_other_than_utf_8_is_a_415_page(cast, alpha, hook, change, charset):
    before = state(hook.pk)
    body = f"csrfmiddlewaretoken={CSRF}&webhook={hook.pk}&url={PUBLIC_URL}&events=learner.registered".encode()
    response = browser(cast["alpha admin"]).generic(
        "POST", CHANGES[change], body, content_type=f"application/x-www-form-urlencoded; charset={charset}",
        HTTP_HOST=alpha.domain)
    assert response.status_code == 415 and b"The site&#x27;s webhooks were not changed" in response.content
    assert state(hook.pk) == before and WebhookEndpoint.objects.count() == 1


# Each change ------------------------------------------------------------------------------------

def test_a_new_webhook_s_secret_is_shown_once_then_never_again_nor_logged(cast, alpha, caplog):
    admin = cast["alpha admin"]
    client = browser(admin)
    empty = client.get(PAGE, HTTP_HOST=alpha.domain).content.decode()
    assert "This site has no webhook." in empty and "Add the webhook" in empty
    assert "It starts with https:// and names a public address (not a private network&#x27;s)." in empty
    with caplog.at_level(logging.DEBUG):
        created = create(client, alpha)
    assert created.status_code == 200 and created["Cache-Control"] == "no-store"
    endpoint = WebhookEndpoint.objects.get()
    secret = secret_shown(created)
    assert secret is not None and unseal_secret(endpoint.secret) == secret
    page = created.content.decode()
    assert f"Webhook {endpoint.pk} was added." in page and "Copy the secret" in page
    assert (endpoint.site_id, endpoint.url, endpoints.events_of(endpoint), endpoint.created_by) == (
        alpha.site.pk, PUBLIC_URL, WEBHOOK_EVENTS, admin.pk)
    again = client.get(PAGE, HTTP_HOST=alpha.domain)
    assert secret not in again.content.decode() and secret_shown(again) is None and "Cache-Control" not in again
    assert PUBLIC_URL in again.content.decode() and "No delivery yet." in again.content.decode()
    assert not [record for record in caplog.records if secret in record.getMessage() or secret in str(record.__dict__)]
    (entry,) = AuditEntry.objects.all()
    assert (entry.action, entry.outcome, entry.caller_id, entry.site_id) == (
        "webhook_create", "webhook-created", admin.pk, alpha.site.pk)
    assert secret not in str(AuditEntry.objects.values().get())


def test_the_form_offers_every_event_type(cast, alpha):
    page = browser(cast["alpha admin"]).get(PAGE, HTTP_HOST=alpha.domain).content.decode()
    assert re.findall(r'name="events" value="([^"]+)"', page) == list(EVENT_TYPES)


def test_a_rotation_shows_the_new_secret_once_and_the_old_one_signs_24_hours_more(cast, alpha, hook):
    old = unseal_secret(hook.secret)
    client = browser(cast["alpha admin"])
    rotated = post(client, alpha, "rotate", {"webhook": hook.pk})
    assert rotated.status_code == 200 and rotated["Cache-Control"] == "no-store"
    new = secret_shown(rotated)
    hook.refresh_from_db()
    assert new not in (None, old) and unseal_secret(hook.secret) == new
    assert delivery.secrets_of(hook, timezone.now()) == [new, old]
    assert delivery.secrets_of(hook, timezone.now() + timedelta(hours=24, seconds=1)) == [new]
    page = rotated.content.decode()
    assert f"The secret of webhook {hook.pk} was rotated." in page
    until = f"{hook.previous_expires.astimezone(dt_timezone.utc):%Y-%m-%d %H:%M} UTC"
    assert "The previous secret signs the deliveries too until" in page and until in page
    again = client.get(PAGE, HTTP_HOST=alpha.domain).content.decode()
    assert new not in again and old not in again and "Previous secret" in again and until in again
    assert list(AuditEntry.objects.values_list("action", "outcome")) == [("webhook_rotate", "webhook-rotated")]


def test_removing_a_webhook_removes_it_and_its_deliveries(cast, alpha, hook):
    make_attempt(hook, 1, status_code=204, succeeded=True)
    removed = post(browser(cast["alpha admin"]), alpha, "remove", {"webhook": hook.pk})
    assert removed.status_code == 200
    page = removed.content.decode()
    assert f"Webhook {hook.pk} was removed." in page and PUBLIC_URL not in page and "This site has no webhook." in page
    assert not WebhookEndpoint.objects.exists() and not WebhookAttempt.objects.exists()
    assert list(AuditEntry.objects.values_list("action", "outcome")) == [("webhook_delete", "webhook-removed")]
    assert post(browser(cast["alpha admin"]), alpha, "remove", {"webhook": hook.pk}).status_code == 404


def test_a_switched_off_webhook_shows_why_and_is_switched_on_again(cast, alpha, hook):
    reason = "No delivery succeeded since 2026-01-01 10:00 UTC (the last attempt: HTTP 500)."
    WebhookEndpoint.objects.filter(pk=hook.pk).update(failing_since=timezone.now() - timedelta(days=5))
    delivery.switch_off(hook, reason)
    client = browser(cast["alpha admin"])
    page = client.get(PAGE, HTTP_HOST=alpha.domain).content.decode()
    assert "switched off</span>" in page and reason in page and "Switch on again" in page
    assert "New events do not reach it" in page
    switched = post(client, alpha, "switch-on", {"webhook": hook.pk})
    assert switched.status_code == 200
    page = switched.content.decode()
    assert f"Webhook {hook.pk} was switched on again" in page and reason not in page and "Switch on again" not in page
    hook.refresh_from_db()
    assert (hook.enabled, hook.failing_since, hook.disabled_at, hook.disabled_reason) == (True, None, None, "")
    assert list(AuditEntry.objects.values_list("action", "outcome")) == [("webhook_enable", "webhook-enabled")]
    again = post(client, alpha, "switch-on", {"webhook": hook.pk})  # on already: nothing to record
    assert again.status_code == 200 and f"Webhook {hook.pk} is switched on." in again.content.decode()
    assert AuditEntry.objects.count() == 1


def test_a_failing_webhook_says_since_when(cast, alpha, hook):
    since = timezone.now() - timedelta(days=2)
    WebhookEndpoint.objects.filter(pk=hook.pk).update(failing_since=since)
    page = browser(cast["alpha admin"]).get(PAGE, HTTP_HOST=alpha.domain).content.decode()
    assert "Failing since" in page and f"{since.astimezone(dt_timezone.utc):%Y-%m-%d %H:%M} UTC" in page
    assert "switched off after 5 days" in page


def test_each_webhook_shows_its_last_ten_delivery_attempts_newest_first(cast, alpha, hook):
    other = endpoints.create(alpha.site.pk, "https://93.184.215.15/other", ["learner.updated"], None)[0]
    for minutes in range(11, 1, -1):  # attempts 1 to 10, the newest last
        make_attempt(hook, minutes, number=12 - minutes, status_code=500, response="oops")
    make_attempt(hook, 20, number=99, status_code=204)  # the oldest: the 11th, not shown
    make_attempt(hook, 1, number=11, event="enrollment.created", error="timeout")
    make_attempt(hook, 0, number=12, event="learner.updated", status_code=204, succeeded=True)
    make_attempt(other, 5, number=7, event="learner.updated", error="connection-error")
    page = browser(cast["alpha admin"]).get(PAGE, HTTP_HOST=alpha.domain).content.decode()
    tables = dict(re.findall(r'<table class="tahoe-deliveries" id="webhook-(\d+)-deliveries"[^>]*>(.*?)</table>', page,
                             re.S))
    rows = [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", tables[str(hook.pk)], re.S)[1:]]
    assert len(rows) == 10
    assert [row[1:] for row in rows[:3]] == [["learner.updated", "12", "204", "yes"],
                                             ["enrollment.created", "11", "timeout", "no"],
                                             ["learner.registered", "10", "500", "no"]]
    assert [int(row[2]) for row in rows] == [12, 11, 10, 9, 8, 7, 6, 5, 4, 3]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", rows[0][0]) and rows[0][0] > rows[1][0]
    assert "oops" not in page  # the receiver's answer is the API's to show, not the table's
    (other_row,) = re.findall(r"<tr>(.*?)</tr>", tables[str(other.pk)], re.S)[1:]
    assert "connection-error" in other_row and "learner.updated" in other_row


def test_the_webhooks_are_the_site_s_own_only(cast, alpha, beta, hook):
    endpoints.create(beta.site.pk, "https://93.184.215.16/beta-only", ["learner.registered"], None)
    page = browser(cast["alpha admin"]).get(PAGE, HTTP_HOST=alpha.domain).content.decode()
    assert PUBLIC_URL in page and "beta-only" not in page and "1 of the 20 a site may have" in page


# The form's errors ------------------------------------------------------------------------------

@pytest.mark.parametrize("url,message", [
    ("", "Give the endpoint&#x27;s URL."),
    ("ftp://93.184.215.14/hooks", "The URL must start with https://."),
    ("http://93.184.215.14/hooks", "The URL must start with https://."),
    ("https://10.0.0.7/hooks", "The URL&#x27;s host is a loopback, private, link-local or reserved address"),
    ("https://127.0.0.1/hooks", "The URL&#x27;s host is a loopback, private, link-local or reserved address"),
    ("https://169.254.169.254/latest/meta-data", "loopback, private, link-local or reserved address"),
    ("https://user:password@93.184.215.14/hooks", "The URL may not hold credentials"),
    ("https://93.184.215.14/hooks#part", "The URL may not hold a fragment"),
    ("https://93.184.215.14/a b", "A URL holds no spaces"),
    ("https://" + "a" * 2100, "At most 2048 characters."),
])
def test_a_refused_url_is_an_error_next_to_the_field_and_nothing_is_added(cast, alpha, url, message):
    response = create(browser(cast["alpha admin"]), alpha, url=url)
    assert response.status_code == 400
    page = response.content.decode()
    error = re.search(r'<p class="tahoe-error" id="webhook-url-error">(.*?)</p>\s*<input type="url" id="webhook-url"'
                      r'[^>]*aria-describedby="webhook-url-help webhook-url-error"[^>]*aria-invalid="true"', page, re.S)
    assert error and message in error.group(1), page[page.find("webhook-url-help"):][:800]
    assert "The webhook was not added: correct its form below." in page and "webhook-events-error" not in page
    assert re.findall(r'value="([^"]+)"\s+checked', page) == WEBHOOK_EVENTS  # kept ticked
    assert not WebhookEndpoint.objects.exists() and not AuditEntry.objects.exists()
    assert secret_shown(response) is None and "Cache-Control" not in response


def test_a_url_of_the_longest_length_is_kept_whole_and_a_far_longer_one_shown_back_capped(cast, alpha):
    longest = PUBLIC_URL + "/" + "a" * (2048 - len(PUBLIC_URL) - 1)
    client = browser(cast["alpha admin"])
    assert create(client, alpha, url=f"  {longest} ").status_code == 200
    assert WebhookEndpoint.objects.get().url == longest
    refused = create(client, alpha, url=longest + "b" * 50000)
    assert refused.status_code == 400 and b"At most 2048 characters." in refused.content
    shown = re.search(r'id="webhook-url" name="url" value="([^"]*)"', refused.content.decode()).group(1)
    assert len(shown) == 4 * 2048 and WebhookEndpoint.objects.count() == 1


def test_the_typed_url_is_shown_back_escaped(cast, alpha):
    url = 'https://93.184.215.14/"><script>alert(1)</script>'
    response = create(browser(cast["alpha admin"]), alpha, url="ftp" + url[5:])
    page = response.content.decode()
    assert response.status_code == 400 and "<script>alert" not in page
    assert 'value="ftp://93.184.215.14/&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in page


def test_a_url_with_markup_is_refused_and_shown_back_escaped(cast, alpha):
    url = 'https://93.184.215.14/"><b>bold</b>'
    response = create(browser(cast["alpha admin"]), alpha, url=url)
    assert response.status_code == 400
    page = response.content.decode()
    assert "<b>bold</b>" not in page and "https://93.184.215.14/&quot;&gt;&lt;b&gt;bold&lt;/b&gt;" in page
    assert "A URL holds no spaces, quotes, angle brackets" in page
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("events,message", [
    ([], "Pick one or more events."),
    (["learner.deleted"], "Unknown event type(s): &#x27;learner.deleted&#x27;."),
    (["learner.registered", "<script>"], "Unknown event type(s): &#x27;&lt;script&gt;&#x27;."),
])
def test_no_event_or_an_unknown_one_is_an_error_next_to_the_events(cast, alpha, events, message):
    response = create(browser(cast["alpha admin"]), alpha, events=events)
    assert response.status_code == 400
    page = response.content.decode()
    assert '<fieldset aria-describedby="webhook-events-error">' in page
    error = re.search(r'<p class="tahoe-error" id="webhook-events-error">(.*?)</p>', page, re.S)
    assert error and message in error.group(1) and "<script>" not in page
    assert "webhook-url-error" not in page and f'value="{PUBLIC_URL}"' in page  # the URL is kept
    assert not WebhookEndpoint.objects.exists() and not AuditEntry.objects.exists()


def test_a_refused_url_and_no_event_are_both_shown(cast, alpha):
    response = create(browser(cast["alpha admin"]), alpha, url="ftp://x", events=[])
    page = response.content.decode()
    assert response.status_code == 400 and 'id="webhook-url-error"' in page and 'id="webhook-events-error"' in page


def test_a_webhook_too_many_is_an_error_at_the_form_and_nothing_is_added(cast, alpha, settings):
    for number in range(endpoints.MAX_PER_SITE):
        endpoints.create(alpha.site.pk, f"https://93.184.215.14/{number}", ["learner.registered"], None)
    response = create(browser(cast["alpha admin"]), alpha)
    assert response.status_code == 409
    page = response.content.decode()
    error = re.search(r'<p class="tahoe-error" id="webhook-form-error">(.*?)</p>\s*'
                      r'<button type="submit" aria-describedby="webhook-form-error">Add the webhook', page, re.S)
    assert error and "This site has as many webhooks as a site may have; remove one first." in error.group(1)
    assert "The webhook was not added." in page and secret_shown(response) is None
    assert WebhookEndpoint.objects.count() == endpoints.MAX_PER_SITE and not AuditEntry.objects.exists()
    settings.TAHOE_REGISTRATION_API_WEBHOOK_ALLOW_PRIVATE = True  # the limit holds whatever the URL
    assert create(browser(cast["alpha admin"]), alpha, url="https://10.0.0.1/").status_code == 409


def test_a_private_url_is_accepted_where_the_operator_allows_it(cast, alpha, settings):
    settings.TAHOE_REGISTRATION_API_WEBHOOK_ALLOW_PRIVATE = True
    settings.TAHOE_REGISTRATION_API_WEBHOOK_ALLOW_HTTP = True
    client = browser(cast["alpha admin"])
    page = client.get(PAGE, HTTP_HOST=alpha.domain).content.decode()
    assert "It starts with https:// or http:// and may name any address, a private network&#x27;s too." in page
    response = create(client, alpha, url="http://127.0.0.1:9/hooks")
    assert response.status_code == 200 and secret_shown(response)
    assert WebhookEndpoint.objects.get().url == "http://127.0.0.1:9/hooks"


def test_the_page_shows_no_secret_of_any_webhook(cast, alpha, hook):
    post(browser(cast["alpha admin"]), alpha, "rotate", {"webhook": hook.pk})
    hook.refresh_from_db()
    page = browser(cast["alpha admin"]).get(PAGE, HTTP_HOST=alpha.domain).content.decode()
    assert unseal_secret(hook.secret) not in page and unseal_secret(hook.previous_secret) not in page
    assert hook.secret not in page and "whsec_" not in page


def test_the_token_and_the_webhooks_are_changed_apart(cast, alpha, hook):
    admin = cast["alpha admin"]
    Token.objects.create(user=admin)
    key = Token.objects.get(user=admin).key
    rotated = post(browser(admin), alpha, "rotate", {"webhook": hook.pk})
    assert Token.objects.get(user=admin).key == key and key not in rotated.content.decode()
    assert 'id="tahoe-new-key"' not in rotated.content.decode()
