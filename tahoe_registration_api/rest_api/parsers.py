"""
The request bodies accepted: JSON (documented) and form-encoded (older integrations), up to a size.

DRF reads a body only as far as its declared length (``CONTENT_LENGTH``, else
``HTTP_CONTENT_LENGTH``) and ignores a body without one, so refusing an oversized declared
length before parsing bounds what is ever read.
"""

from django.conf import settings
from rest_framework.parsers import FormParser, JSONParser

from tahoe_registration_api.exceptions import RequestTooLarge

PARSER_CLASSES = (JSONParser, FormParser)


def enforce_body_limit(request):
    """Refuse a request whose declared length is over TAHOE_REGISTRATION_API_MAX_BODY_BYTES, before reading it."""
    limit = int(settings.TAHOE_REGISTRATION_API_MAX_BODY_BYTES)
    meta = request.META
    try:
        declared = int(meta.get("CONTENT_LENGTH", meta.get("HTTP_CONTENT_LENGTH", 0)) or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise RequestTooLarge(f"The body has {declared} bytes; at most {limit} are accepted.")
