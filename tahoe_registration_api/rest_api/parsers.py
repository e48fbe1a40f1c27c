"""
The request bodies accepted: JSON (documented) and form-encoded (older integrations), up to a size.

DRF reads a body only as far as its declared length (``CONTENT_LENGTH``, else
``HTTP_CONTENT_LENGTH``) and ignores a body without one, so refusing an oversized declared
length before parsing bounds what is ever read.
"""

from django.conf import settings
from rest_framework.parsers import BaseParser, FormParser, JSONParser

from tahoe_registration_api.exceptions import RequestTooLarge

PARSER_CLASSES = (JSONParser, FormParser)


class CsvStreamParser(BaseParser):
    """``text/csv``: hand the view the body's stream, to be read line by line (never whole)."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        """Return the stream itself (None for an empty body)."""
        return stream


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
