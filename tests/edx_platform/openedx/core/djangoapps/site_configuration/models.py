"""Stand-in for ``openedx/core/djangoapps/site_configuration/models.py``: per-site configuration values."""

from django.contrib.sites.models import Site
from django.db import models


class SiteConfiguration(models.Model):
    """A site's configuration: values apply only while ``enabled``."""

    site = models.OneToOneField(Site, related_name="configuration", on_delete=models.CASCADE)
    enabled = models.BooleanField(default=False)
    site_values = models.JSONField(default=dict, blank=True)

    class Meta:
        app_label = "site_configuration"

    def __str__(self):
        return f"SiteConfiguration<{self.site_id}>"

    def get_value(self, name, default=None):
        """Return the configured value, or ``default`` when absent or disabled (as the platform does)."""
        if self.enabled:
            return self.site_values.get(name, default)
        return default
