"""What the fake platform stores beside the user: the learner's profile and activation record."""

from django.conf import settings
from django.db import models


class LearnerProfile(models.Model):
    """The platform's ``UserProfile`` as far as registration fills it: the full name."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="devlms_profile")
    name = models.CharField(max_length=255, blank=True)
    # The platform keeps it as the learner's "pref-lang" preference.
    language = models.CharField(max_length=16, blank=True, default="")
    # The platform's UserProfile.meta: JSON, here the values of an extension form without a model.
    meta = models.TextField(blank=True, default="")

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


class SiteConfiguration(models.Model):
    """The platform's ``SiteConfiguration``: per-site values, read only when enabled."""

    site = models.OneToOneField("sites.Site", on_delete=models.CASCADE, related_name="devlms_configuration")
    enabled = models.BooleanField(default=False)
    site_values = models.JSONField(default=dict, blank=True)

    def __str__(self):
        """Name the configuration by its site."""
        return f"SiteConfiguration<{self.site_id}>"

    def get_value(self, name, default=None):
        """Return the site's value for ``name``, or ``default`` when absent or the configuration is disabled."""
        if not self.enabled:
            return default
        return self.site_values.get(name, default)


class LearnerExtension(models.Model):
    """
    What an operator's extension form stores beside the profile: the development LMS's own example.

    The model of ``devlms.forms.LearnerExtensionForm``, which the tests name as the LMS's
    ``REGISTRATION_EXTENSION_FORM`` (or ``PROFILE_EXTENSION_FORM``).
    """

    DEPARTMENTS = (("sales", "Sales"), ("engineering", "Engineering"), ("support", "Support"))

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="devlms_extension")
    company = models.CharField(max_length=100)
    title = models.CharField(max_length=64, blank=True)
    department = models.CharField(max_length=16, blank=True, choices=DEPARTMENTS)
    employees = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self):
        """Name the record by its user."""
        return f"LearnerExtension<{self.user_id}>"
