"""What the fake platform stores beside the user: the learner's profile and activation record."""

from django.conf import settings
from django.db import models


class LearnerProfile(models.Model):
    """The platform's ``UserProfile`` as far as registration fills it: the full name."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="devlms_profile")
    name = models.CharField(max_length=255, blank=True)

    def __str__(self):
        """Name the profile by its user."""
        return f"LearnerProfile<{self.user_id}>"


class ActivationRecord(models.Model):
    """The platform's ``Registration``: the activation key of an inactive account."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="devlms_activation")
    activation_key = models.CharField(max_length=32, unique=True)

    def __str__(self):
        """Name the record by its user."""
        return f"ActivationRecord<{self.user_id}>"
