"""Stand-in for ``openedx/core/lib/request_utils.py``: ``get_request_or_stub``."""

import crum
from django.test import RequestFactory


def get_request_or_stub():
    """Return the current request, or a stub request when there is none."""
    return crum.get_current_request() or RequestFactory().get("/")
