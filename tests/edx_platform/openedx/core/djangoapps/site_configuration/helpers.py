"""Stand-in for ``openedx/core/djangoapps/site_configuration/helpers.py``: the current site's configuration values."""

from django.conf import settings


def get_value(val_name, default=None, **kwargs):  # pylint: disable=unused-argument
    """Return the current site's value for ``val_name`` (``settings.STANDIN_SITE_CONFIGURATION``), else ``default``."""
    configuration = getattr(settings, "STANDIN_SITE_CONFIGURATION", None) or {}
    return configuration.get(val_name, default)
