"""Stand-in for ``openedx/core/djangoapps/lang_pref/api.py``: the released languages."""

from collections import namedtuple

from django.conf import settings
from openedx.core.djangoapps.dark_lang.models import DarkLangConfig

Language = namedtuple("Language", "code name")


def released_languages():
    """Return the LMS's languages that dark-lang released, and the default one, as the platform does."""
    released = set(DarkLangConfig.current().released_languages_list) | {settings.LANGUAGE_CODE}
    return [Language(code, name) for code, name in settings.LANGUAGES if code in released]
