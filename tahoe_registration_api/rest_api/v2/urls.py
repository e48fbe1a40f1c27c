"""URLs of the v2 API (under ``/tahoe/api/v2/``)."""

from django.urls import path

from tahoe_registration_api.rest_api.v1.views import ResendView
from tahoe_registration_api.rest_api.v2.views import RegistrationV2View

registrations = RegistrationV2View.as_view()

urlpatterns = [
    path("registrations/", registrations, name="registrations-v2"),
    path("registrations", registrations),
    path("registrations/<int:user_id>/resend/", ResendView.as_view(), name="resend-v2"),
    path("registrations/<int:user_id>/resend", ResendView.as_view()),
]
