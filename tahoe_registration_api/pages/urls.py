"""
URLs of the token page (under ``/tahoe/api/token/``).

A webhook's change names the webhook in its form (``webhook``), not in its path.
"""

from django.urls import path

from tahoe_registration_api.pages import views

urlpatterns = [
    path("", views.token_page, name="token-page"),
    path("create/", views.create_token, name="token-create"),
    path("rotate/", views.rotate_token, name="token-rotate"),
    path("revoke/", views.revoke_token, name="token-revoke"),
    path("webhooks/create/", views.create_webhook, name="token-webhook-create"),
    path("webhooks/rotate/", views.rotate_webhook, name="token-webhook-rotate"),
    path("webhooks/remove/", views.remove_webhook, name="token-webhook-remove"),
    path("webhooks/switch-on/", views.switch_on_webhook, name="token-webhook-switch-on"),
]
