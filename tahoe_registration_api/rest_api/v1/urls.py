"""URLs of the v1 API (under ``/tahoe/api/v1/``)."""

from django.urls import path

from tahoe_registration_api.rest_api.v1.views import RegistrationView, ResendView

registrations = RegistrationView.as_view()

urlpatterns = [
    path("registrations/", registrations, name="registrations"),
    # Also without the trailing slash: Django cannot redirect a POST to add it.
    path("registrations", registrations),
    path("registrations/<int:user_id>/resend/", ResendView.as_view(), name="resend"),
    path("registrations/<int:user_id>/resend", ResendView.as_view()),
]
