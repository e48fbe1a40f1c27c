"""
Inside the LMS: SCIM 2.0 as Okta and Entra ID use it, and scim2-tester's report, against the platform's own records.

A SCIM create is the platform's account creation (its profile, its Terms of Use, its emails through
the outbox); ``active: false`` is the support tool's "User Disabled", which the LMS's own sign-in
refuses; an email change is an administrator's (the old address gets ``EmailChangeConfirmation``).
scim2-tester, from its own virtualenv, checks the service the LMS serves over HTTP.
"""

import importlib.util
import json
from pathlib import Path

import pytest
from common.djangoapps.student.models import UserPasswordToggleHistory, UserProfile
from django.contrib.auth import authenticate, get_user_model
from django.core import mail
from rest_framework.authtoken.models import Token

from tahoe_registration_api.models import ScimIdentity

from conftest import PASSWORD, TahoeSite, make_user

SCIM = "/tahoe/scim/v2/"
USERS = f"{SCIM}Users"
LOGIN_URL = "/api/user/v2/account/login_session/"
User = get_user_model()


def _compliance():
    """The suites' scim2-tester runner (``tests/scim_compliance.py``: the standard library only)."""
    path = Path(__file__).resolve().parent.parent / "tests" / "scim_compliance.py"
    spec = importlib.util.spec_from_file_location("scim_compliance", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def scim(caller, site, method, path, body=None, **extra):
    """Send a SCIM request with the admin's token as Bearer; print it and its answer (``pytest -s``)."""
    token = Token.objects.get_or_create(user=caller.user)[0].key
    payload = json.dumps(body) if body is not None else ""
    response = caller.client.generic(method, path, payload, content_type="application/scim+json",
                                     HTTP_HOST=site.domain, HTTP_AUTHORIZATION=f"Bearer {token}", **extra)
    print(f"\n> {method} {path} (Host: {site.domain})" + (f"\n> {payload}" if body is not None else ""))
    print(f"< {response.status_code} {response.content.decode()}")
    return response


def signs_in(caller, site, email, password):
    """Whether the LMS's own sign-in (``login_session``) lets the learner in."""
    response = caller.client.post(LOGIN_URL, {"email_or_username": email, "password": password}, HTTP_HOST=site.domain)
    answer = json.loads(response.content)
    print(f"\n> POST {LOGIN_URL} (Host: {site.domain}) email_or_username={email}\n< {response.status_code} "
          f"{json.dumps({key: answer.get(key) for key in ('success', 'value', 'error_code')})}")
    return response.status_code == 200 and answer.get("success") is True


def test_an_okta_sequence_provisions_updates_and_deactivates_a_learner(alpha, alpha_admin):
    lookup = scim(alpha_admin, alpha, "GET",
                  f'{USERS}?filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100',
                  HTTP_USER_AGENT="Okta SCIM Client 1.0.0")
    assert lookup.status_code == 200 and lookup.json()["totalResults"] == 0
    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "test.user@okta.local",
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": True, "value": "test.user@okta.local", "type": "work"}],
        "displayName": "Test User", "locale": "en-US", "externalId": "00ujl29u0le5T6Aj10h7", "groups": [],
        "password": PASSWORD, "active": True,
    }
    created = scim(alpha_admin, alpha, "POST", USERS, body)
    assert created.status_code == 201, created.content
    user = created.json()
    learner = User.objects.get(pk=int(user["id"]))
    assert (learner.username, learner.is_active) == ("test_user", True)
    assert UserProfile.objects.get(user=learner).name == "Test User"
    assert signs_in(alpha_admin, alpha, "test.user@okta.local", PASSWORD)
    found = scim(alpha_admin, alpha, "GET", f'{USERS}?filter=userName eq "test.user@okta.local"').json()
    assert [resource["id"] for resource in found["Resources"]] == [user["id"]]
    by_email = scim(alpha_admin, alpha, "GET", f'{USERS}?filter=emails[type eq "work"].value eq "TEST.USER@okta.local"')
    assert [resource["id"] for resource in by_email.json()["Resources"]] == [user["id"]]
    read = scim(alpha_admin, alpha, "GET", f"{USERS}/{user['id']}").json()
    put = scim(alpha_admin, alpha, "PUT", f"{USERS}/{user['id']}",
               {**read, "name": {"givenName": "Test", "familyName": "Userton"}, "displayName": "Test Userton"})
    assert put.status_code == 200 and UserProfile.objects.get(user=learner).name == "Test Userton"
    off = scim(alpha_admin, alpha, "PATCH", f"{USERS}/{user['id']}", {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": False}}]})
    assert off.status_code == 200 and off.json()["active"] is False
    assert not signs_in(alpha_admin, alpha, "test.user@okta.local", PASSWORD)  # the LMS refuses the sign-in
    assert authenticate(username="test_user", password=PASSWORD) is None
    [history] = UserPasswordToggleHistory.objects.filter(user=learner)
    assert history.disabled and history.created_by == alpha_admin.user
    on = scim(alpha_admin, alpha, "PATCH", f"{USERS}/{user['id']}", {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Replace", "path": "active", "value": "True"}]})
    assert on.status_code == 200 and on.json()["active"] is True
    learner.refresh_from_db()
    assert learner.has_usable_password()  # on again, without a password ("set your password")
    assert not signs_in(alpha_admin, alpha, "test.user@okta.local", PASSWORD)
    synced = scim(alpha_admin, alpha, "PATCH", f"{USERS}/{user['id']}", {  # Okta's password sync
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"password": "N3w-and-strong!"}}]})
    assert synced.status_code == 200 and "password" not in synced.json()
    assert signs_in(alpha_admin, alpha, "test.user@okta.local", "N3w-and-strong!")
    weak = scim(alpha_admin, alpha, "PATCH", f"{USERS}/{user['id']}", {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "password", "value": "test_user"}]})
    assert weak.status_code == 400 and weak.json()["scimType"] == "invalidValue" and "password" in weak.json()["detail"]


def test_an_entra_sequence_creates_without_a_password_changes_the_email_and_deletes(alpha, alpha_admin):
    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "externalId": "0a21f0f2", "userName": "Test_User_00aa@contoso.com", "active": True,
        "emails": [{"primary": True, "type": "work", "value": "Test_User_00aa@contoso.com"}],
        "meta": {"resourceType": "User"}, "name": {"formatted": "Tess User", "familyName": "User", "givenName": "Tess"},
        "roles": [], "title": None, "preferredLanguage": None,
    }
    created = scim(alpha_admin, alpha, "POST", USERS, body)
    assert created.status_code == 201, created.content
    user_id = created.json()["id"]
    [welcome] = mail.outbox  # the platform's "set your password" email, from the site
    assert welcome.to == ["Test_User_00aa@contoso.com"] and welcome.from_email == "learning@alpha.localhost"
    mail.outbox.clear()
    changed = scim(alpha_admin, alpha, "PATCH", f"{USERS}/{user_id}", {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
            {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "tess.user@contoso.com"},
            {"op": "Replace", "path": "name.familyName", "value": "Userton"}]})
    assert changed.status_code == 200, changed.content
    learner = User.objects.get(pk=int(user_id))
    assert learner.email == "tess.user@contoso.com"
    [[old_email, _]] = UserProfile.objects.get(user=learner).get_meta()["old_emails"]
    assert old_email == "Test_User_00aa@contoso.com"
    [told] = mail.outbox
    assert told.to == ["Test_User_00aa@contoso.com"] and "Email Change" in told.subject
    deleted = scim(alpha_admin, alpha, "DELETE", f"{USERS}/{user_id}")
    assert deleted.status_code == 204
    assert scim(alpha_admin, alpha, "GET", f"{USERS}/{user_id}").status_code == 404
    learner.refresh_from_db()
    assert not learner.has_usable_password() and ScimIdentity.objects.get(user_id=learner.pk).deprovisioned


def test_another_sites_learner_is_nobody_to_a_provider(alpha, beta, alpha_admin):
    stranger = make_user("stranger", beta)
    assert scim(alpha_admin, alpha, "GET", f"{USERS}/{stranger.pk}").status_code == 404
    assert scim(alpha_admin, alpha, "GET", f'{USERS}?filter=userName eq "stranger"').json()["totalResults"] == 0


@pytest.fixture(name="lms_server", scope="session")
def fixture_lms_server(request, django_db_setup, django_db_blocker):  # pylint: disable=unused-argument
    """The LMS over HTTP (pytest-django's live server): its middleware reads the database as it starts."""
    with django_db_blocker.unblock():
        return request.getfixturevalue("live_server")


@pytest.mark.django_db(transaction=True)
def test_scim2_tester_finds_every_check_a_success_inside_the_lms(lms_server):
    alpha = TahoeSite("alpha")
    admin = make_user("alpha_admin", alpha, is_admin=True)
    token = Token.objects.get_or_create(user=admin)[0].key
    compliance = _compliance()
    results = compliance.run_scim2_tester(f"{lms_server.url}/tahoe/scim/v2", alpha.domain, token)
    print(compliance.report(results))
    assert compliance.ESSENTIAL <= {result["title"] for result in results}, compliance.report(results)
    assert compliance.unexplained(results) == [], compliance.report(results)
    assert compliance.ALWAYS_SUCCEED <= compliance.successes(results), compliance.report(results)


# Hostile input inside the LMS: a SCIM Error, nothing written, never a 5xx --------------------------

USER_BODY = '{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "%s", "emails": [%s]}'


@pytest.mark.parametrize("body, content_type, status, scim_type", [
    (USER_BODY % ("x\\ud800", '{"value": "a@example.org"}'), "application/scim+json", 400, "invalidSyntax"),
    ('{"userName": "ada", "x": %s}' % ("[" * 2000 + "]" * 2000), "application/scim+json", 400, "invalidSyntax"),
    (USER_BODY % ("ada", '{"value": "a@example.org"}'), "application/scim+json; charset=latin-1", 415, None),
    (USER_BODY % ("ada", '{"value": "a@example.org"}'), "text/plain", 415, None),
    (USER_BODY % ("a" * 300, '{"value": "a@example.org"}'), "application/scim+json", 400, "invalidValue"),
    (USER_BODY % ("ada", '{"value": "%s@example.org"}' % ("e" * 300)), "application/scim+json", 400,
     "invalidValue"),
    ((USER_BODY % ("ada", '{"value": "a@example.org"}'))[:-1] + ', "displayName": "%s"}' % ("d" * 20000),
     "application/scim+json", 413, None),
    ("not json", "application/scim+json", 400, "invalidSyntax"),
])
def test_a_hostile_create_is_a_scim_error_and_writes_nothing(alpha, alpha_admin, body, content_type, status,
                                                             scim_type):
    before = (User.objects.count(), ScimIdentity.objects.count())
    token = Token.objects.get_or_create(user=alpha_admin.user)[0].key
    response = alpha_admin.client.generic("POST", USERS, body.encode("utf-8"), content_type=content_type,
                                          HTTP_HOST=alpha.domain, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/scim+json"
    answer = response.json()
    assert answer["status"] == str(status) and answer.get("scimType") == scim_type and answer["detail"], answer
    assert (User.objects.count(), ScimIdentity.objects.count()) == before


@pytest.mark.parametrize("query", ["filter=%ED%A0%80", "filter=" + "(" * 500, "startIndex=" + "9" * 400,
                                   'filter=userName eq "' + "u" * 5000 + '"', "count=%00"])
def test_a_hostile_query_is_a_200_or_a_scim_400(alpha, alpha_admin, query):
    response = scim(alpha_admin, alpha, "GET", f"{USERS}?{query}")
    assert response.status_code in (200, 400), response.content[:300]
    assert response["Content-Type"] == "application/scim+json"
