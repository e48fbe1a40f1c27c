"""A development LMS stand-in that serves the plugin (not installed with the package)."""

from devlms.celery import app as celery_app

__all__ = ["celery_app"]
