"""What the extension form stores beside the learner's profile."""

from django.conf import settings
from django.db import models


class LearnerExtension(models.Model):
    """Company (required), title and department: what an integrator collects beyond Open edX's fields."""

    DEPARTMENTS = (("sales", "Sales"), ("engineering", "Engineering"), ("support", "Support"))

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="tahoe_test_extension")
    company = models.CharField(max_length=100)
    title = models.CharField(max_length=64, blank=True)
    department = models.CharField(max_length=16, blank=True, choices=DEPARTMENTS)

    class Meta:
        app_label = "profile_extension"

    def __str__(self):
        return f"LearnerExtension<{self.user_id}>"
