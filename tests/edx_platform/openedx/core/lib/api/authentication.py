"""Stand-in for ``openedx/core/lib/api/authentication.py``: OAuth2 bearer tokens of django-oauth-toolkit."""

from django.utils.timezone import now
from oauth2_provider import models as dot_models
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed


class BearerAuthentication(BaseAuthentication):
    """``Authorization: Bearer <token>`` with a django-oauth-toolkit access token, as the platform checks it."""

    www_authenticate_realm = "api"
    allow_inactive_users = False

    def authenticate(self, request):
        """Return ``(user, token)`` for a bearer header, None for another scheme."""
        auth = get_authorization_header(request).split()
        if not auth or auth[0].lower() != b"bearer":
            return None
        if len(auth) != 2:
            raise AuthenticationFailed({"error_code": "token_not_provided", "developer_message": "Invalid header."})
        return self.authenticate_credentials(auth[1].decode("utf8", "replace"))

    def authenticate_credentials(self, access_token):
        """Refuse unknown and expired tokens, users disabled by an admin, and inactive users."""
        token = dot_models.AccessToken.objects.select_related("user").filter(token=access_token).first()
        if not token:
            raise AuthenticationFailed({"error_code": "token_nonexistent", "developer_message": "Invalid token."})
        if token.expires < now():
            raise AuthenticationFailed({"error_code": "token_expired", "developer_message": "Token expired."})
        user = token.user
        has_application = dot_models.Application.objects.filter(user_id=user.id).exists()
        if not user.has_usable_password() and not has_application:
            raise AuthenticationFailed({"error_code": "user_disabled", "developer_message": "User disabled."})
        if not self.allow_inactive_users and not user.is_active:
            raise AuthenticationFailed({"error_code": "user_inactive", "developer_message": "User inactive."})
        return user, token

    def authenticate_header(self, request):
        """Name the scheme for a 401."""
        return f'Bearer realm="{self.www_authenticate_realm}"'
