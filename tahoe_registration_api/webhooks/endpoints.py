"""
A site's webhook endpoints, as its admins keep them: create, list, remove, rotate the secret, switch on again.

Each endpoint belongs to one site and hears only that site's events. Its secret is shown once,
when it is made (or rotated), and kept sealed; a rotation keeps the previous secret signing
beside the new one for ``ROTATION_OVERLAP``, so a receiver can change its secret without losing a
delivery. A site has at most ``MAX_PER_SITE`` endpoints.
"""

import json
from datetime import timedelta

from cryptography.fernet import InvalidToken
from django.db import transaction
from django.utils import timezone

from tahoe_registration_api.exceptions import InvalidRegistration, TooManyWebhooks, WebhookNotFound
from tahoe_registration_api.i18n import gettext_noop, message
from tahoe_registration_api.models import WebhookAttempt, WebhookEndpoint
from tahoe_registration_api.sealing import seal_secret, unseal_secret
from tahoe_registration_api.webhooks.addresses import RefusedUrl, check_url
from tahoe_registration_api.webhooks.events import EVENT_TYPES
from tahoe_registration_api.webhooks.signing import new_secret

MAX_PER_SITE = 20
ROTATION_OVERLAP = timedelta(hours=24)
INVALID = gettext_noop("Some of the webhook's details are not valid.")


def parse(data):
    """Return ``(url, events)`` of a webhook to create from the caller's JSON; a 400 naming each bad field."""
    if not isinstance(data, dict):
        raise InvalidRegistration("The webhook must be a JSON object.",
                                  field_errors={"non_field_errors": gettext_noop("The webhook must be a JSON object.")},
                                  user_message=INVALID)
    errors, url, events = {}, None, None
    try:
        url = check_url(data.get("url"))
    except RefusedUrl as exc:
        errors["url"] = message(exc.args[0])
    try:
        events = parse_events(data.get("events"))
    except ValueError as exc:
        errors["events"] = message(exc.args[0])
    if errors:
        raise InvalidRegistration("Invalid fields: " + ", ".join(sorted(errors)) + ".", field_errors=errors,
                                  user_message=INVALID)
    return url, events


def parse_events(events):
    """Return the event types asked for (each once, in the documented order); ValueError saying what is wrong."""
    known = ", ".join(EVENT_TYPES)
    if not isinstance(events, list) or not events:
        raise ValueError(message(gettext_noop("Give a list of one or more event types: {known}."), known=known))
    unknown = [event for event in events if not isinstance(event, str) or event not in EVENT_TYPES]
    if unknown:
        shown = ", ".join(repr(event)[:40] for event in unknown[:3])
        raise ValueError(message(gettext_noop("Unknown event type(s): {shown}. The event types are: {known}."),
                                 shown=shown, known=known))
    return [event for event in EVENT_TYPES if event in events]


def site_endpoints(site_id):
    """Return the site's endpoints, oldest first."""
    return WebhookEndpoint.objects.filter(site_id=site_id).order_by("pk")


def get(site_id, endpoint_id):
    """Return the site's endpoint ``endpoint_id``; ``WebhookNotFound`` for any other id (another site's too)."""
    fits = type(endpoint_id) is int and 0 < endpoint_id < 2 ** 63  # pylint: disable=unidiomatic-typecheck
    endpoint = site_endpoints(site_id).filter(pk=endpoint_id).first() if fits else None
    if endpoint is None:
        raise WebhookNotFound(f"No webhook {endpoint_id} on this site.")
    return endpoint


def create(site_id, url, events, caller_id):
    """Make an endpoint; return it and its secret (shown this once)."""
    secret = new_secret()
    with transaction.atomic():
        # The site's endpoints are counted under a lock on them, so two creations cannot both pass the limit.
        if len(list(site_endpoints(site_id).select_for_update().values_list("pk", flat=True))) >= MAX_PER_SITE:
            raise TooManyWebhooks(f"A site has at most {MAX_PER_SITE} webhooks.")
        endpoint = WebhookEndpoint.objects.create(site_id=site_id, url=url, events=json.dumps(events),
                                                  secret=seal_secret(secret), created_by=caller_id)
    return endpoint, secret


def readable(sealed):
    """Whether this LMS can read a sealed secret (not after a change of its SECRET_KEY)."""
    try:
        unseal_secret(sealed)
    except InvalidToken:
        return False
    return True


def remove(site_id, endpoint_id):
    """Remove the endpoint and its attempts; deliveries owed to it are dropped when their time comes."""
    get(site_id, endpoint_id).delete()


def rotate(site_id, endpoint_id):
    """Give the endpoint a new secret; the current one signs too for ``ROTATION_OVERLAP``. Return it and the secret."""
    secret = new_secret()
    with transaction.atomic():
        endpoint = get(site_id, endpoint_id)
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        # The current secret signs beside the new one for the overlap (not one this LMS can no longer read).
        endpoint.previous_secret = endpoint.secret if readable(endpoint.secret) else ""
        endpoint.secret = seal_secret(secret)
        endpoint.previous_expires = timezone.now() + ROTATION_OVERLAP
        endpoint.save(update_fields=["secret", "previous_secret", "previous_expires"])
    return endpoint, secret


def switch_on(site_id, endpoint_id):
    """Switch a switched-off endpoint on again (new events reach it); return it."""
    endpoint = get(site_id, endpoint_id)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(enabled=True, failing_since=None, disabled_at=None,
                                                          disabled_reason="")
    endpoint.refresh_from_db()
    return endpoint


def events_of(endpoint):
    """Return the event types the endpoint hears."""
    return json.loads(endpoint.events)


def describe(endpoint):
    """Return the endpoint as the API shows it (never its secret)."""
    return {
        "id": endpoint.pk, "url": endpoint.url, "events": events_of(endpoint), "created": endpoint.created,
        "enabled": endpoint.enabled, "failing_since": endpoint.failing_since, "disabled_at": endpoint.disabled_at,
        "disabled_reason": endpoint.disabled_reason or None,
        "previous_secret_expires": endpoint.previous_expires
        if endpoint.previous_expires and endpoint.previous_expires > timezone.now() else None,
    }


def attempts(endpoint):
    """Return the endpoint's delivery attempts, newest first."""
    return WebhookAttempt.objects.filter(endpoint=endpoint).order_by("-at", "-pk")
