"""
Inside the LMS: a site's learners looked up, changed and switched off and on, through the platform's own records.

A learner's name and email change as the platform applies an administrator's change (the profile's
``meta`` keeps the old ones, its receivers emit ``edx.user.settings.changed``), the old address gets
the platform's ``EmailChangeConfirmation`` email through the outbox, and ``disabled`` is the support
tool's "User Disabled": an unusable password, a ``UserPasswordToggleHistory`` row, the learner's
OAuth2 tokens deleted; password sign-in (``authenticate``) and bearer tokens are refused.
"""

import json
from datetime import timedelta

import pytest
from common.djangoapps.student.models import PendingEmailChange, UserPasswordToggleHistory, UserProfile
from django.contrib.auth import authenticate, get_user_model
from django.core import mail
from django.utils.timezone import now
from eventtracking import tracker
from oauth2_provider.models import AccessToken, Application, RefreshToken
from openedx.core.djangoapps.lang_pref import LANGUAGE_KEY
from openedx.core.djangoapps.user_api.models import UserPreference

from tahoe_registration_api.models import AuditEntry, OutboxMessage

from conftest import PASSWORD, links, make_user

LEARNERS_URL = "/tahoe/api/v1/learners/"


@pytest.fixture(name="settings_changed")
def fixture_settings_changed(monkeypatch):
    """The platform's ``edx.user.settings.changed`` events during the test: ``(user_id, setting, old, new)``."""
    seen = []
    real_emit = tracker.emit

    def emit(name=None, data=None):
        """Record a settings change, then emit it."""
        if name == "edx.user.settings.changed":
            seen.append((data["user_id"], data["setting"], data["old"], data["new"]))
        return real_emit(name, data)

    monkeypatch.setattr(tracker, "emit", emit)
    return seen


def show(response, method, site, path, body=None):
    """Print a call and its answer (seen with ``pytest -s``: the transcript of the contract's examples)."""
    print(f"\n> {method} {path} (Host: {site.domain})" + (f"\n> {json.dumps(body)}" if body is not None else ""))
    print(f"< {response.status_code} {json.dumps(response.json()) if response.content else ''}")
    return response


def get(caller, site, path=LEARNERS_URL, **params):
    """GET ``path`` on ``site`` with query ``params``."""
    response = caller.client.get(path, params, **caller.headers(site.domain, {}))
    return show(response, "GET", site, path + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else ""))


def patch(caller, site, user_id, body, query=""):
    """PATCH learner ``user_id`` of ``site`` with the JSON ``body``."""
    path = f"{LEARNERS_URL}{user_id}/{query}"
    response = caller.client.patch(path, json.dumps(body), content_type="application/json",
                                   **caller.headers(site.domain, {}))
    return show(response, "PATCH", site, path, body)


def learner(username, site, name=None, language="en"):
    """A learner of ``site`` as the platform keeps one: a user (its password ``PASSWORD``), a profile, a language."""
    user = make_user(username, site)
    UserProfile.objects.create(user=user, name=name or username.title())
    UserPreference.objects.create(user=user, key=LANGUAGE_KEY, value=language)
    return user


def meta(user):
    """The learner's profile meta, as the platform keeps it."""
    return UserProfile.objects.get(user=user).get_meta()


def oauth_tokens(user):
    """Give the learner an OAuth2 access token and its refresh token (django-oauth-toolkit, as the LMS issues them)."""
    application = Application.objects.create(name="mobile", user=make_user(f"{user.username}_app_owner"),
                                             client_type="public", authorization_grant_type="password")
    access = AccessToken.objects.create(user=user, application=application, token=f"access-{user.pk}",
                                        expires=now() + timedelta(hours=1), scope="read")
    RefreshToken.objects.create(user=user, application=application, token=f"refresh-{user.pk}", access_token=access)
    return access.token


def test_a_learner_is_looked_up_by_email_and_another_sites_is_nobody(alpha, beta, alpha_admin, beta_admin):
    ada = learner("ada", alpha, name="Ada Lovelace", language="fr")
    learner("stranger", beta)
    found = get(alpha_admin, alpha, email="ADA@example.org").json()
    assert found["count"] == 1
    [one] = found["results"]
    assert {key: one[key] for key in ("user_id", "username", "email", "name", "is_active", "disabled", "language")} \
        == {"user_id": ada.pk, "username": "ada", "email": "ada@example.org", "name": "Ada Lovelace",
            "is_active": True, "disabled": False, "language": "fr"}
    assert get(alpha_admin, alpha, email="stranger@example.org").json()["count"] == 0
    assert get(alpha_admin, alpha, username="alpha_admin").json()["count"] == 0  # the site's admin: not a learner
    assert get(alpha_admin, alpha, f"{LEARNERS_URL}{ada.pk}/").json()["user_id"] == ada.pk
    stranger_id = get_user_model().objects.get(username="stranger").pk
    refused = get(alpha_admin, alpha, f"{LEARNERS_URL}{stranger_id}/")
    assert (refused.status_code, refused.json()["error_code"]) == (404, "learner-not-found")
    assert get(beta_admin, beta, email="stranger@example.org").json()["count"] == 1


def test_a_name_and_an_email_change_as_the_platform_applies_an_administrators(alpha, alpha_admin, settings_changed):
    ada = learner("ada", alpha, name="Ada Byron")
    PendingEmailChange.objects.create(user=ada, new_email="typo@example.org", activation_key="a" * 32)
    response = patch(alpha_admin, alpha, ada.pk, {"name": "Ada Lovelace", "email": "ada.lovelace@example.org"})
    assert response.status_code == 200, response.content
    assert (response.json()["name"], response.json()["email"]) == ("Ada Lovelace", "ada.lovelace@example.org")
    ada.refresh_from_db()
    assert ada.email == "ada.lovelace@example.org" and UserProfile.objects.get(user=ada).name == "Ada Lovelace"
    [[old_name, rationale, _]] = meta(ada)["old_names"]
    assert (old_name, rationale) == ("Ada Byron", "Name changed through the Tahoe registration API by alpha_admin")
    [[old_email, _]] = meta(ada)["old_emails"]
    assert old_email == "ada@example.org"
    assert not PendingEmailChange.objects.filter(user=ada).exists()
    assert (ada.pk, "name", "Ada Byron", "Ada Lovelace") in settings_changed
    assert (ada.pk, "email", "ada@example.org", "ada.lovelace@example.org") in settings_changed
    # The old address is told, with the platform's own email, sent by the outbox as a request of the site.
    [told] = mail.outbox
    assert told.to == ["ada@example.org"] and told.from_email == "learning@alpha.localhost"
    assert told.subject.strip() == "Email Change Confirmation for Alpha Academy"
    assert links(told.body) == ["http://alpha.localhost/contact"]
    texts = [told.body, *(html for html, _ in told.alternatives)]
    assert not any("édX" in text or "example.com" in text for text in texts)  # the LMS's defaults: none
    assert "ada.lovelace@example.org" in told.body and "ada@example.org" in told.body
    assert list(OutboxMessage.objects.filter(kind="email").values_list("topic", "state")) == [("email-changed", "sent")]
    assert list(AuditEntry.objects.values_list("action", "status", "learner_id")) == [("learner_update", 200, ada.pk)]


def test_an_email_of_another_site_is_taken_platform_wide_as_registration_answers(alpha, beta, alpha_admin):
    ada = learner("ada", alpha)
    learner("stranger", beta)
    refused = patch(alpha_admin, alpha, ada.pk, {"email": "Stranger@example.org"})
    assert (refused.status_code, refused.json()["error_code"]) == (409, "duplicate-email")
    ada.refresh_from_db()
    assert ada.email == "ada@example.org" and mail.outbox == [] and "old_emails" not in meta(ada)


def test_a_learner_disabled_cannot_sign_in_and_is_enabled_again(alpha, alpha_admin):
    ada = learner("ada", alpha)
    token = oauth_tokens(ada)
    assert authenticate(username="ada", password=PASSWORD) == ada
    bearer = alpha_admin.client.get("/api/user/v1/me", HTTP_HOST=alpha.domain, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert bearer.status_code == 200, bearer.content
    off = patch(alpha_admin, alpha, ada.pk, {"disabled": True})
    assert off.status_code == 200 and off.json()["disabled"] is True
    assert authenticate(username="ada", password=PASSWORD) is None
    ada.refresh_from_db()
    assert not ada.has_usable_password()
    [history] = UserPasswordToggleHistory.objects.filter(user=ada)
    assert (history.disabled, history.created_by, history.comment) == (
        True, alpha_admin.user, "Disabled through the Tahoe registration API by alpha_admin")
    assert not AccessToken.objects.filter(user=ada).exists() and not RefreshToken.objects.filter(user=ada).exists()
    resend = alpha_admin.register(alpha, {}, url=f"/tahoe/api/v1/registrations/{ada.pk}/resend/")
    assert (resend.status_code, resend.json()["error_code"]) == (409, "learner-disabled")
    on = patch(alpha_admin, alpha, ada.pk, {"disabled": False})
    assert on.status_code == 200 and on.json()["disabled"] is False
    ada.refresh_from_db()
    assert ada.has_usable_password() and authenticate(username="ada", password=PASSWORD) is None
    assert list(UserPasswordToggleHistory.objects.filter(user=ada).order_by("created").values_list(
        "disabled", flat=True)) == [True, False]
    resend = alpha_admin.register(alpha, {}, url=f"/tahoe/api/v1/registrations/{ada.pk}/resend/")
    assert resend.status_code == 202 and resend.json()["email"] == "password-reset"
    [reset] = mail.outbox
    assert reset.to == ["ada@example.org"]


def test_a_language_change_is_the_learners_pref_lang_and_a_dry_run_writes_nothing(alpha, alpha_admin):
    ada = learner("ada", alpha, name="Ada Byron")
    dry = patch(alpha_admin, alpha, ada.pk, {"name": "Ada Lovelace", "disabled": True, "language": "es-419"},
                query="?dry_run=true")
    assert dry.status_code == 200 and dry.json()["dry_run"] is True and dry.json()["name"] == "Ada Lovelace"
    ada.refresh_from_db()
    assert ada.has_usable_password() and UserProfile.objects.get(user=ada).name == "Ada Byron"
    assert not UserPasswordToggleHistory.objects.exists()
    changed = patch(alpha_admin, alpha, ada.pk, {"language": "es-419"})
    assert changed.status_code == 200 and changed.json()["language"] == "es-419"
    assert UserPreference.objects.get(user=ada, key=LANGUAGE_KEY).value == "es-419"
    refused = patch(alpha_admin, alpha, ada.pk, {"username": "lovelace"})
    assert refused.status_code == 400 and list(refused.json()["field_errors"]) == ["username"]
