"""Stand-in for the platform's ``user_api`` app."""

from django.apps import AppConfig


class UserApiConfig(AppConfig):
    """The ``user_api`` app (stand-in)."""

    name = "openedx.core.djangoapps.user_api"
    label = "user_api"
    default_auto_field = "django.db.models.AutoField"
