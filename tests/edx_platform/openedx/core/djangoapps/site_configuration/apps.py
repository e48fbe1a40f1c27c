"""Stand-in for the platform's ``site_configuration`` app."""

from django.apps import AppConfig


class SiteConfigurationConfig(AppConfig):
    """The ``site_configuration`` app (stand-in)."""

    name = "openedx.core.djangoapps.site_configuration"
    label = "site_configuration"
    default_auto_field = "django.db.models.AutoField"
