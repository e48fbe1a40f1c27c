"""The site's learners, as an integrator looks them up, changes them and switches them off and on."""

import json

import pytest
from django.contrib.auth import authenticate
from django.core import mail
from django.test import TestCase

from devlms.models import LearnerProfile, PasswordToggleHistory
from tahoe_registration_api.edxapp import password_was_set
from tahoe_registration_api.learners import claim_key, email_claim
from tahoe_registration_api.models import AuditEntry, OutboxMessage, RegistrationClaim
from tests.conftest import Caller, learner_body, make_user

LEARNERS_URL = "/tahoe/api/v1/learners/"
PASSWORD = "Str0ng-enough-pw"
FIELDS = {"user_id", "username", "email", "name", "is_active", "disabled", "language", "date_joined"}


def emails():
    """The outbox's emails (beside the webhooks' events)."""
    return OutboxMessage.objects.filter(kind="email")


def get(caller, site, url=LEARNERS_URL, **params):
    """GET ``url`` on ``site`` with query ``params``."""
    return caller.client.get(url, params, HTTP_HOST=site.domain)


def patch(caller, site, user_id, body, query="", **headers):
    """PATCH learner ``user_id`` of ``site`` (what its commit owes runs at once)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return caller.client.patch(f"{LEARNERS_URL}{user_id}/{query}", body, format="json", HTTP_HOST=site.domain,
                                   **headers)


def registered(caller, site, **overrides):
    """Register a learner through the API (a profile and a language, as the platform has them); return the user."""
    from django.contrib.auth import get_user_model

    response = caller.register(site, learner_body(**overrides))
    assert response.status_code == 200, response.content
    return get_user_model().objects.get(pk=response.json()["user_id"])


def profile_meta(user):
    """Return the learner's profile meta (old names, old emails)."""
    return json.loads(LearnerProfile.objects.get(user=user).meta or "{}")


# Looking learners up

def test_a_learner_is_found_by_email_case_aside_and_by_username(alpha, alpha_admin):
    ada = registered(alpha_admin, alpha, username="ada", email="Ada@Example.com", name="Ada Lovelace", language="fr")
    make_user("bo", alpha)
    body = get(alpha_admin, alpha, email="ada@EXAMPLE.com").json()
    assert body["count"] == 1 and body["next"] is None and body["previous"] is None
    [found] = body["results"]
    assert set(found) == FIELDS
    assert (found["user_id"], found["username"], found["email"], found["name"]) == (
        ada.pk, "ada", "Ada@Example.com", "Ada Lovelace")
    assert (found["is_active"], found["disabled"], found["language"]) == (False, False, "fr")
    assert found["date_joined"]
    assert [row["username"] for row in get(alpha_admin, alpha, username="bo").json()["results"]] == ["bo"]
    assert get(alpha_admin, alpha, username="ada", email="bo@example.com").json()["count"] == 0


def test_without_a_filter_all_the_sites_learners_are_listed_oldest_first_in_pages(alpha, alpha_admin):
    for name in ("ada", "bo", "cy"):
        make_user(name, alpha)
    first = get(alpha_admin, alpha, page_size=2).json()
    assert first["count"] == 3 and [row["username"] for row in first["results"]] == ["ada", "bo"]
    second = alpha_admin.client.get(first["next"], HTTP_HOST=alpha.domain).json()
    assert [row["username"] for row in second["results"]] == ["cy"]
    assert get(alpha_admin, alpha, page=0).status_code == 400


def test_a_learner_of_another_site_is_nobody_here(alpha, beta, alpha_admin, beta_admin):
    stranger = make_user("stranger", beta)
    assert get(alpha_admin, alpha, email="stranger@example.com").json()["count"] == 0
    assert get(alpha_admin, alpha, username="stranger").json()["count"] == 0
    assert "stranger" not in [row["username"] for row in get(alpha_admin, alpha).json()["results"]]
    answers = [get(alpha_admin, alpha, f"{LEARNERS_URL}{user_id}/") for user_id in (stranger.pk, 987654, 2**70)]
    assert [answer.status_code for answer in answers] == [404, 404, 404]
    assert {answer.json()["error_code"] for answer in answers} == {"learner-not-found"}
    assert len({answer.json()["user_message"] for answer in answers}) == 1
    assert get(beta_admin, beta, f"{LEARNERS_URL}{stranger.pk}/").json()["username"] == "stranger"


def test_the_sites_admins_are_hidden_unless_platform_staff_asks(alpha, alpha_admin, settings):
    make_user("ada", alpha)
    assert [row["username"] for row in get(alpha_admin, alpha).json()["results"]] == ["ada"]
    assert get(alpha_admin, alpha, f"{LEARNERS_URL}{alpha_admin.user.pk}/").status_code == 404
    refused = get(alpha_admin, alpha, include_admins="true")
    assert refused.status_code == 400 and "include_admins" in refused.json()["field_errors"]
    staff = Caller(make_user("staffer", is_staff=True))
    settings.TAHOE_REGISTRATION_API_ALLOW_STAFF = True
    assert [row["username"] for row in get(staff, alpha).json()["results"]] == ["ada"]
    listed = get(staff, alpha, include_admins="true").json()["results"]
    assert [row["username"] for row in listed] == ["alpha_admin", "ada"]
    assert get(staff, alpha, f"{LEARNERS_URL}{alpha_admin.user.pk}/", include_admins="1").status_code == 200
    settings.TAHOE_REGISTRATION_API_ALLOW_STAFF = False
    assert get(staff, alpha).status_code == 403


def test_one_learner(alpha, alpha_admin):
    ada = registered(alpha_admin, alpha, username="ada", email="ada@example.com", password="Str0ng-enough-pw",
                     send_activation_email=False)
    response = get(alpha_admin, alpha, f"{LEARNERS_URL}{ada.pk}")  # without the trailing slash too
    assert response.status_code == 200 and set(response.json()) == FIELDS
    assert (response.json()["is_active"], response.json()["disabled"]) == (True, False)


# Changing a learner

def test_a_name_change_keeps_the_old_name_as_the_platform_does(alpha, alpha_admin):
    ada = registered(alpha_admin, alpha, username="ada", email="ada@example.com", name="Ada Byron")
    response = patch(alpha_admin, alpha, ada.pk, {"name": "  Ada Lovelace "})
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Ada Lovelace" and set(response.json()) == FIELDS
    assert LearnerProfile.objects.get(user=ada).name == "Ada Lovelace"
    [[old, rationale, when]] = profile_meta(ada)["old_names"]
    assert (old, rationale) == ("Ada Byron", "Name changed through the Tahoe registration API by alpha_admin")
    assert when.endswith("+00:00")


def test_an_email_change_keeps_the_old_address_and_tells_it_through_the_outbox(alpha, alpha_admin):
    ada = registered(alpha_admin, alpha, username="ada", email="ada@example.com", password="Str0ng-enough-pw",
                     send_activation_email=False)
    response = patch(alpha_admin, alpha, ada.pk, {"email": "ada.lovelace@example.com"})
    assert response.status_code == 200 and response.json()["email"] == "ada.lovelace@example.com"
    ada.refresh_from_db()
    assert ada.email == "ada.lovelace@example.com"
    [[old, _when]] = profile_meta(ada)["old_emails"]
    assert old == "ada@example.com"
    assert [(message.to, message.subject) for message in mail.outbox] == [
        (["ada@example.com"], "Email Change Confirmation")]
    assert "ada.lovelace@example.com" in mail.outbox[0].body
    assert list(emails().values_list("topic", "user_id", "state")) == [
        ("email-changed", ada.pk, "sent")]
    # The old address is free on the site again; the new one is taken.
    assert alpha_admin.register(alpha, learner_body(username="bee", email="ada.lovelace@example.com")).status_code \
        == 409
    assert alpha_admin.register(alpha, learner_body(username="bee", email="ada@example.com")).status_code == 200


def test_the_same_email_is_no_change_and_tells_nobody(alpha, alpha_admin):
    ada = make_user("ada", alpha)
    response = patch(alpha_admin, alpha, ada.pk, {"email": "ada@example.com", "shoe_size": 44})
    assert response.status_code == 200 and mail.outbox == [] and not emails().exists()


def test_a_language_change_is_one_of_the_sites_languages(alpha, alpha_admin):
    ada = registered(alpha_admin, alpha, username="ada", email="ada@example.com", language="en")
    assert patch(alpha_admin, alpha, ada.pk, {"language": "es-419"}).json()["language"] == "es-419"
    assert LearnerProfile.objects.get(user=ada).language == "es-419"
    for bad in ("xx", None, ""):
        refused = patch(alpha_admin, alpha, ada.pk, {"language": bad})
        assert refused.status_code == 400 and list(refused.json()["field_errors"]) == ["language"], bad
    assert LearnerProfile.objects.get(user=ada).language == "es-419"


def test_the_username_cannot_change_once_set(alpha, alpha_admin):
    ada = make_user("ada", alpha)
    response = patch(alpha_admin, alpha, ada.pk, {"username": "ada2", "name": "Ada Lovelace"})
    assert response.status_code == 400
    assert list(response.json()["field_errors"]) == ["username"]
    assert "cannot change" in response.json()["field_errors"]["username"]["user_message"]
    assert not LearnerProfile.objects.filter(user=ada).exists()  # nothing applied


@pytest.mark.parametrize("body, fields", [
    ({"name": ""}, ["name"]),
    ({"name": "<b>Ada</b>"}, ["name"]),
    ({"email": "not an email"}, ["email"]),
    ({"email": None, "name": None}, ["email", "name"]),
    ({"disabled": "maybe"}, ["disabled"]),
    ({"disabled": None}, ["disabled"]),
])
def test_each_field_is_checked_as_at_registration(alpha, alpha_admin, body, fields):
    ada = make_user("ada", alpha)
    response = patch(alpha_admin, alpha, ada.pk, body)
    assert response.status_code == 400 and sorted(response.json()["field_errors"]) == fields
    ada.refresh_from_db()
    assert ada.email == "ada@example.com" and ada.has_usable_password()


def test_a_body_that_is_not_an_object_is_a_400(alpha, alpha_admin):
    ada = make_user("ada", alpha)
    response = patch(alpha_admin, alpha, ada.pk, ["name", "x"])
    assert response.status_code == 400 and "non_field_errors" in response.json()["field_errors"]


def test_an_email_taken_on_the_site_is_a_409_as_registration_answers(alpha, alpha_admin):
    ada, _bo = make_user("ada", alpha), make_user("bo", alpha)
    response = patch(alpha_admin, alpha, ada.pk, {"email": "BO@example.com", "name": "Ada"})
    assert response.status_code == 409
    registration = alpha_admin.register(alpha, learner_body(username="cy", email="bo@example.com"))
    assert response.json() == registration.json()
    assert response.json()["error_code"] == "duplicate-email"
    ada.refresh_from_db()
    assert ada.email == "ada@example.com" and not LearnerProfile.objects.filter(user=ada).exists()


@pytest.mark.parametrize("multi_tenant, expected", [(False, 409), (True, 200)])
def test_another_sites_email_is_taken_where_the_platform_wants_emails_unique(
        alpha, beta, alpha_admin, settings, multi_tenant, expected):
    settings.APPSEMBLER_MULTI_TENANT_EMAILS = multi_tenant
    ada = make_user("ada", alpha)
    make_user("stranger", beta)
    response = patch(alpha_admin, alpha, ada.pk, {"email": "stranger@example.com"})
    assert response.status_code == expected, response.content


def test_an_admin_or_another_sites_learner_cannot_be_changed(alpha, beta, alpha_admin):
    stranger = make_user("stranger", beta)
    for user_id in (stranger.pk, alpha_admin.user.pk, 2**70):
        response = patch(alpha_admin, alpha, user_id, {"name": "Mallory"})
        assert response.status_code == 404 and response.json()["error_code"] == "learner-not-found"
    assert not LearnerProfile.objects.exists()


def test_a_new_email_takes_the_registrations_claim(alpha, alpha_admin, settings):
    """A registration holding the claim on the address keeps the change from committing (a retry, then a 503)."""
    from tahoe_registration_api.adapter import platform_adapter

    settings.TAHOE_REGISTRATION_API_DEADLOCK_RETRIES = 1
    ada = make_user("ada", alpha)
    RegistrationClaim.objects.create(key=claim_key(email_claim(platform_adapter(), "new@example.com",
                                                               alpha.organization)))
    response = patch(alpha_admin, alpha, ada.pk, {"email": "NEW@example.com"})
    assert response.status_code == 503 and response.json()["error_code"] == "service-unavailable"
    ada.refresh_from_db()
    assert ada.email == "ada@example.com" and not emails().exists()
    RegistrationClaim.objects.all().delete()
    assert patch(alpha_admin, alpha, ada.pk, {"email": "NEW@example.com"}).status_code == 200
    assert not RegistrationClaim.objects.exists()  # the change's own claim went with its transaction


# Switching a learner off and on

def test_a_disabled_learner_cannot_sign_in_and_is_enabled_again(alpha, alpha_admin):
    ada = registered(alpha_admin, alpha, username="ada", email="ada@example.com", password=PASSWORD,
                     send_activation_email=False)
    assert authenticate(username="ada", password=PASSWORD) == ada
    off = patch(alpha_admin, alpha, ada.pk, {"disabled": True})
    assert off.status_code == 200 and off.json()["disabled"] is True
    assert authenticate(username="ada", password=PASSWORD) is None
    assert list(PasswordToggleHistory.objects.values_list("user_id", "disabled", "created_by_id", "comment")) == [
        (ada.pk, True, alpha_admin.user.pk, "Disabled through the Tahoe registration API by alpha_admin")]
    assert get(alpha_admin, alpha, f"{LEARNERS_URL}{ada.pk}/").json()["disabled"] is True
    resend = alpha_admin.client.post(f"/tahoe/api/v1/registrations/{ada.pk}/resend/", HTTP_HOST=alpha.domain)
    assert resend.status_code == 409 and resend.json()["error_code"] == "learner-disabled"
    assert patch(alpha_admin, alpha, ada.pk, {"disabled": "TRUE"}).status_code == 200  # already off: no new row
    assert PasswordToggleHistory.objects.count() == 1
    on = patch(alpha_admin, alpha, ada.pk, {"disabled": False})
    assert on.status_code == 200 and on.json()["disabled"] is False
    ada.refresh_from_db()
    assert ada.has_usable_password() and not password_was_set(ada)
    assert authenticate(username="ada", password=PASSWORD) is None  # the old password is gone for good
    assert list(PasswordToggleHistory.objects.order_by("pk").values_list("disabled", flat=True)) == [True, False]
    with TestCase.captureOnCommitCallbacks(execute=True):
        resend = alpha_admin.client.post(f"/tahoe/api/v1/registrations/{ada.pk}/resend/", HTTP_HOST=alpha.domain)
    assert resend.status_code == 202 and resend.json()["email"] == "password-reset"
    assert [message.to for message in mail.outbox] == [["ada@example.com"]]


def test_a_disabled_learners_records_stay(alpha, alpha_admin):
    ada = registered(alpha_admin, alpha, username="ada", email="ada@example.com", name="Ada Lovelace")
    patch(alpha_admin, alpha, ada.pk, {"disabled": True})
    found = get(alpha_admin, alpha, email="ada@example.com").json()["results"]
    assert [(row["user_id"], row["name"], row["disabled"]) for row in found] == [(ada.pk, "Ada Lovelace", True)]


# Dry run, Idempotency-Key, audit

def test_a_dry_run_checks_everything_and_writes_nothing(alpha, alpha_admin):
    ada = registered(alpha_admin, alpha, username="ada", email="ada@example.com", name="Ada Byron")
    make_user("bo", alpha)
    mail.outbox.clear()
    outbox_before = emails().count()
    body = {"name": "Ada Lovelace", "email": "lovelace@example.com", "language": "fr", "disabled": True}
    dry = patch(alpha_admin, alpha, ada.pk, body, query="?dry_run=true")
    assert dry.status_code == 200, dry.content
    assert dry.json() == {**get(alpha_admin, alpha, f"{LEARNERS_URL}{ada.pk}/").json(), **body, "dry_run": True}
    ada.refresh_from_db()
    assert (ada.email, ada.has_usable_password()) == ("ada@example.com", True)
    assert LearnerProfile.objects.get(user=ada).name == "Ada Byron" and "old_names" not in profile_meta(ada)
    assert not PasswordToggleHistory.objects.exists() and emails().count() == outbox_before
    assert mail.outbox == []
    taken = patch(alpha_admin, alpha, ada.pk, {"email": "bo@example.com"}, query="?dry_run=true")
    assert taken.status_code == 409 and taken.json()["error_code"] == "duplicate-email"
    assert patch(alpha_admin, alpha, ada.pk, {}, query="?dry_run=maybe").status_code == 400


def test_an_idempotency_key_gives_the_first_answer_again(alpha, alpha_admin):
    ada = registered(alpha_admin, alpha, username="ada", email="ada@example.com", name="Ada Byron")
    first = patch(alpha_admin, alpha, ada.pk, {"name": "Ada Lovelace"}, HTTP_IDEMPOTENCY_KEY="fix-name-1")
    again = patch(alpha_admin, alpha, ada.pk, {"name": "Ada Lovelace"}, HTTP_IDEMPOTENCY_KEY="fix-name-1")
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert len(profile_meta(ada)["old_names"]) == 1
    other = patch(alpha_admin, alpha, ada.pk, {"name": "Someone Else"}, HTTP_IDEMPOTENCY_KEY="fix-name-1")
    assert other.status_code == 422 and other.json()["error_code"] == "idempotency-key-reused"
    malformed = patch(alpha_admin, alpha, ada.pk, {"name": "X"}, HTTP_IDEMPOTENCY_KEY="\u00e9")
    assert malformed.status_code == 400 and list(malformed.json()["field_errors"]) == ["Idempotency-Key"]


def test_each_change_is_one_audit_entry_naming_the_learner_never_their_details(alpha, alpha_admin):
    ada, _bo = make_user("ada", alpha), make_user("bo", alpha)
    patch(alpha_admin, alpha, ada.pk, {"name": "Ada Lovelace", "email": "lovelace@example.com"})
    patch(alpha_admin, alpha, ada.pk, {"email": "bo@example.com"})
    patch(alpha_admin, alpha, ada.pk, {"disabled": True}, query="?dry_run=1")
    patch(alpha_admin, alpha, ada.pk, {"disabled": True}, query="?dry_run=maybe")
    patch(Caller(token="0" * 40), alpha, ada.pk, {"disabled": True})
    get(alpha_admin, alpha, f"{LEARNERS_URL}{ada.pk}/")
    get(alpha_admin, alpha)
    entries = list(AuditEntry.objects.order_by("pk").values_list("action", "status", "outcome", "error_code",
                                                                 "learner_id", "caller_id"))
    assert entries == [
        ("learner_update", 200, "learner-updated", "", ada.pk, alpha_admin.user.pk),
        ("learner_update", 409, "refused", "duplicate-email", ada.pk, alpha_admin.user.pk),
        ("learner_update_dry_run", 200, "learner-checked", "", ada.pk, alpha_admin.user.pk),
        ("learner_update", 400, "refused", "validation-error", None, alpha_admin.user.pk),
        ("learner_update", 401, "refused", "authentication-failed", None, None),
    ]


def test_a_page_of_learners_costs_the_same_statements_whatever_its_size(alpha, alpha_admin):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    registered(alpha_admin, alpha, username="ada", email="ada@example.com")

    def statements():
        with CaptureQueriesContext(connection) as captured:
            assert get(alpha_admin, alpha).status_code == 200
        return len(captured)

    one = statements()
    for index in range(20):
        registered(alpha_admin, alpha, username=f"learner{index}", email=f"learner{index}@example.com")
    assert statements() == one
