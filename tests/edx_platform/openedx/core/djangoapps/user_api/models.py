"""Stand-in for ``openedx/core/djangoapps/user_api/models.py``: ``UserPreference``, one value per user and key."""

from django.conf import settings
from django.db import models


class UserPreference(models.Model):
    """A user's preference (the platform's table ``user_api_userpreference``)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="preferences", on_delete=models.CASCADE)
    key = models.CharField(max_length=255, db_index=True)
    value = models.TextField()

    class Meta:
        """One value per user and key, as in the platform."""

        unique_together = ("user", "key")

    def __str__(self):
        """Name the preference."""
        return f"UserPreference<{self.user_id}:{self.key}>"
