"""Who may call what: every (endpoint x credential kind x caller role x site) cell answers as expected."""

import itertools
import json
from datetime import timedelta
from time import time

import pytest
from django.contrib.auth import get_user_model
from django.utils.timezone import now
from edx_rest_framework_extensions.auth.jwt.tests.utils import (
    generate_asymmetric_jwt_token,
    generate_jwt_token,
    generate_latest_version_payload,
)
from oauth2_provider.models import AccessToken, Application
from rest_framework.test import APIClient

from devlms import fake_platform
from devlms.management.commands.devlms_seed import seed_courses
from devlms.models import CourseEnrollment, CourseEnrollmentAllowed, LearnerProfile, SiteConfiguration
from tahoe_registration_api import edxapp
from tahoe_registration_api.models import WebhookEndpoint
from tests.access_matrix import (
    CREATED,
    CREDENTIALS,
    ENDPOINTS,
    ROLES,
    SCIM_CREDENTIALS,
    SCIM_ENDPOINTS,
    SITES,
    expected_scim_status,
    expected_status,
)
from tests.conftest import Caller, learner_body, make_user

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
        "API token as Bearer": f"Bearer {Caller(user).token}",
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


# The keys of a 200's body, per endpoint.
ANSWERS = {
    "register": {"user_id"},
    "list courses": {"count", "next", "previous", "results"},
    "get a course": {"id", "display_name", "org", "number", "start", "end", "enrollment_start", "enrollment_end",
                     "modes"},
    "list enrollments": {"count", "next", "previous", "results"},
    "enroll": {"action", "auto_enroll", "email_students", "email_learners", "mode", "courses"},
    "get a learner": {"user_id", "username", "email", "name", "is_active", "disabled", "language", "date_joined"},
    "change a learner": {"user_id", "username", "email", "name", "is_active", "disabled", "language", "date_joined"},
    "list webhooks": {"count", "next", "previous", "results"},
    "create a webhook": {"id", "url", "events", "created", "enabled", "failing_since", "disabled_at",
                         "disabled_reason", "previous_secret_expires", "secret"},
}


def call(client, endpoint, site, host):
    """Call ``endpoint`` on ``site`` (its short name) at ``host``: a registration, a read, an enrollment, a change."""
    method, path = ENDPOINTS[endpoint]
    if "{learner}" in path:
        path = path.format(learner=get_user_model().objects.get(username=f"{site}_member").pk)
    path = path.format(site=site)
    if endpoint == "register":
        return client.post(path, learner_body(), format="json", HTTP_HOST=host)
    if endpoint == "enroll":
        body = {"action": "enroll", "identifiers": ["dee@example.com"], "courses": [f"course-v1:{site}+Intro+2026"]}
        return client.post(path, body, format="json", HTTP_HOST=host)
    if endpoint == "change a learner":
        return client.patch(path, {"name": "Renamed Member"}, format="json", HTTP_HOST=host)
    if endpoint == "create a webhook":
        body = {"url": "https://93.184.215.14/hooks", "events": ["learner.registered"]}
        return client.post(path, body, format="json", HTTP_HOST=host)
    return client.generic(method, path, HTTP_HOST=host)


@pytest.fixture
def courses(alpha, beta):
    """Each site's two courses, and a learner of each site (``alpha_member``, ``beta_member``)."""
    make_user("alpha_member", alpha)
    make_user("beta_member", beta)
    return seed_courses(alpha.organization), seed_courses(beta.organization)


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("staff_allowed", [False, True])
@pytest.mark.parametrize("credential,role,site", CELLS)
def test_access_matrix(cast, alpha, beta, courses, settings, monkeypatch, credential, role, site, staff_allowed,
                       endpoint):
    settings.TAHOE_REGISTRATION_API_ALLOW_STAFF = staff_allowed
    if credential == "OAuth2 bearer" and endpoint == "register":
        settings.TAHOE_REGISTRATION_API_ADAPTER = REAL_ADAPTER
    elif credential == "OAuth2 bearer":  # the platform's bearer tokens, the development LMS's courses
        monkeypatch.setattr(fake_platform, "bearer_authentication", edxapp.bearer_authentication)
    client = client_for(credential, cast[role])
    host = {"alpha": alpha, "beta": beta}[site].domain
    response = call(client, endpoint, site, host)
    expected = expected_status(credential, role, site, staff_allowed, ENDPOINTS[endpoint][0])
    expected = 201 if expected == 200 and endpoint in CREATED else expected
    assert response.status_code == expected, response.content
    body = response.json()
    if response.status_code in (200, 201):
        assert body.keys() == ANSWERS[endpoint]
    else:
        assert body["error_code"] and body["user_message"]
        assert not CourseEnrollmentAllowed.objects.exists()  # a refused enrollment call changed nothing
        assert not LearnerProfile.objects.exists()  # a refused change of a learner changed nothing
        assert not WebhookEndpoint.objects.exists()  # a refused creation of a webhook made none
    if response.status_code == 401:
        assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("endpoint", list(SCIM_ENDPOINTS))
@pytest.mark.parametrize("staff_allowed", [False, True])
@pytest.mark.parametrize("credential,role,site", list(itertools.product(SCIM_CREDENTIALS, ROLES, SITES)))
def test_scim_access_matrix(cast, alpha, beta, settings, monkeypatch, credential, role, site, staff_allowed, endpoint):
    settings.TAHOE_REGISTRATION_API_ALLOW_STAFF = staff_allowed
    if credential == "OAuth2 bearer":
        monkeypatch.setattr(fake_platform, "bearer_authentication", edxapp.bearer_authentication)
    method, path = SCIM_ENDPOINTS[endpoint]
    host = {"alpha": alpha, "beta": beta}[site].domain
    user = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ada",
            "emails": [{"value": "ada@example.com", "type": "work"}]}
    response = client_for(credential, cast[role]).generic(
        method, path, json.dumps(user) if method == "POST" else "", content_type="application/scim+json",
        HTTP_HOST=host)
    expected = expected_scim_status(credential, role, site, staff_allowed)
    expected = 201 if expected == 200 and method == "POST" else expected
    assert response.status_code == expected, response.content
    assert response["Content-Type"] == "application/scim+json"
    body = response.json()
    if response.status_code >= 400:
        assert body["status"] == str(expected) and body["detail"]
        assert not get_user_model().objects.filter(username="ada").exists()  # a refused create wrote nothing
    if response.status_code == 401:
        assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("endpoint", list(ENDPOINTS) + list(SCIM_ENDPOINTS))
@pytest.mark.parametrize("switched_off", ["globally", "for the site"])
def test_the_api_switched_off_is_a_403_on_every_endpoint(cast, alpha, beta, courses, settings, endpoint,
                                                         switched_off):
    if switched_off == "globally":
        settings.TAHOE_REGISTRATION_API_ENABLED = False
    else:
        SiteConfiguration.objects.update_or_create(site=alpha.site, defaults={
            "enabled": True, "site_values": {"TAHOE_REGISTRATION_API_ENABLED": False}})
    if endpoint in SCIM_ENDPOINTS:  # a SCIM Error, naming why
        response = client_for("Token", cast["alpha admin"]).get("/tahoe/scim/v2/Users", HTTP_HOST=alpha.domain)
        assert response.status_code == 403 and "switched off" in response.json()["detail"]
        other = client_for("Token", cast["beta admin"]).get("/tahoe/scim/v2/Users", HTTP_HOST=beta.domain)
        assert other.status_code == (403 if switched_off == "globally" else 200)
        return
    response = call(client_for("Token", cast["alpha admin"]), endpoint, "alpha", alpha.domain)
    assert response.status_code == 403 and response.json()["error_code"] == "registration-api-disabled"
    assert not CourseEnrollment.objects.exists() and not CourseEnrollmentAllowed.objects.exists()
    assert call(client_for("Token", cast["beta admin"]), endpoint, "beta", beta.domain).status_code == (
        403 if switched_off == "globally" else 201 if endpoint in CREATED else 200)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_another_sites_course_is_no_course_of_its_admin(cast, alpha, beta, courses, method):
    """An admin of alpha, on alpha, naming beta's course (one course, an enrollment): no site's, never a change."""
    client = client_for("Token", cast["alpha admin"])
    if method == "GET":
        response = client.get("/tahoe/api/v1/courses/course-v1:beta+Intro+2026/", HTTP_HOST=alpha.domain)
        assert response.status_code == 404 and response.json()["error_code"] == "course-not-found"
    else:
        response = client.post("/tahoe/api/v1/enrollments/", {
            "action": "enroll", "identifiers": ["beta_admin"], "courses": ["course-v1:beta+Intro+2026"]},
            format="json", HTTP_HOST=alpha.domain)
        assert response.status_code == 400 and response.json()["error_code"] == "invalid-course-ids"
    assert not CourseEnrollment.objects.exists() and not CourseEnrollmentAllowed.objects.exists()


@pytest.mark.parametrize("method", ["GET", "PATCH"])
def test_another_sites_learner_is_no_learner_of_its_admin(cast, alpha, beta, courses, method):
    """An admin of alpha, on alpha, naming beta's learner: nobody, never a change."""
    client = client_for("Token", cast["alpha admin"])
    beta_member = get_user_model().objects.get(username="beta_member")
    response = client.generic(method, f"/tahoe/api/v1/learners/{beta_member.pk}/", '{"name": "Mallory"}',
                              content_type="application/json", HTTP_HOST=alpha.domain)
    assert response.status_code == 404 and response.json()["error_code"] == "learner-not-found"
    assert not LearnerProfile.objects.exists()


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
