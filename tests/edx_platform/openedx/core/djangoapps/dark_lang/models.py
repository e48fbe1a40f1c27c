"""
Stand-in for ``openedx/core/djangoapps/dark_lang/models.py``: the current ``DarkLangConfig``.

The platform's is a configuration model edited in the admin; here the setting
``STANDIN_DARK_LANG`` (``{"enabled": bool, "released": "es-419,fr"}``) stands for its current row.
"""

from django.conf import settings


class DarkLangConfig:
    """The current dark-lang configuration."""

    def __init__(self, enabled, released):
        """Keep whether it is enabled and the released codes."""
        self.enabled = enabled
        self.released_languages_list = [code.strip() for code in released.split(",") if code.strip()]

    @classmethod
    def current(cls):
        """Return the configuration in force."""
        config = getattr(settings, "STANDIN_DARK_LANG", {})
        return cls(config.get("enabled", False), config.get("released", ""))
