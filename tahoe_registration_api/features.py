"""The platform's feature flags, read as the platform reads them since Ulmo."""

from django.conf import settings


def feature(name, default=False):
    """Read a flag as a top-level setting (Ulmo flattened ``FEATURES``), then from ``FEATURES``."""
    if hasattr(settings, name):
        return getattr(settings, name)
    return getattr(settings, "FEATURES", {}).get(name, default)
