"""
The outbox's part for webhooks: an event is fanned out to the site's endpoints, then each delivery is posted.

1. An event message (``events``, kind ``event``) is fanned out by the outbox's worker: one
   delivery message (kind ``webhook``) per endpoint of the site that hears its type and is
   switched on, written in one transaction with the event's mark (a worker that dies midway
   leaves both undone, and the event is fanned out again, once).
2. A delivery is posted as Standard Webhooks says (``signing``): a fresh ``webhook-timestamp``
   and signature at each attempt, the same ``webhook-id``; the body is the same bytes each time.
   Each attempt is kept (``WebhookAttempt``: status, first 1 KiB of the answer, the error). Once
   no attempt is left (delivered, given up, its endpoint gone), the body leaves the outbox.
3. A 2xx is a success. Anything else (3xx included: redirects are never followed), a timeout
   (``TAHOE_REGISTRATION_API_WEBHOOK_TIMEOUT``) or no connection is a failure, retried after the
   delays of ``TAHOE_REGISTRATION_API_WEBHOOK_RETRY_SCHEDULE`` (about a day; ±10 % jitter; a
   longer ``Retry-After`` is honoured up to an hour). An endpoint answering 410, or failing since
   ``TAHOE_REGISTRATION_API_WEBHOOK_DISABLE_AFTER`` days, is switched off, with the reason.

A worker killed mid-post leaves the delivery leased: the outbox hands it over again once the lease
runs out, with the same ``webhook-id`` (the receiver may get it twice, and can tell).
"""

import json
import logging
import random
import time
from datetime import timedelta

import requests
from cryptography.fernet import InvalidToken
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sites.models import Site
from django.db.models import F
from django.utils import timezone
from requests_hardened.ip_filter import InvalidIPAddress

from tahoe_registration_api import outbox
from tahoe_registration_api.adapter import platform_adapter
from tahoe_registration_api.emails import Undeliverable
from tahoe_registration_api.models import OutboxMessage, WebhookAttempt, WebhookEndpoint
from tahoe_registration_api.purging import Retention, days_setting
from tahoe_registration_api.sealing import unseal_secret
from tahoe_registration_api.webhooks import addresses, signing
from tahoe_registration_api.webhooks.events import EVENT, LEARNER_REGISTERED, LEARNER_UPDATED

log = logging.getLogger(__name__)

WEBHOOK = "webhook"  # the outbox kind of one event's delivery to one endpoint
RESPONSE_KEPT = 1024  # characters of a receiver's answer kept with its attempt
LONGEST_RETRY_AFTER = 3600
ATTEMPTS_RETENTION = Retention(WebhookAttempt, "at",
                               days_setting("TAHOE_REGISTRATION_API_WEBHOOK_ATTEMPT_RETENTION_DAYS"),
                               interval=600, batch=1000)


class EndpointGone(Undeliverable):
    """The delivery's endpoint was removed or switched off: the delivery is dropped, as expected."""

    expected = True


class BodyGone(Undeliverable):
    """The delivery's body was scrubbed (its learner was retired): the delivery is dropped, as expected."""

    expected = True


class DeliveryFailed(Exception):
    """An attempt failed; ``delay``: seconds before the next (None: no attempt is left)."""

    def __init__(self, reason, delay):
        """Keep why (a status or an error's name) and when to try again."""
        super().__init__(reason)
        self.delay = delay


class FanOut:
    """An event: one delivery message per endpoint of its site that hears it, written with the event's mark."""

    atomic = True

    @staticmethod
    def send(message):
        """Write the event's deliveries (the outbox marks the event sent in the same transaction)."""
        envelope = json.loads(message.payload)
        webhook_id = envelope.pop("webhook_id")
        endpoints = [endpoint for endpoint in WebhookEndpoint.objects.filter(site_id=message.site_id, enabled=True)
                     if message.topic in json.loads(endpoint.events)]
        if not endpoints:
            return
        domain = Site.objects.filter(pk=message.site_id).values_list("domain", flat=True).first()
        envelope["data"] = {"site": {"id": message.site_id, "domain": domain}, **envelope["data"],
                            **learner_fields(message.topic, envelope["data"].get("user_id"))}
        body = json.dumps(envelope, separators=(",", ":"), sort_keys=True)
        outbox.owe([
            outbox.message_of(WEBHOOK, message.topic, message.site_id, message.user_id,
                              {"endpoint": endpoint.pk, "webhook_id": webhook_id, "body": body})
            for endpoint in endpoints
        ])

    @staticmethod
    def settle_all(message_ids):
        """
        Mark done together the events of ``message_ids`` whose site has no switched-on endpoint; return their ids.

        Most sites have no webhooks: their events have nothing to fan out to (as ``send`` finds), and
        this spares each a claim, a read and a mark. An endpoint created meanwhile hears later events.
        """
        now = timezone.now()
        quiet = OutboxMessage.objects.filter(outbox.claimable(now), pk__in=message_ids, kind=EVENT).exclude(
            site_id__in=WebhookEndpoint.objects.filter(enabled=True).values("site_id"))
        ids = set(quiet.values_list("pk", flat=True))
        if ids:  # one a copy of this task claimed meanwhile is that copy's (as ``deliver`` finds it claimed)
            OutboxMessage.objects.filter(outbox.claimable(now), pk__in=ids).update(
                state=OutboxMessage.SENT, due=None, done_at=now, attempts=F("attempts") + 1)
        return ids

    @staticmethod
    def retry_delay(message, error):
        """Fan out again after the webhooks' schedule (the database was away); None after its last retry."""
        delay = scheduled_delay(message.attempts)
        log.warning("The %s event %s was not fanned out (%s); %s.", message.topic, message.pk, type(error).__name__,
                    f"again in {delay:.0f} s" if delay is not None else "given up")
        return delay


class Post:
    """One event's delivery to one endpoint: signed, posted, its attempt kept; a failure retried on the schedule."""

    atomic = False

    @staticmethod
    def send(message):
        """Post the delivery; raise ``DeliveryFailed`` (to retry) or ``EndpointGone`` (dropped) when it failed."""
        delivery = json.loads(message.payload)
        endpoint = WebhookEndpoint.objects.filter(pk=delivery["endpoint"]).first()
        if endpoint is None or not endpoint.enabled:
            forget_body(message)
            raise EndpointGone(f"Webhook endpoint {delivery['endpoint']} was removed or switched off.")
        if "body" not in delivery:  # its learner was retired before it went out (``retirement``)
            raise BodyGone(f"The delivery of outbox message {message.pk} was scrubbed: its learner was retired.")
        try:
            attempt = post(endpoint, delivery["webhook_id"], delivery["body"].encode("utf-8"))
        except InvalidToken as exc:  # the LMS's SECRET_KEY changed since the secret was made
            reason = "Its secret cannot be read since this LMS's SECRET_KEY changed: rotate it, then switch it on."
            switch_off(endpoint, reason)
            forget_body(message)
            raise EndpointGone(f"Webhook endpoint {endpoint.pk} was switched off: {reason}") from exc
        attempt.message_id, attempt.event, attempt.attempt = message.pk, message.topic, message.attempts
        ATTEMPTS_RETENTION.purge_if_due()
        if attempt.succeeded:
            attempt.save(force_insert=True)
            forget_body(message)
            if endpoint.failing_since is not None:
                WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
            return
        _failed(endpoint, message, attempt)

    @staticmethod
    def retry_delay(message, error):
        """Return the delay the failed attempt chose; an unexpected error (the database) waits as the schedule says."""
        if isinstance(error, DeliveryFailed):
            return error.delay
        return scheduled_delay(message.attempts)


def learner_fields(event_type, user_id):
    """Return what a learner event tells of its learner besides the id, as they are now (nothing for no learner)."""
    user = get_user_model().objects.filter(pk=user_id).first() if user_id is not None else None
    if user is None:
        return {}
    fields = {"username": user.username, "email": user.email}
    if event_type in (LEARNER_REGISTERED, LEARNER_UPDATED):
        fields["name"] = platform_adapter().learner_profiles([user.pk]).get(user.pk, {}).get("name", "")
    if event_type == LEARNER_REGISTERED:
        fields["is_active"] = bool(user.is_active)
    return fields


outbox.register_kind(EVENT, FanOut)
outbox.register_kind(WEBHOOK, Post)


def forget_body(message):
    """Drop a delivery's body (its learner's address) once no attempt is left: the outbox keeps ids only."""
    delivery = json.loads(message.payload)
    OutboxMessage.objects.filter(pk=message.pk).update(payload=json.dumps(
        {"endpoint": delivery["endpoint"], "webhook_id": delivery["webhook_id"]}, separators=(",", ":")))


def secrets_of(endpoint, now):
    """Return the secrets that sign now: the current one, and the previous one during a rotation's overlap."""
    secrets = [unseal_secret(endpoint.secret)]
    if endpoint.previous_secret and endpoint.previous_expires and endpoint.previous_expires > now:
        try:
            secrets.append(unseal_secret(endpoint.previous_secret))
        except InvalidToken:
            pass  # sealed under a SECRET_KEY this LMS no longer has: the current secret signs alone
    return secrets


def post(endpoint, webhook_id, body):
    """Post ``body`` (bytes) to the endpoint once, signed; return the (unsaved) ``WebhookAttempt``."""
    now = timezone.now()
    headers = {"content-type": "application/json", **signing.headers(secrets_of(endpoint, now), webhook_id,
                                                                     now.timestamp(), body)}
    timeout = float(settings.TAHOE_REGISTRATION_API_WEBHOOK_TIMEOUT)
    attempt = WebhookAttempt(endpoint=endpoint, webhook_id=webhook_id, at=now)
    started = time.monotonic()
    if not endpoint.url.startswith("https://") and not settings.TAHOE_REGISTRATION_API_WEBHOOK_ALLOW_HTTP:
        attempt.error = "http-not-allowed"  # made while the operator allowed http, no longer
        attempt.succeeded = False
        return attempt
    with addresses.deadline(timeout) as passed:
        try:
            with addresses.session() as session, session.post(endpoint.url, data=body, headers=headers,
                                                              timeout=(timeout, timeout), stream=True,
                                                              allow_redirects=False) as answer:
                attempt.status_code = answer.status_code
                attempt.response = _first_kib(answer)
                attempt.retry_after = _retry_after(answer)
        except InvalidIPAddress:
            attempt.error = "refused-address"
        except requests.Timeout:
            attempt.error = "timeout"
        except requests.exceptions.SSLError:
            attempt.error = "tls-error"
        except requests.ConnectionError:
            attempt.error = "connection-error"
        except requests.RequestException as exc:
            attempt.error = type(exc).__name__[:64]
        except OSError:  # a socket shut beneath a TLS read
            attempt.error = "connection-error"
        if passed():
            attempt.error = "timeout"  # the whole attempt took longer than the endpoint may take
    elapsed = time.monotonic() - started
    attempt.duration_ms = int(elapsed * 1000)
    if elapsed > timeout and not attempt.error:
        attempt.error = "timeout"  # answered, but later than the endpoint may take
    attempt.succeeded = not attempt.error and 200 <= (attempt.status_code or 0) < 300
    return attempt


def _first_kib(answer):
    """Return at most the first ``RESPONSE_KEPT`` characters of the answer's body (the rest is not read)."""
    kept = b""
    for chunk in answer.iter_content(chunk_size=RESPONSE_KEPT):
        kept += chunk
        if len(kept) >= RESPONSE_KEPT:
            break
    return kept[:RESPONSE_KEPT].decode("utf-8", errors="replace")[:RESPONSE_KEPT]


def _retry_after(answer):
    """Return the seconds of an answer's ``Retry-After`` (capped), None when it has none that we read."""
    value = answer.headers.get("Retry-After", "")
    return min(int(value), LONGEST_RETRY_AFTER) if value.isdigit() else None


def scheduled_delay(attempts):
    """Return the seconds before the attempt after the ``attempts``-th (with jitter), None after the last."""
    schedule = [float(delay) for delay in settings.TAHOE_REGISTRATION_API_WEBHOOK_RETRY_SCHEDULE]
    if attempts > len(schedule):
        return None
    delay = schedule[attempts - 1]
    return delay * random.uniform(0.9, 1.1) if delay >= 60 else delay


def _failed(endpoint, message, attempt):
    """Keep a failed attempt; switch the endpoint off when it must be; raise what the outbox does next."""
    reason = attempt.error or f"HTTP {attempt.status_code}"
    now = attempt.at
    failing_since = endpoint.failing_since or now
    if endpoint.failing_since is None:
        WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
    give_up = None
    if attempt.status_code == 410:
        give_up = f"The endpoint answered 410 Gone on {now:%Y-%m-%d %H:%M} UTC."
    elif now - failing_since >= timedelta(days=float(settings.TAHOE_REGISTRATION_API_WEBHOOK_DISABLE_AFTER)):
        give_up = (f"No delivery succeeded since {failing_since:%Y-%m-%d %H:%M} UTC "
                   f"(the last attempt: {reason}).")
    delay = None if give_up else scheduled_delay(message.attempts)
    if delay is not None and getattr(attempt, "retry_after", None):
        delay = max(delay, attempt.retry_after)
    attempt.next_attempt = now + timedelta(seconds=delay) if delay is not None else None
    attempt.save(force_insert=True)
    if delay is None:
        forget_body(message)
    if give_up:
        switch_off(endpoint, give_up)
        raise EndpointGone(f"Webhook endpoint {endpoint.pk} was switched off: {give_up}")
    log.warning("Webhook delivery %s (%s) to endpoint %s failed (%s); %s.", message.pk, message.topic, endpoint.pk,
                reason, f"attempt {message.attempts + 1} in {delay:.0f} s" if delay is not None
                else "no attempt is left")
    raise DeliveryFailed(reason, delay)


def switch_off(endpoint, reason):
    """Switch the endpoint off with ``reason``; the deliveries still owed to it are dropped when their time comes."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk, enabled=True).update(
        enabled=False, disabled_at=timezone.now(), disabled_reason=reason[:255])
    log.warning("Webhook endpoint %s of site %s is switched off: %s", endpoint.pk, endpoint.site_id, reason)
