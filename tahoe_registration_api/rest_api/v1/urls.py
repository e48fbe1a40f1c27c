"""URLs of the v1 API (under ``/tahoe/api/v1/``)."""

from django.urls import re_path

from tahoe_registration_api.rest_api.v1.views import RegistrationView

urlpatterns = [
    # The trailing slash is optional: Django cannot redirect a POST to add it.
    re_path(r"^registrations/?$", RegistrationView.as_view(), name="registrations"),
]
