"""How callers authenticate: the ways Open edX integrators already use, tried in this order."""

from django.conf import settings
from edx_rest_framework_extensions.auth.jwt.authentication import JwtAuthentication
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication, TokenAuthentication

from tahoe_registration_api import api


class ActiveUserJwtAuthentication(JwtAuthentication):
    """edx-drf-extensions' JWT authentication (``Authorization: JWT <token>``), refusing inactive users."""

    def authenticate(self, request):
        """Authenticate as JwtAuthentication does; an inactive user's valid JWT is still a 401."""
        if not settings.JWT_AUTH.get("JWT_PUBLIC_SIGNING_JWK_SET"):
            # edx-drf-extensions 10.x accepts any signature when no public signing key is
            # configured (its asymmetric check passes on an empty key set): refuse JWTs then.
            return None
        result = super().authenticate(request)
        if result is not None and not result[0].is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return result


class PlatformBearerAuthentication(BaseAuthentication):
    """The platform's OAuth2 bearer tokens (``Authorization: Bearer <token>``), reached through the adapter."""

    def authenticate(self, request):
        """Delegate to the platform's ``BearerAuthentication`` where the platform provides one."""
        platform_authentication = api.platform_adapter().bearer_authentication()
        if platform_authentication is None:
            return None
        return platform_authentication.authenticate(request)

    def authenticate_header(self, request):
        """Name the scheme in ``WWW-Authenticate``."""
        return 'Bearer realm="api"'


class SiteTokenBearerAuthentication(TokenAuthentication):
    """A site admin's API token sent as ``Authorization: Bearer <token>``; another bearer is left to the platform."""

    keyword = "Bearer"

    def authenticate_credentials(self, key):
        """Return the token's user and token; None when it is no API token (perhaps the platform's OAuth2 one)."""
        try:
            return super().authenticate_credentials(key)
        except exceptions.AuthenticationFailed:
            return None


# The first class names the scheme of the ``WWW-Authenticate`` header of a 401: the
# documented ``Token``. Session authentication enforces CSRF, as DRF's class does.
AUTHENTICATION_CLASSES = (
    TokenAuthentication,
    ActiveUserJwtAuthentication,
    PlatformBearerAuthentication,
    SessionAuthentication,
)

# SCIM clients (identity providers) send one bearer token: the site admin's API token, else the
# platform's OAuth2 token; the documented ``Token`` and a JWT work too. No session: SCIM is machine to
# machine. A 401's ``WWW-Authenticate`` names ``Bearer``.
SCIM_AUTHENTICATION_CLASSES = (
    SiteTokenBearerAuthentication,
    PlatformBearerAuthentication,
    TokenAuthentication,
    ActiveUserJwtAuthentication,
)
