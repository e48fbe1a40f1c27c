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


class Course(models.Model):
    """The platform's ``CourseOverview``: what the LMS knows of a course (Studio writes it)."""

    id = models.CharField(max_length=255, primary_key=True)  # the course key, canonical
    org = models.CharField(max_length=255)
    display_name = models.CharField(max_length=255, null=True, blank=True)
    start = models.DateTimeField(null=True, blank=True)
    end = models.DateTimeField(null=True, blank=True)
    enrollment_start = models.DateTimeField(null=True, blank=True)
    enrollment_end = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        """Name the course by its key."""
        return f"Course<{self.id}>"


class CourseMode(models.Model):
    """The platform's ``CourseMode``: a way to take a course (audit, verified, ...)."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="modes")
    mode_slug = models.CharField(max_length=100)
    mode_display_name = models.CharField(max_length=255)
    min_price = models.IntegerField(default=0)
    currency = models.CharField(max_length=8, default="usd")
    expiration_datetime = models.DateTimeField(null=True, blank=True)

    class Meta:
        """Model options."""

        unique_together = (("course", "mode_slug"),)

    def __str__(self):
        """Name the mode by its course and slug."""
        return f"CourseMode<{self.course_id}:{self.mode_slug}>"


class CourseEnrollment(models.Model):
    """The platform's ``CourseEnrollment``: one per learner and course; unenrolling leaves it inactive."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="devlms_enrollments")
    course_id = models.CharField(max_length=255, db_index=True)
    mode = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        """Model options."""

        unique_together = (("user", "course_id"),)

    def __str__(self):
        """Name the enrollment by its learner and course."""
        return f"CourseEnrollment<{self.user_id}:{self.course_id}>"


class CourseEnrollmentAllowed(models.Model):
    """The platform's ``CourseEnrollmentAllowed``: an email pre-enrolled in a course (auto_enroll: on activation)."""

    email = models.CharField(max_length=255)
    course_id = models.CharField(max_length=255)
    auto_enroll = models.BooleanField(default=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        """Model options."""

        unique_together = (("email", "course_id"),)

    def __str__(self):
        """Name the record by its course."""
        return f"CourseEnrollmentAllowed<{self.course_id}>"


class ManualEnrollmentRecord(models.Model):
    """The platform's ``ManualEnrollmentAudit``: who changed an email's enrollment, how and why."""

    enrolled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                    related_name="+")
    enrolled_email = models.CharField(max_length=255)
    course_id = models.CharField(max_length=255)
    state_transition = models.CharField(max_length=255)
    reason = models.TextField(null=True)
    time_stamp = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        """Name the record by its course and change."""
        return f"ManualEnrollmentRecord<{self.course_id}:{self.state_transition}>"


class PasswordToggleHistory(models.Model):
    """The platform's ``UserPasswordToggleHistory``: who switched an account off (``disabled``) or on, and why."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="devlms_toggles")
    comment = models.CharField(max_length=255, blank=True, null=True)
    disabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        """Name the record by its user and direction."""
        return f"PasswordToggleHistory<{self.user_id}:{'off' if self.disabled else 'on'}>"
