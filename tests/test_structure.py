"""Structural guarantees: every view of the plugin shares one authentication, permission and error policy."""

from django.urls import URLPattern, URLResolver, get_resolver, reverse
from edx_django_utils.plugins import get_plugin_apps

from tahoe_registration_api.rest_api.authentication import AUTHENTICATION_CLASSES
from tahoe_registration_api.rest_api.errors import exception_handler, not_found
from tahoe_registration_api.rest_api.throttling import BulkCallRateThrottle, CallerSiteRateThrottle
from tahoe_registration_api.rest_api.v1.permissions import IsSiteAdmin
from tahoe_registration_api.rest_api.v1.views import TahoeApiView


def plugin_views(patterns=None):
    """Every view callable reachable under the plugin's URLconf."""
    for pattern in patterns if patterns is not None else get_resolver("tahoe_registration_api.urls").url_patterns:
        if isinstance(pattern, URLResolver):
            yield from plugin_views(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            yield pattern.callback


def is_page(view):
    """Whether the view is one of the site admins' HTML pages (tests/test_token_page.py checks who sees them)."""
    return view.__module__ == "tahoe_registration_api.pages.views"


THROTTLES = {
    "BulkRegistrationView": (BulkCallRateThrottle,), "JobsView": (BulkCallRateThrottle,),
    "JobView": (), "JobResultsView": (),
}


def test_every_api_view_uses_the_shared_declarations():
    views = [getattr(view, "view_class", None) for view in plugin_views()
             if view is not not_found and not is_page(view)]
    assert views, "no API view found"
    for view_class in views:
        assert view_class is not None and issubclass(view_class, TahoeApiView), view_class
        assert view_class.authentication_classes == AUTHENTICATION_CLASSES
        assert view_class.permission_classes == (IsSiteAdmin,)
        # Single calls share one rate; bulk calls and job submissions another; reading a job is not limited.
        assert view_class.throttle_classes == THROTTLES.get(view_class.__name__, (CallerSiteRateThrottle,))
        assert view_class().get_exception_handler() is exception_handler
        for attribute in ("authentication_classes", "permission_classes",
                          "get_exception_handler", "finalize_response", "initial", "check_permissions"):
            assert attribute not in vars(view_class), f"{view_class.__name__} overrides {attribute}"


def test_the_only_plain_function_views_are_the_pages_and_the_json_404():
    assert [view for view in plugin_views() if not hasattr(view, "view_class") and not is_page(view)] == [not_found]
    assert len([view for view in plugin_views() if is_page(view)]) == 4


def test_the_plugin_is_mounted_by_the_lms_plugin_framework():
    assert "tahoe_registration_api.apps.TahoeRegistrationApiConfig" in get_plugin_apps("lms.djangoapp")
    assert reverse("tahoe-api:registrations") == "/tahoe/api/v1/registrations/"


def test_the_settings_hook_brings_the_token_app_and_defaults(settings):
    assert "rest_framework.authtoken" in settings.INSTALLED_APPS
    assert settings.TAHOE_REGISTRATION_API_ADAPTER == "devlms.fake_platform"  # the tests' choice
    assert settings.TAHOE_REGISTRATION_API_MAX_BODY_BYTES == 16384
    assert settings.FEATURES["TAHOE_SITES_USE_ORGS_MODELS"] is False
