"""The development LMS's own app: the learner profile the fake platform writes, and its commands."""

from django.apps import AppConfig


class DevLmsConfig(AppConfig):
    """Development LMS stand-in."""

    name = "devlms"
    default_auto_field = "django.db.models.AutoField"

    def ready(self):
        """Create the Celery app (as ``lms/celery.py`` does in the LMS); connect the plugins' receivers."""
        # pylint: disable=import-outside-toplevel
        from devlms import celery  # noqa: F401  pylint: disable=unused-import
        from devlms.retirement import connect_receivers

        connect_receivers()  # as the LMS's plugins app connects the plugins' signals_config
