"""Django application configuration: the Open edX plugin declaration."""

from django.apps import AppConfig


class TahoeRegistrationApiConfig(AppConfig):
    """Mounts the registration API (``/tahoe/api/``) and its SCIM service (``/tahoe/scim/v2/``) in the LMS."""

    name = "tahoe_registration_api"
    verbose_name = "Tahoe Registration API"
    default_auto_field = "django.db.models.BigAutoField"

    # Plain strings rather than the platform's ProjectType / SettingsType constants, so that
    # the package imports without the platform (the values are the same).
    plugin_app = {
        "url_config": {
            "lms.djangoapp": {
                "namespace": "tahoe-api",
                "app_name": "tahoe-api",
                "regex": r"^tahoe/",
                "relative_path": "urls",
            },
        },
        "settings_config": {
            "lms.djangoapp": {
                "common": {"relative_path": "settings.common"},
                "production": {"relative_path": "settings.production"},
                "test": {"relative_path": "settings.test"},
            },
        },
        # The LMS's plugins app connects these when it is ready: a retired learner's rows leave the
        # plugin's tables (``retirement``) as the platform's retire_misc step sends USER_RETIRE_MAILINGS.
        "signals_config": {
            "lms.djangoapp": {
                "relative_path": "retirement",
                "receivers": [{
                    "receiver_func_name": "retire_learner",
                    "signal_path": "openedx.core.djangoapps.user_api.accounts.signals.USER_RETIRE_MAILINGS",
                    "dispatch_uid": "tahoe_registration_api.retirement.retire_learner",
                }],
            },
        },
    }

    def ready(self):
        """Forget a site's cached organization when its TahoeSite or Organization changes; load the webhooks' kinds."""
        # pylint: disable=import-outside-toplevel
        from django.db.models.signals import post_delete, post_save
        from organizations.models import Organization
        from tahoe_sites.models import TahoeSite

        from tahoe_registration_api.lookups import forget_organization
        from tahoe_registration_api.webhooks import delivery  # noqa: F401  pylint: disable=unused-import

        for model in (TahoeSite, Organization):
            post_save.connect(forget_organization, sender=model, dispatch_uid=f"tahoe-reg-{model.__name__}-save")
            post_delete.connect(forget_organization, sender=model, dispatch_uid=f"tahoe-reg-{model.__name__}-del")
