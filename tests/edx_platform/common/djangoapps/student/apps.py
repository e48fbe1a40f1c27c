"""Stand-in for ``common/djangoapps/student/apps.py``: the student app (no migrations; tests syncdb it)."""

from django.apps import AppConfig


class StudentConfig(AppConfig):
    """The platform's student app, under its real name and label."""

    name = "common.djangoapps.student"
    label = "student"
    default_auto_field = "django.db.models.AutoField"
