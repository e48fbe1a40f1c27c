"""URLs of the token page (under ``/tahoe/api/token/``)."""

from django.urls import path

from tahoe_registration_api.pages import views

urlpatterns = [
    path("", views.token_page, name="token-page"),
    path("create/", views.create_token, name="token-create"),
    path("rotate/", views.rotate_token, name="token-rotate"),
    path("revoke/", views.revoke_token, name="token-revoke"),
]
