"""
Messages in two languages at once: English for developers, the request's language for people.

An error object's ``developer_message`` stays English (developers search for it); its
``user_message`` is in the language of the request (the LMS's language middleware activates
it from ``Accept-Language``). A ``Message`` is both: a ``str`` whose text is the English one
(logs, the audit trail, ``developer_message``), which also keeps the translation made when it
was built (``translated``: ``gettext`` in the request's language). Placeholders are named
(``{name}``) and filled after translation.

Module-level constants are marked with ``gettext_noop`` (English kept, extracted for the
catalogue) and become a ``Message`` when an error is built, inside the request.

A message is looked up in the plugin's own catalogue (``locale/``) first, then in the LMS's
(Django's merged catalogues: DRF's, Django's, the platform's, ``LOCALE_PATHS``). Some of the
plugin's messages are DRF's or Django's too ("This field is required."), and in Django's merge
the apps listed first win: without this order DRF's or Django's Spanish (``es``) would answer an
``es-419`` caller instead of the plugin's own Latin-American Spanish.
"""

import gettext as gettext_module
from functools import lru_cache
from pathlib import Path

from django.utils.functional import Promise
from django.utils.translation import get_language, gettext, gettext_noop, to_locale, trans_real

LOCALE_DIR = Path(__file__).resolve().parent / "locale"

__all__ = ["Message", "english_of", "gettext_noop", "join", "message", "translate", "user_text"]


class Message(str):
    """English text (the ``str`` itself) with its translation into the active language (``translated``)."""

    translated: str

    def __new__(cls, english, translated=None):
        """Keep ``english`` as the text and ``translated`` beside it (the English text when there is none)."""
        text = super().__new__(cls, english)
        text.translated = str(english) if translated is None else str(translated)
        return text

    def __reduce__(self):
        """Pickle (a Celery argument, a cache) as the English text and its translation."""
        return (Message, (str(self), self.translated))


def message(msgid, **params):
    """
    Translate ``msgid`` now and fill its named ``{placeholders}`` with ``params`` in both languages.

    A parameter that is a ``Message`` itself goes in English into the English text and
    translated into the translation. An empty ``msgid`` stays empty (``gettext("")`` is the
    catalogue's header).
    """
    if isinstance(msgid, Message) and not params:
        return msgid
    english = str(msgid)
    translated = translate(english)
    if params:
        english = english.format(**{name: str(value) if isinstance(value, (Message, Promise)) else value
                                    for name, value in params.items()})
        translated = translated.format(**{name: user_text(value) if isinstance(value, (Message, Promise)) else value
                                          for name, value in params.items()})
    return Message(english, translated)


def join(messages, separator=" "):
    """Join messages as one: the English texts, and the translations, each joined by ``separator``."""
    messages = [text if isinstance(text, Message) else Message(str(text), user_text(text)) for text in messages]
    return Message(separator.join(str(text) for text in messages),
                   separator.join(text.translated for text in messages))


def user_text(text):
    """
    Return the text a person reads, in the active language.

    A ``Message``'s translation; a lazy translation, rendered now; a plain string looked up in
    the catalogues (a constant marked with ``gettext_noop``; any other string comes back as it is).
    """
    if text is None:
        return ""
    if isinstance(text, Message):
        return text.translated
    if isinstance(text, Promise):
        return str(text)
    return translate(str(text))


@lru_cache(maxsize=None)
def _own_catalogue(language):
    """Return the plugin's catalogue of ``language`` (a ``gettext`` translation), None when it has none."""
    try:
        return gettext_module.translation("django", localedir=str(LOCALE_DIR), languages=[to_locale(language)])
    except OSError:
        return None


def translate(text):
    """Return ``text`` in the active language: the plugin's catalogue first, then the LMS's; "" stays ""."""
    if not text:
        return text
    catalogue = _own_catalogue(get_language() or "en")
    if catalogue is not None:
        translated = catalogue.gettext(text)
        if translated != text:
            return translated
    return gettext(text)  # pylint: disable=translation-of-non-string  # a message marked where it is written


def english_of(text):
    """
    Return the English of a text that a catalogue of the LMS translated into the active language; ``text`` otherwise.

    For the messages Django REST framework translates as it raises ("Invalid token."): its
    exceptions keep only the translation. The text is looked up among the translations of the
    active language's catalogues (a text several messages translate to stays as it is).
    """
    language = get_language()
    if not text or not language or language.split("-")[0] == "en":
        return text
    return _msgids_by_translation(language).get(text, text)


@lru_cache(maxsize=32)
def _msgids_by_translation(language):
    """Return ``{translation: msgid}`` of the active catalogues of ``language`` (translations of one message only)."""
    catalogue = getattr(trans_real.translation(language), "_catalog", {})  # the merged catalogue (Django 4.2 to 5.2)
    found, ambiguous = {}, set()
    for msgid, translated in catalogue.items():
        if not isinstance(msgid, str) or not isinstance(translated, str) or not translated or translated == msgid:
            continue
        if found.setdefault(translated, msgid) != msgid:
            ambiguous.add(translated)
    for translated in ambiguous:
        del found[translated]
    return found
