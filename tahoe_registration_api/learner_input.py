"""
A learner's fields, validated by the domain: a JSON object or a CSV row in, a ``RegistrationRequest`` out.

Every way in (a single call, a bulk call, a job's CSV row, the import command) reads a learner
here; the REST serializers only map. The rules, their order and their messages are those the v1
API has always answered, which were Django REST framework's: its ``CharField`` (blank, null,
required, trimmed whitespace, "Not a valid string.", lengths, null and surrogate characters) and
the plugin's stricter fields on top of it. Every message is English, marked for translation
(``i18n``): the error object says it in the request's language too. Messages that were DRF's or
Django's keep their msgids, so their catalogues translate them as before.
"""

import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Callable, Optional, Tuple

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils import translation
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey

from tahoe_registration_api.data import LearnerChange, RegistrationRequest
from tahoe_registration_api.exceptions import InvalidRegistration
from tahoe_registration_api.features import feature
from tahoe_registration_api.i18n import Message, gettext_noop, join, message

# Lengths of the platform's form fields and columns (openedx.core.djangoapps.user_api.accounts).
USERNAME_MIN_LENGTH = 2
EMAIL_MIN_LENGTH = 3
EMAIL_MAX_LENGTH = 254
NAME_MAX_LENGTH = 255
PASSWORD_MAX_LENGTH = 5000
LANGUAGE_MAX_LENGTH = 16  # the longest of the LMS's language codes is 7 ("zh-hans")
REF_MAX_LENGTH = 255
COURSES_MAX = 20  # courses one learner may be enrolled in at registration
COURSE_KEY_MAX_LENGTH = 255  # the platform's CourseKeyField
MODE_MAX_LENGTH = 100  # the platform's CourseMode.mode_slug
# The longest value of an extension field the API reads: the form's own rules decide below it.
EXTENSION_VALUE_MAX_LENGTH = 10000

# The fields of a registration as v1 has always read them.
FIELDS = ("username", "email", "name", "password", "send_activation_email", "language")
# The courses to enroll the learner in with the registration, and their mode.
ENROLLMENT_FIELDS = ("courses", "mode")
# The names a learner's fields are the API's own under: never an extension field.
OWN_FIELDS = FIELDS + ENROLLMENT_FIELDS + ("ref",)
# Control characters an extension value may hold: a multi-line text is the form's to accept or refuse.
EXTENSION_CONTROL_CHARACTERS = "\t\n\r"

ASCII_USERNAME = re.compile(r"^[-a-zA-Z0-9_]+\Z")
# As the platform's validate_name: no HTML brackets, no URLs.
NAME_HTML = re.compile(r"[<>]")
NAME_URL = re.compile(r"://")
VALID_EMAIL = EmailValidator(message=gettext_noop("Enter a valid email address."))
FORBIDDEN_CATEGORY_MESSAGES = {
    "Cc": gettext_noop("Must not contain control characters."),
    "Cf": gettext_noop("Must not contain invisible (format) characters such as zero-width spaces."),
}
BOOLEANS = {"true": True, "false": False}
COURSES_SEPARATOR = re.compile(r"[;,\s]+")  # a CSV cell: "course-v1:a+b+c;course-v1:a+d+e"

_MISSING = object()  # a field the input does not have


class _Refused(Exception):
    """One field's messages, in the order they were found."""

    def __init__(self, *messages):
        """Keep the messages (never the value: it may be a password)."""
        super().__init__()
        self.messages = [message(text) for text in messages]


@dataclass(frozen=True)
class TextRule:
    """How one text field is read (as DRF's ``CharField`` with the v1 serializer's options read it)."""

    required: bool = True
    allow_null: bool = False
    allow_blank: bool = False
    trim: bool = True
    strict: bool = True  # only a string; otherwise a number is taken as its digits, as DRF takes it
    forbidden: Tuple[str, ...] = ("Cc",)  # Unicode categories refused in the untrimmed string
    check: Optional[Callable[[str], None]] = None  # the field's own rule on the trimmed string: raises _Refused
    validators: Tuple[Callable[[str], Optional[str]], ...] = ()  # each returns a message; all are collected


def username_max_length():
    """Return the platform's longest username (``USERNAME_MAX_LENGTH``, an operator setting; 30 by default)."""
    return getattr(settings, "USERNAME_MAX_LENGTH", 30)


def extension_names(form_fields):
    """Return the names of an extension form's fields that are extension fields: all but the API's own."""
    return tuple(name for name in form_fields if name not in OWN_FIELDS)


def parse_course_key(text):
    """Return ``text`` as a course key's canonical string, or None when it is no course key (edx-opaque-keys)."""
    if not isinstance(text, str) or not text.strip() or len(text) > COURSE_KEY_MAX_LENGTH:
        return None
    try:
        return str(CourseKey.from_string(text.strip()))
    except InvalidKeyError:
        return None


def parse_registration(data, extension_fields=()):
    """
    Return the learner of ``data`` (a JSON object or a CSV row) as a ``RegistrationRequest``.

    ``extension_fields`` names the fields of the LMS's extension form (``edxapp.extension_field_names``):
    their values are read too (a string, a number, a boolean or null; the form's own rules are
    the platform's, later). Other keys are ignored. Raises ``InvalidRegistration`` whose
    ``field_errors`` name every refused field (its messages joined by a space), or
    ``non_field_errors`` when ``data`` is not an object.
    """
    if not isinstance(data, Mapping):
        raise InvalidRegistration(field_errors={
            "non_field_errors": gettext_noop("Each learner must be a JSON object.")})
    values, errors = {}, {}
    for name, read in _field_readers():
        try:
            values[name] = read(data.get(name, _MISSING))
        except _Refused as refused:
            errors[name] = join(refused.messages)
    extension = []
    for name in extension_names(extension_fields):
        if name not in data:
            continue
        try:
            extension.append((name, _read_extension_value(data[name])))
        except _Refused as refused:
            errors[name] = join(refused.messages)
    if values.get("mode") is not None and not values.get("courses") and "courses" not in errors:
        errors["mode"] = gettext_noop("Only with courses: the mode the learner is enrolled in.")
    if errors:
        raise InvalidRegistration("Invalid fields: " + ", ".join(sorted(errors)) + ".", field_errors=errors)
    return RegistrationRequest(
        username=values["username"],
        email=values["email"],
        name=values["name"],
        password=values["password"] or None,  # null and "" mean "no password", as the original Tahoe API read them
        send_activation_email=values["send_activation_email"],
        language=values["language"],
        extension_fields=tuple(extension),
        courses=values["courses"],
        mode=values["mode"],
    )


def parse_learner_change(data):
    """
    Return a learner's change (``PATCH /learners/<id>/``) as a ``LearnerChange``.

    ``name``, ``email`` and ``language`` are read by the rules of a registration (``language`` may not
    be null here: a learner keeps a language), ``disabled`` as ``send_activation_email`` (a JSON boolean
    or "true"/"false"). ``username`` cannot change once set: its presence is refused, whatever its
    value. Other keys are ignored. Raises ``InvalidRegistration`` naming every refused field, or
    ``non_field_errors`` when ``data`` is not an object.
    """
    if not isinstance(data, Mapping):
        raise InvalidRegistration(field_errors={"non_field_errors": gettext_noop("The change must be a JSON object.")})
    values, errors = {}, {}
    if "username" in data:
        errors["username"] = gettext_noop("A username cannot change once set.")
    readers = (("name", partial(_read_text, rule=NAME_RULE)), ("email", partial(_read_text, rule=EMAIL_RULE)),
               ("language", partial(_read_text, rule=CHANGED_LANGUAGE_RULE)), ("disabled", _read_boolean))
    for name, read in readers:
        if name not in data:
            continue
        try:
            values[name] = read(data[name])
        except _Refused as refused:
            errors[name] = join(refused.messages)
    if errors:
        raise InvalidRegistration("Invalid fields: " + ", ".join(sorted(errors)) + ".", field_errors=errors)
    return LearnerChange(**values)


def language_refusal(language, choices):
    """Return why ``language`` is refused (not one of the codes ``choices``), None when it is one of them."""
    if language in choices:
        return None
    examples = [code for code in ("en", "es-419", "fr") if code in choices] or sorted(choices)[:3]
    return message(gettext_noop("Not one of this site's {count} languages (their codes, e.g. {examples})."),
                   count=len(choices), examples=", ".join(examples))


def parse_ref(data):
    """
    Return ``data``'s optional ``ref`` (the caller's own id) as a string, or None (also when ``data`` is not an object).

    Raises ``InvalidRegistration`` naming ``ref`` unless it is a string or a whole number of at
    most 255 characters.
    """
    ref = data.get("ref") if isinstance(data, Mapping) else None
    if ref is None:
        return None
    if isinstance(ref, bool) or not isinstance(ref, (str, int)) or len(str(ref)) > REF_MAX_LENGTH:
        raise InvalidRegistration(field_errors={
            "ref": message(gettext_noop("Must be a string (or a number) of at most {max_length} characters."),
                           max_length=REF_MAX_LENGTH)})
    return str(ref)


def _field_readers():
    """Return each field's reader, in the order DRF named them; the username's rule reads the settings of now."""
    return (
        ("username", partial(_read_text, rule=_username_rule())),
        ("email", partial(_read_text, rule=EMAIL_RULE)),
        ("name", partial(_read_text, rule=NAME_RULE)),
        ("password", partial(_read_text, rule=PASSWORD_RULE)),
        ("send_activation_email", _read_boolean),
        ("language", partial(_read_text, rule=LANGUAGE_RULE)),
        ("courses", _read_courses),
        ("mode", partial(_read_text, rule=MODE_RULE)),
    )


def _read_text(value, rule):
    """Return the field's string (None when absent or null, if allowed) or raise ``_Refused``, checking as DRF did."""
    if value is _MISSING:
        if rule.required:
            raise _Refused(gettext_noop("This field is required."))
        return None
    if value is None:
        if not rule.allow_null:
            raise _Refused(gettext_noop("This field may not be null."))
        return None
    if value == "" or (rule.trim and str(value).strip() == ""):
        if not rule.allow_blank:
            raise _Refused(gettext_noop("This field may not be blank."))
        return ""
    text = _as_text(value, rule)
    if rule.check:
        rule.check(text)
    messages = [message for message in (validator(text) for validator in rule.validators) if message]
    if messages:
        raise _Refused(*messages)
    return text


def _as_text(value, rule):
    """Return the value as a string, trimmed if the rule says so; refuse other types and forbidden characters."""
    if rule.strict and not isinstance(value, str):
        raise _Refused(gettext_noop("Must be a string."))
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _Refused(gettext_noop("Not a valid string."))
    text = str(value)
    if rule.forbidden:
        present = {unicodedata.category(char) for char in text}
        for category in rule.forbidden:
            if category in present:
                raise _Refused(FORBIDDEN_CATEGORY_MESSAGES[category])
    return text.strip() if rule.trim else text


def _read_boolean(value):
    """Return ``send_activation_email``: true when absent; JSON true/false or "true"/"false" in any letter case."""
    if value is _MISSING:
        return True
    if value is None:
        raise _Refused(gettext_noop("This field may not be null."))
    if isinstance(value, bool):
        return value
    spelling = value.strip().lower() if isinstance(value, str) else None
    if spelling in BOOLEANS:
        return BOOLEANS[spelling]
    raise _Refused(gettext_noop('Must be true or false (a JSON boolean or the string "true" or "false").'))


def _read_courses(value):
    """
    Return the course keys to enroll the learner in, as given (trimmed, once each; () when absent or empty).

    A JSON list of course keys, or one string of keys separated by ``;`` (a CSV cell). Whether
    they are course keys at all, and courses of the site, is the API's to check
    (``courses.SiteCourses``): one answer, ``invalid-course-ids``, for every key it refuses.
    """
    if value is _MISSING or value is None or value == "":
        return ()
    if isinstance(value, str):
        value = [item for item in COURSES_SEPARATOR.split(value) if item]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _Refused(gettext_noop("Must be a list of course keys (strings), or one string of keys separated by ';'."))
    if len(value) > COURSES_MAX:
        raise _Refused(message(gettext_noop("Holds {count} courses; at most {limit} are accepted."),
                               count=len(value), limit=COURSES_MAX))
    for item in value:
        if not item.strip() or len(item) > COURSE_KEY_MAX_LENGTH or any(
                unicodedata.category(char) in ("Cc", "Cf", "Cs") for char in item):
            raise _Refused(message(gettext_noop("Each course key must be 1 to {max_length} printable characters."),
                                   max_length=COURSE_KEY_MAX_LENGTH))
    return tuple(dict.fromkeys(item.strip() for item in value))


def _read_extension_value(value):
    """Return an extension field's value as given, when it is one a form can read; refuse others, never a 5xx later."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _Refused(gettext_noop("Must be a finite number."))
        return value
    if not isinstance(value, str):
        raise _Refused(gettext_noop("Must be a string, a number, a boolean or null."))
    if len(value) > EXTENSION_VALUE_MAX_LENGTH:
        raise _Refused(message(gettext_noop("Ensure this field has no more than {max_length} characters."),
                               max_length=EXTENSION_VALUE_MAX_LENGTH))
    if any(unicodedata.category(char) == "Cc" and char not in EXTENSION_CONTROL_CHARACTERS for char in value):
        raise _Refused(gettext_noop("Must not contain control characters other than tabs and line breaks."))
    if surrogate := _no_surrogate(value):
        raise _Refused(surrogate)
    return value


def _at_most(limit):
    """Return the check of DRF's ``max_length``."""
    def check(text):
        if len(text) > limit:
            return message(gettext_noop("Ensure this field has no more than {max_length} characters."),
                           max_length=limit)
        return None
    return check


def _at_least(limit):
    """Return the check of DRF's ``min_length``."""
    def check(text):
        if len(text) < limit:
            return message(gettext_noop("Ensure this field has at least {min_length} characters."), min_length=limit)
        return None
    return check


def _no_null_character(text):
    """Refuse NUL, as every DRF ``CharField`` does."""
    return gettext_noop("Null characters are not allowed.") if "\x00" in text else None


def _no_surrogate(text):
    """Refuse lone surrogates (they cannot be stored as UTF-8), as every DRF ``CharField`` does."""
    surrogate = next((char for char in text if 0xD800 <= ord(char) <= 0xDFFF), None)
    if surrogate is None:
        return None
    return message(gettext_noop("Surrogate characters are not allowed: U+{code_point:X}."), code_point=ord(surrogate))


def _valid_email(text):
    """Refuse what Django's (and so the platform's) email validator refuses."""
    try:
        VALID_EMAIL(text)
    except ValidationError:
        return VALID_EMAIL.message
    return None


def _username_alphabet(text):
    """ASCII letters, digits, ``_`` and ``-``; with ENABLE_UNICODE_USERNAME, the platform's wider pattern."""
    if feature("ENABLE_UNICODE_USERNAME"):
        partial_pattern = getattr(settings, "USERNAME_REGEX_PARTIAL", r"[\w .@_+-]+")
        pattern = re.compile(rf"^{partial_pattern}\Z", re.UNICODE)
        refusal = gettext_noop("Usernames can only contain letters, numerals, and @/./+/-/_ characters.")
    else:
        pattern = ASCII_USERNAME
        refusal = gettext_noop(
            "Usernames can only contain letters (A-Z, a-z), numerals (0-9), underscores (_), and hyphens (-).")
    if not pattern.match(text):
        raise _Refused(refusal)


def _name_rules(text):
    """Refuse a name as the platform refuses it: HTML brackets or a URL."""
    if NAME_HTML.search(text):
        raise _Refused(gettext_noop("Full Name cannot contain the following characters: < >"))
    if NAME_URL.search(text):
        raise _Refused(gettext_noop("Enter a valid name"))


def _password_policy(text):
    """Apply the platform's password policy (AUTH_PASSWORD_VALIDATORS) to the NFKC-normalised password."""
    password = unicodedata.normalize("NFKC", text)
    try:
        password_validation.validate_password(password)
    except ValidationError as exc:
        # The policy's messages (never the password), translated by their validators; said once more
        # in English for the developer's message (the validators translate as they refuse).
        with translation.override("en"):
            english = _password_messages(password)
        if len(english) != len(exc.messages):
            english = exc.messages
        raise _Refused(*(Message(en, translated) for en, translated in zip(english, exc.messages))) from None


def _password_messages(password):
    """Return the password policy's messages about ``password`` in the active language (none when it passes)."""
    try:
        password_validation.validate_password(password)
    except ValidationError as exc:
        return exc.messages
    return []


def _username_rule():
    """Return the username's rule with the settings of now: 2 to USERNAME_MAX_LENGTH characters of its alphabet."""
    return TextRule(forbidden=("Cc", "Cf"), check=_username_alphabet, validators=(
        _at_most(username_max_length()), _at_least(USERNAME_MIN_LENGTH), _no_null_character, _no_surrogate))


EMAIL_RULE = TextRule(forbidden=("Cc", "Cf"), validators=(
    _valid_email, _at_most(EMAIL_MAX_LENGTH), _at_least(EMAIL_MIN_LENGTH), _no_null_character, _no_surrogate))
# Names keep format characters: some scripts need zero-width joiners.
NAME_RULE = TextRule(check=_name_rules, validators=(_at_most(NAME_MAX_LENGTH), _no_null_character, _no_surrogate))
PASSWORD_RULE = TextRule(
    required=False, allow_null=True, allow_blank=True, trim=False, forbidden=(), check=_password_policy,
    validators=(_at_most(PASSWORD_MAX_LENGTH), _no_null_character, _no_surrogate),
)
# Checked against each course's modes by the API.
MODE_RULE = TextRule(required=False, allow_null=True, validators=(
    _at_most(MODE_MAX_LENGTH), _no_null_character, _no_surrogate))
# Checked against the LMS's languages by the API (the platform decides which it has).
LANGUAGE_RULE = TextRule(required=False, allow_null=True, strict=False, forbidden=(), validators=(
    _at_most(LANGUAGE_MAX_LENGTH), _no_null_character, _no_surrogate))
# A learner's language changed: as at registration, but a learner keeps one (no null).
CHANGED_LANGUAGE_RULE = TextRule(strict=False, forbidden=(), validators=(
    _at_most(LANGUAGE_MAX_LENGTH), _no_null_character, _no_surrogate))
