"""
A site's webhooks, as its integrator makes them and hears its learners' events (the development LMS).

Deliveries go to a real HTTP receiver on the loopback (``tests/webhook_receiver.py``); each
signature is checked with the ``standardwebhooks`` package, not with the plugin's own signing.
Celery runs eagerly here (a delivery is posted once the change commits, in the test's process);
the platform suite proves the same with the LMS's own worker on Redis.
"""

import base64
import ipaddress
import json
import logging
import socket
import ssl
import threading
import time
from datetime import timedelta
from unittest import mock

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from standardwebhooks import Webhook, WebhookVerificationError

from devlms.management.commands.devlms_seed import seed_courses
from tahoe_registration_api import outbox
from tahoe_registration_api.models import AuditEntry, OutboxMessage, WebhookEndpoint
from tahoe_registration_api.webhooks import addresses, delivery
from tahoe_registration_api.webhooks.events import EVENT, EVENT_TYPES
from tests.conftest import learner_body
from tests.test_jobs import csv_of, post_csv
from tests.webhook_receiver import Answer, Receiver

WEBHOOKS_URL = "/tahoe/api/v1/webhooks/"
INTRO = "course-v1:alpha+Intro+2026"
PASSWORD = "Str0ng-enough-pw"
PUBLIC_URL = "https://93.184.215.14/hooks"  # a public address: accepted without resolving a name


@pytest.fixture
def receiver(settings):
    """A receiver on the loopback, which this LMS may post to (as `make run` allows)."""
    settings.TAHOE_REGISTRATION_API_WEBHOOK_ALLOW_PRIVATE = True
    settings.TAHOE_REGISTRATION_API_WEBHOOK_ALLOW_HTTP = True
    settings.TAHOE_REGISTRATION_API_WEBHOOK_TIMEOUT = 2
    running = Receiver()
    yield running
    running.close()


def create(caller, site, url, events=EVENT_TYPES):
    """POST a webhook; return the answer."""
    return caller.client.post(WEBHOOKS_URL, {"url": url, "events": list(events)}, format="json",
                              HTTP_HOST=site.domain)


def subscribed(caller, site, receiver, events=EVENT_TYPES):
    """Make a webhook to the receiver; return its body (with the secret)."""
    response = create(caller, site, receiver.url, events)
    assert response.status_code == 201, response.content
    return response.json()


def verified(delivery, secret):
    """Return the delivery's payload as ``standardwebhooks`` verifies it with ``secret``."""
    return Webhook(secret).verify(delivery.body, delivery.headers)


def register(caller, site, **overrides):
    """Register a learner (what the commit owes runs at once); return the answer's body."""
    response = caller.register(site, learner_body(**overrides))
    assert response.status_code == 200, response.content
    return response.json()


def deliveries(caller, site, webhook_id):
    """GET the webhook's delivery attempts."""
    response = caller.client.get(f"{WEBHOOKS_URL}{webhook_id}/deliveries/", HTTP_HOST=site.domain)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def run_due_retries():
    """Make every retry waiting in the outbox due now, and let the sweep hand them over (time passes)."""
    OutboxMessage.objects.filter(state=OutboxMessage.PENDING).update(due=timezone.now() - timedelta(seconds=1))
    with TestCase.captureOnCommitCallbacks(execute=True):
        return outbox.sweep()


# Making, listing and removing webhooks

def test_a_webhook_is_made_with_a_secret_shown_once(alpha, alpha_admin):
    response = create(alpha_admin, alpha, PUBLIC_URL, ["learner.registered", "enrollment.created"])
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "url", "events", "created", "enabled", "failing_since", "disabled_at",
                         "disabled_reason", "previous_secret_expires", "secret"}
    assert (body["url"], body["events"], body["enabled"]) == (PUBLIC_URL, ["learner.registered",
                                                                           "enrollment.created"], True)
    assert body["secret"].startswith("whsec_") and len(base64.b64decode(body["secret"][6:])) == 32
    assert response["Location"].endswith(f"{WEBHOOKS_URL}{body['id']}/")
    listed = alpha_admin.client.get(WEBHOOKS_URL, HTTP_HOST=alpha.domain).json()
    assert listed["count"] == 1 and "secret" not in listed["results"][0]
    one = alpha_admin.client.get(f"{WEBHOOKS_URL}{body['id']}/", HTTP_HOST=alpha.domain).json()
    assert "secret" not in one and one["id"] == body["id"]
    assert body["secret"] not in WebhookEndpoint.objects.get().secret  # sealed at rest
    assert AuditEntry.objects.filter(action="webhook_create", outcome="webhook-created").count() == 1


def test_events_are_kept_once_each_in_the_documented_order(alpha, alpha_admin):
    body = create(alpha_admin, alpha, PUBLIC_URL, ["learner.enabled", "learner.registered", "learner.enabled"]).json()
    assert body["events"] == ["learner.registered", "learner.enabled"]


@pytest.mark.parametrize("url, message", [
    (None, "Give the endpoint's URL."),
    (42, "Give the endpoint's URL."),
    ("", "Give the endpoint's URL."),
    ("ftp://93.184.215.14/x", "The URL must start with https://."),
    ("http://93.184.215.14/x", "The URL must start with https://."),
    ("https:///nothing", "The URL names no host."),
    ("https://user:pw@93.184.215.14/x", "The URL may not hold credentials"),
    ("https://93.184.215.14/x#part", "The URL may not hold a fragment"),
    ("https://93.184.215.14/a b", "A URL holds no spaces"),
    ("https://93.184.215.14:99999/x", "This is not a valid URL."),
    ("https://example.invalid/x", "The URL's host does not resolve."),
    ("https://93.184.215.14/" + "x" * 2100, "At most 2048 characters."),
])
def test_a_url_that_cannot_be_a_webhook_is_a_400_naming_url(alpha, alpha_admin, url, message):
    response = create(alpha_admin, alpha, url)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error_code"] == "validation-error" and set(body["field_errors"]) == {"url"}
    assert body["field_errors"]["url"]["user_message"].startswith(message)
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("url", [
    "https://127.0.0.1/hooks", "https://localhost/hooks", "https://10.1.2.3/hooks", "https://192.168.0.10/hooks",
    "https://172.16.5.4/hooks", "https://169.254.169.254/latest/meta-data", "https://100.100.100.200/hooks",
    "https://[::1]/hooks", "https://[::ffff:127.0.0.1]/hooks", "https://[fd00:ec2::254]/hooks",
    "https://0.0.0.0/hooks", "https://[64:ff9b::a9fe:a9fe]/hooks", "https://224.0.0.1/hooks",
])
def test_a_private_loopback_link_local_or_metadata_address_is_refused(alpha, alpha_admin, url):
    response = create(alpha_admin, alpha, url)
    assert response.status_code == 400, response.content
    assert "public addresses only" in response.json()["field_errors"]["url"]["user_message"]


def test_http_is_accepted_only_where_the_operator_allows_it(alpha, alpha_admin, settings):
    settings.TAHOE_REGISTRATION_API_WEBHOOK_ALLOW_HTTP = True
    assert create(alpha_admin, alpha, "http://93.184.215.14/hooks").status_code == 201


@pytest.mark.parametrize("events, message", [
    (None, "Give a list of one or more event types"),
    ([], "Give a list of one or more event types"),
    ("learner.registered", "Give a list of one or more event types"),
    (["learner.registered", "learner.deleted"], "Unknown event type(s): 'learner.deleted'."),
    ([{"type": "x"}], "Unknown event type(s): {'type': 'x'}."),
])
def test_an_unknown_or_missing_event_is_a_400_naming_events(alpha, alpha_admin, events, message):
    response = alpha_admin.client.post(WEBHOOKS_URL, {"url": PUBLIC_URL, "events": events}, format="json",
                                       HTTP_HOST=alpha.domain)
    assert response.status_code == 400
    assert set(response.json()["field_errors"]) == {"events"}
    assert response.json()["field_errors"]["events"]["user_message"].startswith(message)


def test_both_fields_wrong_are_named_together_and_a_non_object_is_a_400(alpha, alpha_admin):
    response = alpha_admin.client.post(WEBHOOKS_URL, {"url": "ftp://x", "events": []}, format="json",
                                       HTTP_HOST=alpha.domain)
    assert set(response.json()["field_errors"]) == {"url", "events"}
    response = alpha_admin.client.post(WEBHOOKS_URL, [1, 2], format="json", HTTP_HOST=alpha.domain)
    assert (response.status_code, set(response.json()["field_errors"])) == (400, {"non_field_errors"})


def test_a_site_has_at_most_twenty_webhooks(alpha, alpha_admin):
    for _ in range(20):
        assert create(alpha_admin, alpha, PUBLIC_URL).status_code == 201
    response = create(alpha_admin, alpha, PUBLIC_URL)
    assert (response.status_code, response.json()["error_code"]) == (409, "too-many-webhooks")


def test_another_sites_webhook_is_a_404_to_see_remove_rotate_or_list(alpha, beta, alpha_admin, beta_admin):
    theirs = create(beta_admin, beta, PUBLIC_URL).json()["id"]
    for method, suffix in (("get", ""), ("delete", ""), ("post", "rotate/"), ("post", "enable/"),
                           ("get", "deliveries/")):
        response = getattr(alpha_admin.client, method)(f"{WEBHOOKS_URL}{theirs}/{suffix}", HTTP_HOST=alpha.domain)
        assert (response.status_code, response.json()["error_code"]) == (404, "webhook-not-found"), suffix
    assert alpha_admin.client.get(WEBHOOKS_URL, HTTP_HOST=alpha.domain).json()["count"] == 0
    assert WebhookEndpoint.objects.filter(pk=theirs).exists()
    huge = alpha_admin.client.get(f"{WEBHOOKS_URL}{2 ** 70}/", HTTP_HOST=alpha.domain)
    assert huge.status_code == 404


def test_a_removed_webhook_is_gone_and_hears_nothing_more(alpha, alpha_admin, receiver):
    hook = subscribed(alpha_admin, alpha, receiver)
    response = alpha_admin.client.delete(f"{WEBHOOKS_URL}{hook['id']}/", HTTP_HOST=alpha.domain)
    assert response.status_code == 204
    assert alpha_admin.client.get(f"{WEBHOOKS_URL}{hook['id']}/", HTTP_HOST=alpha.domain).status_code == 404
    register(alpha_admin, alpha)
    assert receiver.deliveries == []
    assert AuditEntry.objects.filter(action="webhook_delete").count() == 1


# Deliveries: what the receiver gets

def test_a_registration_is_delivered_signed_as_standard_webhooks_says(alpha, alpha_admin, receiver):
    hook = subscribed(alpha_admin, alpha, receiver, ["learner.registered"])
    learner = register(alpha_admin, alpha, password=PASSWORD)
    [delivery] = receiver.wait_for(1)
    payload = verified(delivery, hook["secret"])
    assert payload["type"] == "learner.registered"
    assert payload["data"] == {
        "site": {"id": alpha.site.pk, "domain": "alpha.localhost"}, "user_id": learner["user_id"],
        "username": "auserton", "email": "alex.userton@example.com", "name": "Alex Userton", "is_active": False,
        "courses": [],
    }
    assert payload["timestamp"].endswith("Z")
    assert delivery.headers["webhook-id"].startswith("msg_") and len(delivery.headers["webhook-id"]) == 36
    assert delivery.headers["content-type"] == "application/json"
    assert PASSWORD.encode() not in delivery.body and b"password" not in delivery.body
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + base64.b64encode(b"x" * 32).decode()).verify(delivery.body, delivery.headers)
    [attempt] = deliveries(alpha_admin, alpha, hook["id"])
    assert (attempt["event"], attempt["attempt"], attempt["status_code"], attempt["succeeded"]) == (
        "learner.registered", 1, 204, True)
    assert attempt["webhook_id"] == delivery.headers["webhook-id"]


def test_each_event_type_reaches_the_webhooks_that_hear_it_once(alpha, alpha_admin, receiver):
    seed_courses(alpha.organization)
    everything = subscribed(alpha_admin, alpha, receiver)
    only_disabled = Receiver()
    try:
        subscribed(alpha_admin, alpha, only_disabled, ["learner.disabled"])
        ada = register(alpha_admin, alpha, username="ada", email="ada@example.com", courses=[INTRO])["user_id"]
        with TestCase.captureOnCommitCallbacks(execute=True):
            alpha_admin.client.post("/tahoe/api/v1/enrollments/", {"action": "unenroll", "identifiers": ["ada"],
                                    "courses": [INTRO]}, format="json", HTTP_HOST=alpha.domain)
        for change in ({"name": "Ada Lovelace", "language": "fr"}, {"disabled": True}, {"disabled": False}):
            with TestCase.captureOnCommitCallbacks(execute=True):
                response = alpha_admin.client.patch(f"/tahoe/api/v1/learners/{ada}/", change, format="json",
                                                    HTTP_HOST=alpha.domain)
            assert response.status_code == 200, response.content
        job = post_csv(alpha_admin, alpha, csv_of("username,email,name", "bo,bo@example.com,Bo"))
        assert job.status_code == 202
        payloads = [verified(delivery, everything["secret"]) for delivery in receiver.wait_for(8)]
        assert sorted(payload["type"] for payload in payloads) == sorted([
            "learner.registered", "enrollment.created", "enrollment.deactivated", "learner.updated",
            "learner.disabled", "learner.enabled", "learner.registered", "registration_job.completed"])
        by_type = {payload["type"]: payload["data"] for payload in payloads}
        assert by_type["enrollment.created"] == {"site": {"id": alpha.site.pk, "domain": "alpha.localhost"},
                                                 "user_id": ada, "username": "ada", "email": "ada@example.com",
                                                 "course_id": INTRO, "mode": "audit"}
        assert by_type["enrollment.deactivated"]["course_id"] == INTRO
        assert by_type["learner.updated"]["changed"] == ["language", "name"]
        assert by_type["registration_job.completed"]["status"] == "done"
        assert (by_type["registration_job.completed"]["created"], by_type["registration_job.completed"]["total"]) == (
            1, 1)
        assert [json.loads(delivery.body)["type"] for delivery in only_disabled.wait_for(1)] == ["learner.disabled"]
        assert len({delivery.headers["webhook-id"] for delivery in receiver.deliveries}) == 8
    finally:
        only_disabled.close()


def test_another_sites_events_never_reach_a_webhook(alpha, beta, alpha_admin, beta_admin, receiver):
    subscribed(alpha_admin, alpha, receiver)
    register(beta_admin, beta)
    assert receiver.deliveries == []


def test_a_sites_events_without_webhooks_are_settled_together_and_the_others_fanned_out(
        alpha, beta, alpha_admin, beta_admin, receiver):
    subscribed(alpha_admin, alpha, receiver)
    with mock.patch.object(outbox.deliver_outbox_message, "apply_async"):  # handed over below
        heard, unheard = register(alpha_admin, alpha), register(beta_admin, beta, username="bo", email="bo@example.com")
    event_of = dict(OutboxMessage.objects.filter(kind=EVENT).values_list("user_id", "pk"))
    # Beta has no webhook: its event is marked done with one look at the sites' endpoints and one UPDATE,
    # never claimed, read or fanned out one by one.
    with CaptureQueriesContext(connection) as queries, mock.patch.object(outbox.SWEEP, "next_at", float("inf")):
        outbox.deliver_outbox_message(event_of[unheard["user_id"]])
    assert len(queries.captured_queries) == 2, [query["sql"] for query in queries.captured_queries]
    quiet = OutboxMessage.objects.get(pk=event_of[unheard["user_id"]])
    assert (quiet.state, quiet.attempts, quiet.done_at is not None) == (OutboxMessage.SENT, 1, True)
    # Alpha's is fanned out to its webhook as ever.
    with TestCase.captureOnCommitCallbacks(execute=True):
        outbox.deliver_outbox_message(*event_of.values())
    assert [json.loads(delivery.body)["data"]["user_id"] for delivery in receiver.deliveries] == [heard["user_id"]]
    assert OutboxMessage.objects.get(pk=event_of[heard["user_id"]]).state == OutboxMessage.SENT


# Failures, retries, switching off

def test_a_failed_delivery_is_retried_with_the_same_webhook_id_until_it_succeeds(alpha, alpha_admin, receiver):
    hook = subscribed(alpha_admin, alpha, receiver, ["learner.registered"])
    receiver.answers = [Answer(503), Answer(500, b"oops" * 600)]
    register(alpha_admin, alpha)  # the retries after 5 s and 5 min are queued with a countdown: at once, eagerly
    first, second, third = receiver.wait_for(3)
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == third.headers["webhook-id"]
    assert first.body == second.body == third.body
    history = deliveries(alpha_admin, alpha, hook["id"])
    assert [(row["attempt"], row["status_code"], row["succeeded"]) for row in history] == [
        (3, 204, True), (2, 500, False), (1, 503, False)]
    assert len(history[1]["response"]) == 1024  # never more than the first KiB of an answer
    assert history[2]["next_attempt"] is not None and history[0]["next_attempt"] is None
    assert WebhookEndpoint.objects.get().failing_since is None  # a success forgives the failures
    assert run_due_retries() == 0 and len(receiver.deliveries) == 3


def test_retries_follow_the_schedule_then_give_up(alpha, alpha_admin, receiver, settings):
    hook = subscribed(alpha_admin, alpha, receiver, ["learner.registered"])
    receiver.default = Answer(500)
    register(alpha_admin, alpha)
    for _ in range(10):
        run_due_retries()
    assert len(receiver.deliveries) == len(settings.TAHOE_REGISTRATION_API_WEBHOOK_RETRY_SCHEDULE) + 1 == 8
    message = OutboxMessage.objects.get(kind="webhook")
    assert (message.state, message.attempts) == (OutboxMessage.FAILED, 8)
    history = deliveries(alpha_admin, alpha, hook["id"])
    gaps = [(timezone.datetime.fromisoformat(row["next_attempt"].replace("Z", "+00:00"))
             - timezone.datetime.fromisoformat(row["at"].replace("Z", "+00:00"))).total_seconds()
            for row in reversed(history[1:])]
    for gap, planned in zip(gaps, settings.TAHOE_REGISTRATION_API_WEBHOOK_RETRY_SCHEDULE):
        assert planned * 0.9 - 1 <= gap <= planned * 1.1 + 1
    assert history[0]["next_attempt"] is None
    assert WebhookEndpoint.objects.get().enabled  # failing for less than 5 days: still on


def test_a_redirect_is_a_failure_and_is_not_followed(alpha, alpha_admin, receiver):
    hook = subscribed(alpha_admin, alpha, receiver, ["learner.registered"])
    receiver.answers = [Answer(302, headers={"Location": receiver.url + "/elsewhere"})]
    register(alpha_admin, alpha)
    deliveries_now = receiver.wait_for(2)
    assert all(delivery.path == "/hooks" for delivery in deliveries_now)
    assert [row["status_code"] for row in deliveries(alpha_admin, alpha, hook["id"])] == [204, 302]


def test_a_slow_receiver_is_a_timeout_retried(alpha, alpha_admin, receiver, settings):
    settings.TAHOE_REGISTRATION_API_WEBHOOK_TIMEOUT = 0.5
    hook = subscribed(alpha_admin, alpha, receiver, ["learner.registered"])
    receiver.answers = [Answer(204, delay=1.5)]
    register(alpha_admin, alpha)
    receiver.wait_for(2)
    [second, first] = deliveries(alpha_admin, alpha, hook["id"])
    assert (first["error"], first["succeeded"]) == ("timeout", False)
    assert second["succeeded"] is True


def test_a_410_switches_the_webhook_off_with_the_reason(alpha, alpha_admin, receiver):
    hook = subscribed(alpha_admin, alpha, receiver, ["learner.registered"])
    receiver.answers = [Answer(410)]
    register(alpha_admin, alpha)
    receiver.wait_for(1)
    shown = alpha_admin.client.get(f"{WEBHOOKS_URL}{hook['id']}/", HTTP_HOST=alpha.domain).json()
    assert shown["enabled"] is False and shown["disabled_reason"].startswith("The endpoint answered 410 Gone")
    register(alpha_admin, alpha, username="bo", email="bo@example.com")
    run_due_retries()
    assert len(receiver.deliveries) == 1  # nothing more, not even a retry
    response = alpha_admin.client.post(f"{WEBHOOKS_URL}{hook['id']}/enable/", HTTP_HOST=alpha.domain)
    assert response.status_code == 200 and response.json()["enabled"] is True
    assert response.json()["disabled_reason"] is None
    register(alpha_admin, alpha, username="cy", email="cy@example.com")
    assert json.loads(receiver.wait_for(2)[-1].body)["data"]["username"] == "cy"


def test_a_webhook_failing_for_five_days_is_switched_off(alpha, alpha_admin, receiver, caplog):
    hook = subscribed(alpha_admin, alpha, receiver, ["learner.registered"])
    WebhookEndpoint.objects.update(failing_since=timezone.now() - timedelta(days=5, minutes=1))
    receiver.default = Answer(500)
    with caplog.at_level(logging.WARNING, logger="tahoe_registration_api"):
        register(alpha_admin, alpha)
    shown = alpha_admin.client.get(f"{WEBHOOKS_URL}{hook['id']}/", HTTP_HOST=alpha.domain).json()
    assert shown["enabled"] is False
    assert shown["disabled_reason"].startswith("No delivery succeeded since")
    assert shown["disabled_reason"].endswith("(the last attempt: HTTP 500).")
    assert len(receiver.deliveries) == 1
    assert hook["secret"] not in caplog.text


def test_a_name_that_resolves_elsewhere_at_delivery_is_refused_there(alpha, alpha_admin, receiver, settings):
    settings.TAHOE_REGISTRATION_API_WEBHOOK_ALLOW_PRIVATE = False
    port = int(receiver.url.split(":")[2].split("/")[0])
    real = socket.getaddrinfo
    answers = iter(["93.184.215.14", "127.0.0.1"])  # public when made, the loopback when posted to

    def rebinding(host, *args, **kwargs):
        if host == "hooks.example.com":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]
        return real(host, *args, **kwargs)

    with mock.patch("socket.getaddrinfo", rebinding):
        hook = subscribed(alpha_admin, alpha, type("R", (), {"url": f"http://hooks.example.com:{port}/hooks"}),
                          ["learner.registered"])
        register(alpha_admin, alpha)
    assert receiver.deliveries == []
    [attempt] = deliveries(alpha_admin, alpha, hook["id"])
    assert (attempt["error"], attempt["succeeded"]) == ("refused-address", False)


# Rotation

def test_a_rotated_secret_signs_beside_the_old_one_for_a_day(alpha, alpha_admin, receiver):
    hook = subscribed(alpha_admin, alpha, receiver, ["learner.registered"])
    response = alpha_admin.client.post(f"{WEBHOOKS_URL}{hook['id']}/rotate/", HTTP_HOST=alpha.domain)
    assert response.status_code == 200
    rotated = response.json()
    assert rotated["secret"] != hook["secret"] and rotated["secret"].startswith("whsec_")
    expires = timezone.datetime.fromisoformat(rotated["previous_secret_expires"].replace("Z", "+00:00"))
    assert timedelta(hours=23, minutes=59) < expires - timezone.now() <= timedelta(hours=24)
    register(alpha_admin, alpha)
    [delivery] = receiver.wait_for(1)
    assert len(delivery.headers["webhook-signature"].split(" ")) == 2
    assert verified(delivery, hook["secret"]) == verified(delivery, rotated["secret"])
    WebhookEndpoint.objects.update(previous_expires=timezone.now() - timedelta(seconds=1))
    register(alpha_admin, alpha, username="bo", email="bo@example.com")
    later = receiver.wait_for(2)[-1]
    assert len(later.headers["webhook-signature"].split(" ")) == 1
    assert verified(later, rotated["secret"])["data"]["username"] == "bo"
    with pytest.raises(WebhookVerificationError):
        verified(later, hook["secret"])
    assert AuditEntry.objects.filter(action="webhook_rotate").count() == 1


# What a registration pays for its webhooks

def test_a_registration_with_three_webhooks_costs_no_more_statements_than_without(alpha, alpha_admin, beta,
                                                                                  beta_admin):
    def statements(caller, site, username):
        with CaptureQueriesContext(connection) as queries:
            response = caller.client.post("/tahoe/api/v1/registrations/", learner_body(
                username=username, email=f"{username}@example.com"), format="json", HTTP_HOST=site.domain)
        assert response.status_code == 200
        return len(queries)

    statements(alpha_admin, alpha, "warm")  # caches filled
    statements(beta_admin, beta, "warmer")
    for _ in range(3):
        assert create(alpha_admin, alpha, PUBLIC_URL).status_code == 201
    with_three, without = statements(alpha_admin, alpha, "ada"), statements(beta_admin, beta, "bob")
    assert with_three <= without + 1, (with_three, without)
    # One statement writes the learner's email and the event: the outbox holds both.
    assert list(OutboxMessage.objects.order_by("pk").values_list("kind", flat=True)[:2]) == ["email", "event"]


# What changes under the webhook

def test_an_http_webhook_is_not_posted_to_once_the_operator_forbids_http(alpha, alpha_admin, receiver, settings):
    hook = subscribed(alpha_admin, alpha, receiver, ["learner.registered"])
    settings.TAHOE_REGISTRATION_API_WEBHOOK_ALLOW_HTTP = False
    register(alpha_admin, alpha)
    assert receiver.deliveries == []
    assert deliveries(alpha_admin, alpha, hook["id"])[0]["error"] == "http-not-allowed"


def test_a_secret_sealed_under_another_secret_key_switches_the_webhook_off_until_rotated(
        alpha, alpha_admin, receiver, settings):
    hook = subscribed(alpha_admin, alpha, receiver, ["learner.registered"])
    settings.SECRET_KEY = "another-secret-key-of-this-lms"
    register(alpha_admin, alpha)
    assert receiver.deliveries == []
    shown = alpha_admin.client.get(f"{WEBHOOKS_URL}{hook['id']}/", HTTP_HOST=alpha.domain).json()
    assert shown["enabled"] is False and "SECRET_KEY changed" in shown["disabled_reason"]
    rotated = alpha_admin.client.post(f"{WEBHOOKS_URL}{hook['id']}/rotate/", HTTP_HOST=alpha.domain).json()
    assert WebhookEndpoint.objects.get().previous_secret == ""  # the unreadable one does not sign beside it
    alpha_admin.client.post(f"{WEBHOOKS_URL}{hook['id']}/enable/", HTTP_HOST=alpha.domain)
    register(alpha_admin, alpha, username="bo", email="bo@example.com")
    [delivery] = receiver.wait_for(1)
    assert verified(delivery, rotated["secret"])["data"]["username"] == "bo"


def test_a_scim_user_created_inactive_is_registered_then_disabled(alpha, alpha_admin, receiver):
    from tests.scim import USERS, bearer, okta_user, scim  # pylint: disable=import-outside-toplevel

    hook = subscribed(alpha_admin, alpha, receiver, ["learner.registered", "learner.disabled"])
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = scim(bearer(alpha_admin), alpha, "POST", USERS, okta_user("ada@okta.local", active=False))
    assert response.status_code == 201, response.content
    assert [verified(delivery, hook["secret"])["type"] for delivery in receiver.wait_for(2)] == [
        "learner.registered", "learner.disabled"]


def self_signed(directory):
    """Write a certificate for 127.0.0.1 and its key into ``directory``; return the TLS context of a server using it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = timezone.now()
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (directory / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                          serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    return context


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_receiver_answering_a_byte_at_a_time_is_cut_off_at_the_timeout(
        alpha, alpha_admin, receiver, settings, tmp_path, scheme):
    settings.TAHOE_REGISTRATION_API_WEBHOOK_TIMEOUT = 1
    listener = socket.create_server(("127.0.0.1", 0))
    tls = self_signed(tmp_path) if scheme == "https" else None
    stop = threading.Event()

    def trickle():  # an answer's headers, one every 0.3 s, forever: each read is quick, the whole never ends
        connection_, _ = listener.accept()
        with (tls.wrap_socket(connection_, server_side=True) if tls else connection_) as talking:
            talking.recv(65536)
            talking.sendall(b"HTTP/1.1 200 OK\r\n")
            while not stop.wait(0.3):
                try:
                    talking.sendall(b"X-Slow: 1\r\n")
                except OSError:
                    return

    real_session = addresses.session

    def trusting_the_receiver():  # the test's certificate, as a receiver's CA-signed one would be trusted
        session = real_session()
        session.verify = str(tmp_path / "cert.pem")
        return session

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    try:
        url = f"{scheme}://127.0.0.1:{listener.getsockname()[1]}/"
        hook = subscribed(alpha_admin, alpha, type("R", (), {"url": url}), ["learner.registered"])
        began = time.monotonic()
        with mock.patch.object(delivery, "scheduled_delay", return_value=None), \
                mock.patch.object(addresses, "session", trusting_the_receiver):  # one attempt, no retry
            register(alpha_admin, alpha)
        took = time.monotonic() - began
    finally:
        stop.set()
        listener.close()
    [attempt] = deliveries(alpha_admin, alpha, hook["id"])
    assert (attempt["error"], attempt["succeeded"]) == ("timeout", False)
    assert 1000 <= attempt["duration_ms"] < 1500 and took < 3, (attempt["duration_ms"], took)
