r"""
The request bodies accepted: JSON (documented) and form-encoded (older integrations), up to a size.

DRF reads a body only as far as its declared length (``CONTENT_LENGTH``, else
``HTTP_CONTENT_LENGTH``) and ignores a body without one, so refusing an oversized declared
length before parsing bounds what is ever read.

Every body is read as UTF-8 (RFC 8259, section 8.1, for JSON; the WHATWG URL standard for forms;
a job's CSV is read so): a ``charset`` in the ``Content-Type`` must name UTF-8 (any spelling Python
knows, ``utf-8-sig`` included) or US-ASCII, a part of it; a form-encoded body's must be ``utf-8``
spelled so, in any case, the one Django 5.1+ reads a form in. Any other charset, an unknown one or a
codec that is no text encoding at all (``rot13``, ``zlib``, ``base64``), is a 415 naming it, given
by ``enforce_charset`` before anything reads the body (every API view and the token page run it).

A JSON body is refused with a 400 naming the field (e.g. ``learners[0].ref``) when a key or a
string holds a lone surrogate (an escape such as ``"\ud800"`` without its pair: no Unicode text,
which nothing can store or render as UTF-8), and when it is nested more than ``MAX_DEPTH`` (32)
levels deep (a single call's body has 1, a bulk call's 3; far deeper nesting is only ever an attack
on the recursion of whatever reads it).
"""

import codecs
import io
import re

from django.conf import settings
from django.utils.http import parse_header_parameters
from rest_framework.parsers import BaseParser, FormParser, JSONParser

from tahoe_registration_api.exceptions import RegistrationError, RequestTooLarge
from tahoe_registration_api.i18n import gettext_noop, message

MAX_DEPTH = 32
READABLE_CHARSETS = ("utf-8", "utf-8-sig", "ascii")  # codecs.lookup(...).name of what is read as UTF-8
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # a decoded JSON string keeps only unpaired ones
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_MOST_NAMED = 10


class UnsupportedCharset(RegistrationError):
    """The ``Content-Type`` names a charset other than UTF-8."""

    error_code = "unsupported-media-type"
    user_message = gettext_noop("Send the body as UTF-8 text.")
    status_code = 415

    def __init__(self, charset):
        """Name the charset (cut short: it is the caller's text)."""
        refusal = message(gettext_noop("The charset {charset} is not accepted: the body is read as UTF-8."),
                          charset=repr(charset[:40]))
        super().__init__(refusal, field_errors={"Content-Type": refusal})


class UnreadableBody(RegistrationError):
    """A JSON body that parses but cannot be used: text that is not Unicode, or nesting too deep."""

    error_code = "malformed-request"
    user_message = gettext_noop("The request body cannot be read.")
    status_code = 400


class CsvStreamParser(BaseParser):
    """``text/csv``: hand the view the body's stream, to be read line by line (never whole)."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        """Return the stream itself (None for an empty body)."""
        return stream


class JsonBodyParser(JSONParser):
    """DRF's JSON parser, refusing nesting deeper than ``MAX_DEPTH`` and a lone surrogate anywhere."""

    def parse(self, stream, media_type=None, parser_context=None):
        """Parse the body; raise ``UnreadableBody`` naming what cannot be used."""
        body = stream.read()
        try:
            data = super().parse(io.BytesIO(body), media_type, parser_context)
        except RecursionError as exc:  # the parser recursed past Python's limit: far deeper than MAX_DEPTH
            raise _too_deep() from exc
        if _nested_deeper_than(data, MAX_DEPTH):
            raise _too_deep()
        if _SURROGATE_ESCAPE.search(body):  # UTF-8 bytes decode to no surrogate: only an escape makes one
            refuse_lone_surrogates(data)
        return data


PARSER_CLASSES = (JsonBodyParser, FormParser)


def _too_deep():
    """Return the error of a body nested more than MAX_DEPTH levels deep."""
    refusal = message(gettext_noop("The body is nested more than {depth} levels deep."), depth=MAX_DEPTH)
    return UnreadableBody(refusal, field_errors={"non_field_errors": refusal})


def _children(value):
    """Return the (key or index, child) pairs of a JSON object or array, else None."""
    if isinstance(value, dict):
        return value.items()
    if isinstance(value, list):
        return enumerate(value)
    return None


def field_path(path):
    """Name a place in the body as ``learners[0].ref``; a lone surrogate in a key is shown as its escape."""
    name = ""
    for part in path:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += ("." if name else "") + part.encode("utf-8", "backslashreplace").decode("utf-8")
    return name or "non_field_errors"


def _nested_deeper_than(data, depth):
    """Whether objects and arrays in ``data`` nest more than ``depth`` levels deep (walked level by level)."""
    level = [data] if _children(data) is not None else []
    while level:
        if depth == 0:
            return True
        depth -= 1
        level = [child for container in level for _, child in _children(container) if isinstance(child, (dict, list))]
    return False


def refuse_lone_surrogates(data):
    """Raise ``UnreadableBody`` naming each key or string of ``data`` that holds a lone surrogate (the first 10)."""
    lone = [()] if isinstance(data, str) and _LONE_SURROGATE.search(data) else []
    pending = [((), data)] if _children(data) is not None else []  # containers, walked without recursion
    while pending:
        path, container = pending.pop()
        nested = []
        for key, child in _children(container):
            if any(isinstance(text, str) and _LONE_SURROGATE.search(text) for text in (key, child)):
                lone.append(path + (key,))
            elif isinstance(child, (dict, list)):
                nested.append((path + (key,), child))
        pending.extend(reversed(nested))  # popped in document order
    if lone:
        refusal = message(gettext_noop(
            "A lone surrogate (an escape \\ud800-\\udfff without its pair) is not text."))
        names = [field_path(path) for path in lone[:_MOST_NAMED]]
        raise UnreadableBody(f"The body holds text that is not Unicode: {', '.join(names)}.",
                             field_errors={name: refusal for name in names})


def enforce_charset(request):
    """Refuse a body whose ``Content-Type`` names a charset that is not read as UTF-8: a 415 naming it."""
    media_type, params = parse_header_parameters(request.META.get("CONTENT_TYPE", ""))
    charset = params.get("charset")
    if charset is None:
        return
    if media_type == FormParser.media_type:  # the one spelling Django 5.1+ reads a form in (request.POST)
        readable = charset.lower() == "utf-8"
    else:
        try:
            readable = codecs.lookup(charset).name in READABLE_CHARSETS
        except (LookupError, ValueError):  # an unknown name; a NUL in it
            readable = False
    if not readable:
        raise UnsupportedCharset(charset)


def enforce_body_limit(request, setting="TAHOE_REGISTRATION_API_MAX_BODY_BYTES"):
    """Refuse a request whose declared length is over the limit ``setting`` names, before reading it."""
    limit = int(getattr(settings, setting))
    meta = request.META
    try:
        declared = int(meta.get("CONTENT_LENGTH", meta.get("HTTP_CONTENT_LENGTH", 0)) or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise RequestTooLarge(f"The body has {declared} bytes; at most {limit} are accepted.")
