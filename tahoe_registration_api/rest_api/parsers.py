"""Request parsers with a size limit: JSON (documented) and form-encoded (older integrations)."""

from django.conf import settings
from rest_framework.parsers import FormParser, JSONParser

from tahoe_registration_api.exceptions import RequestTooLarge


def max_body_bytes():
    """Return the largest body accepted (TAHOE_REGISTRATION_API_MAX_BODY_BYTES)."""
    return int(settings.TAHOE_REGISTRATION_API_MAX_BODY_BYTES)


def enforce_body_limit(request):
    """Refuse a request whose declared Content-Length is over the limit, before reading it."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > max_body_bytes():
        raise RequestTooLarge(f"The body has {declared} bytes; at most {max_body_bytes()} are accepted.")


class BoundedStream:
    """A read-only view of a request stream that refuses to deliver more than the limit."""

    def __init__(self, stream):
        """Wrap ``stream``."""
        self.stream = stream

    def read(self, size=-1):  # pylint: disable=unused-argument
        """Read the whole body, at most the limit; more is an error."""
        data = self.stream.read(max_body_bytes() + 1)
        if len(data) > max_body_bytes():
            raise RequestTooLarge(f"The body is larger than {max_body_bytes()} bytes.")
        return data


class LimitedJSONParser(JSONParser):
    """DRF's JSON parser over a bounded stream (the body may come without a Content-Length)."""

    def parse(self, stream, media_type=None, parser_context=None):
        """Parse at most TAHOE_REGISTRATION_API_MAX_BODY_BYTES of JSON."""
        return super().parse(BoundedStream(stream), media_type, parser_context)


class LimitedFormParser(FormParser):
    """DRF's form parser over a bounded stream."""

    def parse(self, stream, media_type=None, parser_context=None):
        """Parse at most TAHOE_REGISTRATION_API_MAX_BODY_BYTES of form data."""
        return super().parse(BoundedStream(stream), media_type, parser_context)


PARSER_CLASSES = (LimitedJSONParser, LimitedFormParser)
