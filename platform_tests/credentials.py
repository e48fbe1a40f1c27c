"""The credentials integrators use, minted by the LMS itself: JWTs and OAuth2 bearer tokens."""

from datetime import timedelta

from django.utils import timezone
from oauth2_provider.models import AccessToken, Application
from openedx.core.djangoapps.oauth_dispatch.jwt import create_jwt_for_user


def jwt_authorization(user):
    """An ``Authorization: JWT`` value signed by the LMS for ``user``."""
    return f"JWT {create_jwt_for_user(user)}"


def bearer_authorization(user):
    """An ``Authorization: Bearer`` value: a django-oauth-toolkit access token of the LMS for ``user``."""
    application = Application.objects.create(
        name="CRM", user=user, client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
    )
    token = AccessToken.objects.create(
        user=user, application=application, token=f"bearer-{user.pk}-token",
        expires=timezone.now() + timedelta(hours=1), scope="read write",
    )
    return f"Bearer {token.token}"
