"""
The request sequences Okta and Microsoft Entra ID send, from their public SCIM documentation, end to end.

Okta: developer.okta.com, "SCIM 2.0 Protocol Reference" (look up by ``userName``, create, read,
update with PUT, deactivate with a path-less PATCH; Okta never deletes). Entra ID: learn.microsoft.com,
"Tutorial: Develop and plan provisioning for a SCIM endpoint" and "Known issues and resolutions with
SCIM 2.0 protocol compliance" (capitalised operations, ``"False"`` as a string, ``emails[type eq
"work"].value`` paths, a path-less replace with dotted keys, DELETE after a soft delete).
"""

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core import mail

from devlms.models import LearnerProfile
from tests.scim import (
    ENTERPRISE,
    LIST_RESPONSE,
    PASSWORD,
    USER_SCHEMA,
    USERS,
    assert_scim_error,
    bearer,
    entra_user,
    okta_user,
    patch_op,
    scim,
    user_url,
)

User = get_user_model()
OKTA = {"HTTP_USER_AGENT": "Okta SCIM Client 1.0.0"}


@pytest.fixture
def provider(alpha_admin):
    """Alpha's identity provider: alpha's admin token, sent as Bearer."""
    return bearer(alpha_admin)


def test_okta_provisions_updates_and_deactivates_a_learner(alpha, provider):
    # 1. Is the user already there? A ListResponse of nobody, integers throughout.
    lookup = scim(provider, alpha, "GET", f'{USERS}?filter=userName%20eq%20%22test.user%40okta.local%22'
                                          "&startIndex=1&count=100", **OKTA)
    assert lookup.status_code == 200
    assert lookup.json() == {"schemas": [LIST_RESPONSE], "totalResults": 0, "startIndex": 1, "itemsPerPage": 0,
                             "Resources": []}
    # 2. Create (Okta's own body, its password and groups included): 201 with the full user and its id.
    created = scim(provider, alpha, "POST", USERS, okta_user(), content_type="application/scim+json", **OKTA)
    assert created.status_code == 201, created.content
    user = created.json()
    assert user["id"] and user["userName"] == "test.user@okta.local" and user["active"] is True
    assert authenticate(username="test_user", password=PASSWORD).pk == int(user["id"])
    # Okta retries a create it thinks failed: the duplicate is a 409 with a SCIM error.
    assert_scim_error(scim(provider, alpha, "POST", USERS, okta_user(), **OKTA), 409, "uniqueness")
    # 3. The lookup finds them now; 4. read by id.
    assert [found["id"] for found in scim(provider, alpha, "GET", lookup.request["PATH_INFO"] + "?"
                                          + lookup.request["QUERY_STRING"], **OKTA).json()["Resources"]] == [user["id"]]
    read = scim(provider, alpha, "GET", user_url(user["id"]), **OKTA).json()
    assert read == user
    # 5. Update: Okta GETs, then PUTs the whole object back (id, meta, groups and all) with its change.
    changed = {**read, "name": {"givenName": "Test", "familyName": "Userton"}, "displayName": "Test Userton",
               "groups": []}
    put = scim(provider, alpha, "PUT", user_url(user["id"]), changed, **OKTA)
    assert put.status_code == 200, put.content
    assert put.json()["name"] == {"givenName": "Test", "familyName": "Userton"}
    assert LearnerProfile.objects.get(user_id=int(user["id"])).name == "Test Userton"
    # 6. Deactivate: a path-less replace of {"active": false}; the learner can no longer sign in.
    off = scim(provider, alpha, "PATCH", user_url(user["id"]),
               patch_op({"op": "replace", "value": {"active": False}}), **OKTA)
    assert off.status_code == 200 and off.json()["active"] is False
    assert authenticate(username="test_user", password=PASSWORD) is None
    # Okta imports users page by page: the deactivated learner is still listed, inactive.
    imported = scim(provider, alpha, "GET", f"{USERS}?startIndex=1&count=100", **OKTA).json()
    assert [(found["id"], found["active"]) for found in imported["Resources"]] == [(user["id"], False)]
    # Reactivate.
    on = scim(provider, alpha, "PATCH", user_url(user["id"]),
              patch_op({"op": "replace", "value": {"active": True}}), **OKTA)
    assert on.json()["active"] is True and User.objects.get(pk=int(user["id"])).has_usable_password()


def test_okta_connection_test_lists_two_users(alpha, provider):
    for number in range(3):
        scim(provider, alpha, "POST", USERS, okta_user(f"user{number}@okta.local", externalId=f"00u{number}"))
    answer = scim(provider, alpha, "GET", f"{USERS}?startIndex=1&count=2", **OKTA).json()
    assert (answer["totalResults"], answer["itemsPerPage"], len(answer["Resources"])) == (3, 2, 2)


def test_entra_provisions_updates_soft_deletes_and_deletes_a_learner(alpha, provider):
    # Query by userName, then by externalId: nobody.
    for query in ('userName eq "Test_User_00aa00aa@contoso.com"',
                  'externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"'):
        answer = scim(provider, alpha, "GET", f"{USERS}?filter={query}").json()
        assert (answer["totalResults"], answer["Resources"]) == (0, [])
    # Create: the enterprise extension, read-only meta and explicit nulls are accepted; no password.
    created = scim(provider, alpha, "POST", USERS, entra_user())
    assert created.status_code == 201, created.content
    user = created.json()
    assert user["name"] == {"formatted": "Test User", "familyName": "User", "givenName": "Test"}
    assert [message.to for message in mail.outbox] == [["Test_User_00aa00aa@contoso.com"]]  # set your password
    # The uniqueness attributes are each filterable, the email through its type too.
    for query in ('userName eq "test_user_00aa00aa@contoso.com"',
                  'externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"',
                  'emails[type eq "work"].value eq "Test_User_00aa00aa@contoso.com"'):
        assert [found["id"] for found in scim(provider, alpha, "GET", f"{USERS}?filter={query}").json()[
            "Resources"]] == [user["id"]], query
    # Update: capitalised operations with paths, the email through its type, the userName itself.
    mail.outbox.clear()
    update = scim(provider, alpha, "PATCH", user_url(user["id"]), patch_op(
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "updatedEmail@contoso.com"},
        {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
        {"op": "Replace", "path": "userName", "value": "updated.user@contoso.com"},
        {"op": "Add", "path": "nickName", "value": "Babs"},
        {"op": "Replace", "path": f"{ENTERPRISE}:employeeNumber", "value": "1234"},
        {"op": "Add", "path": "manager", "value": [{"$ref": "../Users/1", "value": "1"}]},
    ))
    assert update.status_code == 200, update.content
    answer = update.json()
    assert (answer["userName"], answer["emails"][0]["value"], answer["name"]["familyName"]) == (
        "updated.user@contoso.com", "updatedEmail@contoso.com", "updatedFamilyName")
    assert User.objects.get(pk=int(user["id"])).email == "updatedEmail@contoso.com"
    assert [message.to for message in mail.outbox] == [["Test_User_00aa00aa@contoso.com"]]  # the old address
    # The path-less replace with dotted keys (Entra ID with the aadOptscim062020 flag).
    flagged = scim(provider, alpha, "PATCH", user_url(user["id"]), patch_op({"op": "replace", "value": {
        "displayName": "Tess User", "name.givenName": "Tess", "name.familyName": "User",
        f"{ENTERPRISE}:employeeNumber": "1234"}}))
    assert flagged.json()["name"] == {"formatted": "Test User", "givenName": "Tess", "familyName": "User"}
    # Soft delete: "False" as a string (without the flag); the user is still returned, inactive.
    soft = scim(provider, alpha, "PATCH", user_url(user["id"]), patch_op(
        {"op": "Replace", "path": "active", "value": "False"}))
    assert soft.status_code == 200 and soft.json()["active"] is False
    listed = scim(provider, alpha, "GET", f'{USERS}?filter=userName eq "updated.user@contoso.com"').json()
    assert [(found["id"], found["active"]) for found in listed["Resources"]] == [(user["id"], False)]
    # Hard delete: 204, then gone.
    assert scim(provider, alpha, "DELETE", user_url(user["id"])).status_code == 204
    assert_scim_error(scim(provider, alpha, "GET", user_url(user["id"])), 404)


def test_entra_connection_test_reads_a_random_user(alpha, provider):
    assert_scim_error(scim(provider, alpha, "GET", f"{USERS}/00000000-0000-0000-0000-000000000000"), 404)
    answer = scim(provider, alpha, "GET", f'{USERS}?filter=userName eq "{USER_SCHEMA}"').json()
    assert answer["totalResults"] == 0
