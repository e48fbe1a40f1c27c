"""Stand-in for ``openedx.core.djangoapps.site_configuration``."""
