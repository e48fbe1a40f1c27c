"""URLs of the development LMS: what ``lms/urls.py`` does for plugins, and a sign-in page where the LMS has one."""

from django.contrib.auth.views import LoginView
from django.urls import path
from edx_django_utils.plugins import get_plugin_url_patterns

urlpatterns = [
    # The LMS's LOGIN_URL; its own page there signs a user in and follows ``next``.
    path("login", LoginView.as_view(template_name="devlms/login.html"), name="login"),
]
urlpatterns.extend(get_plugin_url_patterns("lms.djangoapp"))
