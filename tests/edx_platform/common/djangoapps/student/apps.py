"""Stand-in for ``common/djangoapps/student/apps.py``: the student app (no migrations; tests syncdb it)."""

from django.apps import AppConfig


class StudentConfig(AppConfig):
    """The platform's student app, under its real name and label."""

    name = "common.djangoapps.student"
    label = "student"
    default_auto_field = "django.db.models.AutoField"

    def ready(self):
        """Connect the user's ``pre_save`` receiver, as the platform's student app does."""
        # pylint: disable=import-outside-toplevel
        from common.djangoapps.student.models import on_user_updated
        from django.contrib.auth.models import User  # pylint: disable=imported-auth-user
        from django.db.models.signals import pre_save

        pre_save.connect(on_user_updated, sender=User, dispatch_uid="standin-student-on-user-updated")
