"""Structural guarantees: every view of the plugin shares one authentication, permission and error policy."""

import sys
import types

from django.urls import URLPattern, URLResolver, get_resolver, reverse
from edx_django_utils.plugins import add_plugins, get_plugin_apps

from devlms import fake_platform
from tahoe_registration_api.rest_api.authentication import AUTHENTICATION_CLASSES, SCIM_AUTHENTICATION_CLASSES
from tahoe_registration_api.rest_api.errors import exception_handler, not_found
from tahoe_registration_api.rest_api.scim import errors as scim_errors
from tahoe_registration_api.rest_api.scim.views import ScimView
from tahoe_registration_api.rest_api.throttling import BulkCallRateThrottle, CallerSiteRateThrottle, ScimRateThrottle
from tahoe_registration_api.rest_api.v1.permissions import IsSiteAdmin
from tahoe_registration_api.rest_api.v1.views import TahoeApiView
from tests.conftest import learner_body


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
             if view not in (not_found, scim_errors.not_found) and not is_page(view)]
    assert views, "no API view found"
    for view_class in views:
        assert view_class is not None and issubclass(view_class, TahoeApiView), view_class
        assert view_class.permission_classes == (IsSiteAdmin,)
        if issubclass(view_class, ScimView):  # SCIM: bearer credentials, its own rate, SCIM's errors
            assert view_class.authentication_classes == SCIM_AUTHENTICATION_CLASSES
            assert view_class.throttle_classes == (ScimRateThrottle,)
            assert view_class().get_exception_handler() is scim_errors.scim_exception_handler
        else:
            assert view_class.authentication_classes == AUTHENTICATION_CLASSES
            # Single calls share one rate; bulk calls and job submissions another; reading a job is not limited.
            assert view_class.throttle_classes == THROTTLES.get(view_class.__name__, (CallerSiteRateThrottle,))
            assert view_class().get_exception_handler() is exception_handler
        for attribute in ("authentication_classes", "permission_classes",
                          "get_exception_handler", "finalize_response", "initial", "check_permissions"):
            assert attribute not in vars(view_class), f"{view_class.__name__} overrides {attribute}"


def test_the_only_plain_function_views_are_the_pages_and_the_json_404s():
    assert {view for view in plugin_views() if not hasattr(view, "view_class") and not is_page(view)} == {
        not_found, scim_errors.not_found}
    assert len([view for view in plugin_views() if is_page(view)]) == 8


def test_the_plugin_is_mounted_by_the_lms_plugin_framework():
    assert "tahoe_registration_api.apps.TahoeRegistrationApiConfig" in get_plugin_apps("lms.djangoapp")
    assert reverse("tahoe-api:registrations") == "/tahoe/api/v1/registrations/"


def test_the_settings_hook_gives_an_lms_the_real_adapter_the_token_app_and_defaults(monkeypatch):
    """The LMS's own settings module, before any value of the operator's, as the plugin framework fills it."""
    name = "lms_settings_of_an_operator"
    monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    lms_settings = vars(sys.modules[name])
    lms_settings.update(INSTALLED_APPS=["django.contrib.auth"], FEATURES={})
    add_plugins(name, "lms.djangoapp", "common")  # as lms/envs/common.py does, by the plugin's entry point
    assert lms_settings["TAHOE_REGISTRATION_API_ADAPTER"] == "tahoe_registration_api.edxapp"
    assert lms_settings["TAHOE_REGISTRATION_API_ENABLED"] is False  # off until the operator switches it on
    assert lms_settings["TAHOE_REGISTRATION_API_MAX_BODY_BYTES"] == 16384
    assert lms_settings["INSTALLED_APPS"] == ["django.contrib.auth", "rest_framework.authtoken"]
    assert lms_settings["FEATURES"] == {"TAHOE_SITES_USE_ORGS_MODELS": False}


def test_the_adapter_the_setting_names_is_the_one_a_registration_calls(alpha, alpha_admin, settings, monkeypatch):
    called = []

    def recorded(attribute_name):
        """The fake platform's attribute, noting each call of it."""
        attribute = getattr(fake_platform, attribute_name)
        if not callable(attribute):
            return attribute
        return lambda *args, **kwargs: called.append(attribute_name) or attribute(*args, **kwargs)

    name = "tests.recording_adapter"
    adapter = types.ModuleType(name)
    vars(adapter)["__getattr__"] = recorded  # a module's own __getattr__ (PEP 562)
    monkeypatch.setitem(sys.modules, name, adapter)
    settings.TAHOE_REGISTRATION_API_ADAPTER = name
    response = alpha_admin.register(alpha, learner_body())
    assert response.status_code == 200
    assert "create_account" in called
