"""The query parameters of the API's lists, read strictly: a bad one is a 400 naming it, never a 500."""

import unicodedata

from tahoe_registration_api.exceptions import InvalidRegistration
from tahoe_registration_api.i18n import gettext_noop, message

TEXT_MAX_LENGTH = 255
BOOLEANS = {"true": True, "1": True, "false": False, "0": False}
ID_MAX = 2**63 - 1


def refuse(name, message):  # pylint: disable=redefined-outer-name
    """Return the 400 naming the query parameter ``name`` (``InvalidRegistration``, to be raised)."""
    return InvalidRegistration(f"Invalid query parameter: {name}.", field_errors={name: message},
                               user_message=gettext_noop("A query parameter is not valid."))


def text_param(request, name, max_length=TEXT_MAX_LENGTH):
    """Return the parameter's trimmed text, None when absent or empty."""
    value = request.query_params.get(name)
    if value is None or not value.strip():
        return None
    if len(value) > max_length or any(unicodedata.category(char) in ("Cc", "Cs") for char in value):
        raise refuse(name, message(gettext_noop("Must be at most {max_length} printable characters."),
                                   max_length=max_length))
    return value.strip()


def boolean_param(request, name):
    """Return the parameter as a boolean (true/false, 1/0, any case), None when absent."""
    value = text_param(request, name)
    if value is None:
        return None
    if value.lower() not in BOOLEANS:
        raise refuse(name, gettext_noop("Must be true or false."))
    return BOOLEANS[value.lower()]


def id_param(request, name):
    """Return the parameter as a positive integer id, None when absent."""
    value = text_param(request, name)
    if value is None:
        return None
    if not value.isascii() or not value.isdigit() or not 0 < int(value) <= ID_MAX:
        raise refuse(name, message(gettext_noop("Must be a whole number from 1 to {maximum}."), maximum=ID_MAX))
    return int(value)


def positive_param(request, name):
    """Return the parameter as a whole number of at least 1 (ASCII digits, at most 255 of them), None when absent."""
    value = text_param(request, name)
    if value is None:
        return None
    if not value.isascii() or not value.isdigit() or int(value) < 1:
        raise refuse(name, gettext_noop("Must be a whole number of at least 1."))
    return int(value)
