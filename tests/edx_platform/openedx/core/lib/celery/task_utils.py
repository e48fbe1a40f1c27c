"""
Stand-in for ``openedx/core/lib/celery/task_utils.py``: ``emulate_http_request``.

As the platform's: it takes the current request (or a stub), sets its ``site`` and ``user``, makes
it current (crum) for the block, and leaves no current request behind.
"""

from contextlib import contextmanager

import crum
from django.test import RequestFactory


@contextmanager
def emulate_http_request(site=None, user=None, middleware_classes=None):  # pylint: disable=unused-argument
    """Run the block as a request of ``site`` by ``user``, on the current request when there is one."""
    request = crum.get_current_request() or RequestFactory().get("/")
    request.site = site
    request.user = user
    crum.set_current_request(request)
    try:
        yield
    finally:
        crum.set_current_request(None)
