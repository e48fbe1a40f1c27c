"""Who may register whom: every (credential kind x caller role x site) cell answers as expected."""

import itertools
from datetime import timedelta
from time import time

import pytest
from django.utils.timezone import now
from edx_rest_framework_extensions.auth.jwt.tests.utils import (
    generate_asymmetric_jwt_token,
    generate_jwt_token,
    generate_latest_version_payload,
)
from oauth2_provider.models import AccessToken, Application
from rest_framework.test import APIClient

from tests.access_matrix import CREDENTIALS, ROLES, SITES, expected_status
from tests.conftest import Caller, learner_body

CSRF = "a" * 32
REAL_ADAPTER = "tahoe_registration_api.edxapp"  # OAuth2 bearer tokens exist only where the platform does


def bearer_token(user, expired=False):
    application = Application.objects.create(
        name="integration", user=user, client_type="confidential", authorization_grant_type="client-credentials"
    )
    expires = now() + (timedelta(hours=-1) if expired else timedelta(hours=1))
    return AccessToken.objects.create(user=user, application=application, token=f"bearer-{user.pk}-{expired}",
                                      expires=expires, scope="read write").token


def jwt_for(user, expired=False, signing_key=None):
    """A JWT as the LMS mints it (asymmetric), or one signed with another (symmetric) key."""
    payload = generate_latest_version_payload(user)
    if expired:
        payload["exp"] = int(time()) - 60
    if signing_key:
        return generate_jwt_token(payload, signing_key=signing_key)
    return generate_asymmetric_jwt_token(payload)


def client_for(credential, user):
    """An API client carrying ``credential`` of ``user``."""
    client = APIClient(enforce_csrf_checks=True)
    headers = {
        "none": None,
        "malformed": "Token",
        "unknown": "Token 0123456789abcdef0123456789abcdef01234567",
        "expired": f"JWT {jwt_for(user, expired=True)}",
        "Token": f"Token {Caller(user).token}",
        "JWT": f"JWT {jwt_for(user)}",
        "OAuth2 bearer": f"Bearer {bearer_token(user)}",
    }
    if credential.startswith("session"):
        client.force_login(user)
        if credential == "session+CSRF":
            client.cookies["csrftoken"] = CSRF
            client.credentials(HTTP_X_CSRFTOKEN=CSRF)
    elif headers[credential]:
        client.credentials(HTTP_AUTHORIZATION=headers[credential])
    return client


CELLS = list(itertools.product(CREDENTIALS, ROLES, SITES))


@pytest.mark.parametrize("staff_allowed", [False, True])
@pytest.mark.parametrize("credential,role,site", CELLS)
def test_access_matrix(cast, alpha, beta, settings, credential, role, site, staff_allowed):
    settings.TAHOE_REGISTRATION_API_ALLOW_STAFF = staff_allowed
    if credential == "OAuth2 bearer":
        settings.TAHOE_REGISTRATION_API_ADAPTER = REAL_ADAPTER
    client = client_for(credential, cast[role])
    host = {"alpha": alpha, "beta": beta}[site].domain
    response = client.post("/tahoe/api/v1/registrations/", learner_body(), format="json", HTTP_HOST=host)
    assert response.status_code == expected_status(credential, role, site, staff_allowed), response.content
    body = response.json()
    if response.status_code == 200:
        assert body.keys() == {"user_id"}
    else:
        assert body["error_code"] and body["user_message"]
    if response.status_code == 401:
        assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("header", [
    "JWT", "JWT not.a.jwt", "Bearer", "Bearer unknown-token", "Token a b", "Basic dXNlcjpwYXNz",
])
def test_other_malformed_or_unknown_credentials_are_401(alpha, header, db):  # pylint: disable=unused-argument
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.post("/tahoe/api/v1/registrations/", learner_body(), format="json", HTTP_HOST=alpha.domain)
    assert response.status_code == 401
    assert response.json()["error_code"] in {"authentication-failed", "not-authenticated"}
    assert response["WWW-Authenticate"] == "Token"


def test_a_jwt_signed_with_another_key_is_401(cast, alpha):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"JWT {jwt_for(cast['alpha admin'], signing_key='another-key')}")
    response = client.post("/tahoe/api/v1/registrations/", learner_body(), format="json", HTTP_HOST=alpha.domain)
    assert response.status_code == 401


def test_a_symmetric_jwt_with_the_configured_secret_is_accepted(cast, alpha, settings):
    client = APIClient()
    secret = settings.JWT_AUTH["JWT_ISSUERS"][0]["SECRET_KEY"]
    client.credentials(HTTP_AUTHORIZATION=f"JWT {jwt_for(cast['alpha admin'], signing_key=secret)}")
    response = client.post("/tahoe/api/v1/registrations/", learner_body(), format="json", HTTP_HOST=alpha.domain)
    assert response.status_code == 200


def test_jwts_are_refused_when_no_public_signing_key_is_configured(cast, alpha, settings):
    """edx-drf-extensions would accept any signature then; the plugin does not take JWTs at all."""
    settings.JWT_AUTH = {**settings.JWT_AUTH, "JWT_PUBLIC_SIGNING_JWK_SET": None}
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"JWT {jwt_for(cast['alpha admin'], signing_key='forged')}")
    response = client.post("/tahoe/api/v1/registrations/", learner_body(), format="json", HTTP_HOST=alpha.domain)
    assert response.status_code == 401


def test_an_expired_oauth2_token_is_401(cast, alpha, settings):
    settings.TAHOE_REGISTRATION_API_ADAPTER = REAL_ADAPTER
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {bearer_token(cast['alpha admin'], expired=True)}")
    response = client.post("/tahoe/api/v1/registrations/", learner_body(), format="json", HTTP_HOST=alpha.domain)
    assert response.status_code == 401
