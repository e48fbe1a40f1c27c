"""The development LMS's own app: the learner profile the fake platform writes, and its commands."""

from django.apps import AppConfig


class DevLmsConfig(AppConfig):
    """Development LMS stand-in."""

    name = "devlms"
    default_auto_field = "django.db.models.AutoField"
