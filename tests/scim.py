"""What the SCIM tests share: the service's addresses, a provider's client, and bodies as providers send them."""

import json

from django.test import TestCase

SCIM = "/tahoe/scim/v2/"
USERS = f"{SCIM}Users"
MEDIA_TYPE = "application/scim+json"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PASSWORD = "Str0ng-enough-pw"


def bearer(caller):
    """Make ``caller`` (a ``tests.conftest.Caller``) send its API token as identity providers do: Bearer."""
    caller.client.credentials(HTTP_AUTHORIZATION=f"Bearer {caller.token}")
    return caller


def scim(caller, site, method, path, body=None, content_type=MEDIA_TYPE, **extra):  # pylint: disable=too-many-arguments
    """Send one SCIM request to ``site`` (what waits for the commit runs once it is answered)."""
    payload = body if isinstance(body, (bytes, str)) else (b"" if body is None else json.dumps(body))
    with TestCase.captureOnCommitCallbacks(execute=True):
        return caller.client.generic(method, path, payload, content_type=content_type, HTTP_HOST=site.domain, **extra)


def user_url(user_id):
    """The URL of one SCIM User."""
    return f"{USERS}/{user_id}"


def patch_op(*operations):
    """A ``PatchOp`` body."""
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def okta_user(user_name="test.user@okta.local", **overrides):
    """The user Okta creates (developer.okta.com, "SCIM 2.0 Protocol Reference", "Create the user")."""
    body = {
        "schemas": [USER_SCHEMA], "userName": user_name,
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": True, "value": user_name, "type": "work"}],
        "displayName": "Test User", "locale": "en-US", "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [], "password": PASSWORD, "active": True,
    }
    body.update(overrides)
    return body


def entra_user(user_name="Test_User_00aa00aa@contoso.com", **overrides):
    """The user Microsoft Entra ID creates (learn.microsoft.com, "Develop a SCIM endpoint", Example 2)."""
    body = {
        "schemas": [USER_SCHEMA, ENTERPRISE], "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": user_name, "active": True, "addresses": None,
        "displayName": "Test User", "emails": [{"primary": True, "type": "work", "value": user_name}],
        "meta": {"resourceType": "User"}, "name": {"formatted": "Test User", "familyName": "User", "givenName": "Test"},
        "phoneNumbers": None, "preferredLanguage": None, "roles": [], "title": None,
        ENTERPRISE: {"department": None, "manager": None},
    }
    body.update(overrides)
    return body


def assert_scim_error(response, status, scim_type=None, mentions=None):
    """Assert a SCIM ``Error``: its status (a string too), its type, and what its detail names."""
    assert response.status_code == status, (response.status_code, response.content[:400])
    assert response["Content-Type"] == MEDIA_TYPE, response["Content-Type"]
    body = response.json()
    assert body["schemas"] == [ERROR_SCHEMA] and body["status"] == str(status), body
    assert set(body) <= {"schemas", "status", "scimType", "detail"}, body
    assert body.get("scimType") == scim_type, body
    if mentions is not None:
        assert mentions in body["detail"], body
    return body
