"""The development LMS's own app: the learner profile the fake platform writes, and its commands."""

from django.apps import AppConfig


class DevLmsConfig(AppConfig):
    """Development LMS stand-in."""

    name = "devlms"
    default_auto_field = "django.db.models.AutoField"

    def ready(self):
        """Create the Celery app the plugin's tasks run on (as ``lms/celery.py`` does in the LMS)."""
        from devlms import celery  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
