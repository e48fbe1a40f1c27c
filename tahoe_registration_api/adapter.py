"""Where the plugin reaches the platform: the adapter module named by the settings."""

from importlib import import_module

from django.conf import settings


def platform_adapter():
    """Return the module through which the platform is called (``edxapp`` in an LMS)."""
    return import_module(settings.TAHOE_REGISTRATION_API_ADAPTER)
