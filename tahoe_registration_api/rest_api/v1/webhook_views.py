"""
The site's webhooks: ``/tahoe/api/v1/webhooks/`` and ``.../webhooks/<id>/`` (rotate, enable, deliveries).

The rules are ``webhooks.endpoints``'; the views read the request and shape the answer. A
webhook's secret is in the answer of its creation and of a rotation, never anywhere else.
"""

from django.urls import reverse
from rest_framework import status
from rest_framework.response import Response

from tahoe_registration_api.rest_api.pagination import ListPagination
from tahoe_registration_api.rest_api.parsers import JsonBodyParser
from tahoe_registration_api.rest_api.v1.views import TahoeApiView
from tahoe_registration_api.webhooks import endpoints


def when(moment):
    """Return a time as the API shows it (ISO 8601, UTC as ``Z``), None for none."""
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def webhook_body(endpoint, secret=None):
    """Return the endpoint as the API shows it; ``secret`` only when it was just made."""
    body = endpoints.describe(endpoint)
    body = {key: when(value) if key in ("created", "failing_since", "disabled_at", "previous_secret_expires")
            else value for key, value in body.items()}
    if secret is not None:
        body["secret"] = secret
    return body


def attempt_body(attempt):
    """Return one delivery attempt as the API shows it (the receiver's answer, never what was sent)."""
    return {
        "id": attempt.pk, "webhook_id": attempt.webhook_id, "event": attempt.event, "attempt": attempt.attempt,
        "succeeded": attempt.succeeded, "status_code": attempt.status_code, "error": attempt.error or None,
        "response": attempt.response, "duration_ms": attempt.duration_ms, "at": when(attempt.at),
        "next_attempt": when(attempt.next_attempt),
    }


class WebhooksView(TahoeApiView):
    """
    ``GET`` lists the site's webhooks (no secret); ``POST`` makes one.

    ``POST`` (JSON) ``{"url": "https://...", "events": ["learner.registered", ...]}`` answers 201 with
    the webhook's ``id``, ``url``, ``events``, ``created`` and its ``secret`` (``whsec_...``), shown
    this once, and ``Location``. A URL that is not ``https`` (unless the operator allows ``http``),
    holds credentials, or names or resolves to a private address is a 400 naming ``url``; an unknown
    event type a 400 naming ``events``; a site with ``MAX_PER_SITE`` webhooks a 409.
    """

    parser_classes = (JsonBodyParser,)
    audit_action = None  # a list is not audited; a creation is
    audit_actions_by_method = {"POST": "webhook_create"}

    def get(self, request):
        """Answer a page of the site's webhooks, oldest first."""
        paginator = ListPagination()
        page = paginator.paginate_queryset(endpoints.site_endpoints(request.site.pk), request, view=self)
        return paginator.get_paginated_response([webhook_body(endpoint) for endpoint in page])

    def post(self, request):
        """Check the webhook, make it, answer it with its secret."""
        url, events = endpoints.parse(request.data)
        endpoint, secret = endpoints.create(request.site.pk, url, events, request.user.pk)
        response = Response(webhook_body(endpoint, secret), status=status.HTTP_201_CREATED)
        response["Location"] = request.build_absolute_uri(
            reverse("tahoe-api:webhook", kwargs={"webhook_id": endpoint.pk}))
        return response


class WebhookView(TahoeApiView):
    """``GET`` one webhook of the site (no secret); ``DELETE`` removes it (204). Any other id: 404."""

    audit_action = None
    audit_actions_by_method = {"DELETE": "webhook_delete"}

    def get(self, request, webhook_id):
        """Answer the webhook."""
        return Response(webhook_body(endpoints.get(request.site.pk, webhook_id)))

    def delete(self, request, webhook_id):
        """Remove the webhook; deliveries still owed to it are dropped."""
        endpoints.remove(request.site.pk, webhook_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookRotateView(TahoeApiView):
    """``POST``: a new secret (answered once); the previous one signs too for 24 hours."""

    audit_action = "webhook_rotate"

    def post(self, request, webhook_id):
        """Rotate the webhook's secret; answer the webhook with the new one."""
        endpoint, secret = endpoints.rotate(request.site.pk, webhook_id)
        return Response(webhook_body(endpoint, secret))


class WebhookEnableView(TahoeApiView):
    """``POST``: switch a switched-off webhook on again (its failures forgotten)."""

    audit_action = "webhook_enable"

    def post(self, request, webhook_id):
        """Switch the webhook on; answer it."""
        return Response(webhook_body(endpoints.switch_on(request.site.pk, webhook_id)))


class WebhookDeliveriesView(TahoeApiView):
    """``GET``: the webhook's delivery attempts, newest first (paginated): event, attempt, status, time, answer."""

    audit_action = None

    def get(self, request, webhook_id):
        """Answer a page of the webhook's attempts."""
        endpoint = endpoints.get(request.site.pk, webhook_id)
        paginator = ListPagination()
        page = paginator.paginate_queryset(endpoints.attempts(endpoint), request, view=self)
        return paginator.get_paginated_response([attempt_body(attempt) for attempt in page])
