"""
Webhooks inside the LMS: events of the platform's own records, posted by a real Celery worker on Redis.

A site's admin makes a webhook pointing at a real HTTP receiver on the loopback
(``tests/webhook_receiver.py``); the API calls commit their changes and their events into the
outbox, and a real ``celery -A lms.celery worker`` fans them out and posts them. Each delivery's
signature is verified with the ``standardwebhooks`` package (Standard Webhooks' own library, not the
plugin's signing code) and its payload checked against the platform's records. Then the hard
cases: a receiver down for a while, a receiver too slow, a worker killed (SIGKILL) mid-post, a
rotated secret, and private addresses refused when the webhook is made. The LMS may post to the
loopback over http only because these tests allow it (``WEBHOOK_SETTINGS``, in this process and in
the worker's).
"""

import base64
import importlib.util
import json
import re
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests
from common.djangoapps.course_modes.tests.factories import CourseModeFactory
from common.djangoapps.student.models import CourseEnrollment, Registration, UserPasswordToggleHistory, UserProfile
from django.contrib.auth import get_user_model
from opaque_keys.edx.keys import CourseKey
from openedx.core.djangoapps.content.course_overviews.tests.factories import CourseOverviewFactory
from organizations.api import add_organization_course
from organizations.serializers import serialize_organization
from rest_framework.authtoken.models import Token
from standardwebhooks import Webhook, WebhookVerificationError

from tahoe_registration_api.models import OutboxMessage, RegistrationJob, WebhookAttempt
from tahoe_registration_api.webhooks.events import EVENT_TYPES

from conftest import PASSWORD, learner_body
from worker import celery_worker, queued_to, wait_for

WEBHOOKS_URL = "/tahoe/api/v1/webhooks/"
REGISTRATIONS_URL = "/tahoe/api/v1/registrations/"
ENROLLMENTS_URL = "/tahoe/api/v1/enrollments/"
LEARNERS_URL = "/tahoe/api/v1/learners/"
JOBS_URL = "/tahoe/api/v1/registration-jobs/"
INTRO, DATA = "course-v1:alpha+Intro+2026", "course-v1:alpha+Data+2026"
JOB_PASSWORD = "J0b-strong-enough!"
WEBHOOK_ID = re.compile(r"^msg_[0-9a-f]{32}$")
ANOTHER_SECRET = "whsec_" + base64.b64encode(b"a secret that signs nothing here").decode("ascii")

TIMEOUT = 2  # seconds a receiver has to answer
# The plugin's webhook settings of these tests, in this (the web) process and in the workers.
WEBHOOK_SETTINGS = {
    "TAHOE_REGISTRATION_API_WEBHOOK_ALLOW_PRIVATE": True,  # the receiver is on the loopback
    "TAHOE_REGISTRATION_API_WEBHOOK_ALLOW_HTTP": True,  # and speaks http
    "TAHOE_REGISTRATION_API_WEBHOOK_RETRY_SCHEDULE": [1, 1, 2],  # four attempts within seconds
    "TAHOE_REGISTRATION_API_WEBHOOK_TIMEOUT": TIMEOUT,
}
WORKER_ENV = {"TAHOE_PLATFORM_WORKER_WEBHOOK_SETTINGS": json.dumps(WEBHOOK_SETTINGS)}
OUTBOX_SECONDS = 2  # the lease of a worker that is killed, and its next worker's
# A worker killed mid-post: a receiver that holds the request gives the test time to kill it.
KILLED_WORKER_ENV = {
    "TAHOE_PLATFORM_WORKER_WEBHOOK_SETTINGS": json.dumps({**WEBHOOK_SETTINGS,
                                                          "TAHOE_REGISTRATION_API_WEBHOOK_TIMEOUT": 20}),
    "TAHOE_PLATFORM_WORKER_OUTBOX_SECONDS": str(OUTBOX_SECONDS),
    "TAHOE_PLATFORM_WORKER_VISIBILITY_TIMEOUT": "3",
}


def _webhook_receiver():
    """The suites' webhook receiver (``tests/webhook_receiver.py``: the standard library only), loaded by path."""
    path = Path(__file__).resolve().parent.parent / "tests" / "webhook_receiver.py"
    spec = importlib.util.spec_from_file_location("webhook_receiver", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


WEBHOOK_RECEIVER = _webhook_receiver()
Answer, Receiver = WEBHOOK_RECEIVER.Answer, WEBHOOK_RECEIVER.Receiver


@pytest.fixture(name="web", autouse=True)
def fixture_web(settings):
    """This process is the LMS's web process, with the tests' webhook settings."""
    for name, value in WEBHOOK_SETTINGS.items():
        setattr(settings, name, value)
    return settings


@pytest.fixture(name="receiver")
def fixture_receiver():
    """A receiver on the loopback (answers 204 unless scripted)."""
    running = Receiver()
    yield running
    running.close()


@pytest.fixture(name="running_worker", scope="module")
def fixture_running_worker(django_db_setup, django_db_blocker):  # pylint: disable=unused-argument
    """A Celery worker of the LMS on a Redis broker, with the tests' webhook settings, for the module's tests."""
    with django_db_blocker.unblock():
        with celery_worker(extra_env=WORKER_ENV) as running:
            yield running


@pytest.fixture(name="worker")
def fixture_worker(running_worker):
    """That worker, with this process queuing tasks to its broker for the test."""
    with queued_to(running_worker.broker_url):
        yield running_worker


@pytest.fixture(name="lms_server", scope="session")
def fixture_lms_server(request, django_db_setup, django_db_blocker):  # pylint: disable=unused-argument
    """The LMS over HTTP (pytest-django's live server)."""
    with django_db_blocker.unblock():
        return request.getfixturevalue("live_server")


# Calls and what they print (``pytest -s``: the transcripts)


def call(caller, site, method, path, body=None):
    """Send a JSON call to ``site``; print it and its answer."""
    headers = caller.headers(site.domain, {})
    if body is None:
        response = getattr(caller.client, method.lower())(path, **headers)
    else:
        response = getattr(caller.client, method.lower())(path, json.dumps(body), content_type="application/json",
                                                          **headers)
    print(f"\n> {method} {path} (Host: {site.domain})" + (f"\n> {json.dumps(body)}" if body is not None else ""))
    answer = response.json() if response.content else None
    secret = answer.get("secret") if isinstance(answer, dict) else None  # a webhook's, shown once: not printed whole
    print(f"< {response.status_code} {hidden(json.dumps(answer), [secret] if secret else []) if answer else ''}")
    return response


def hidden(text, secrets):
    """``text`` with each of ``secrets`` shown as its first characters only."""
    for secret in secrets:
        text = text.replace(secret, secret[:10] + "...")
    return text


def subscribe(caller, site, receiver, events=EVENT_TYPES):
    """Make a webhook of ``site`` to the receiver; return its body (with its secret)."""
    response = call(caller, site, "POST", WEBHOOKS_URL, {"url": receiver.url, "events": list(events)})
    assert response.status_code == 201, response.content
    return response.json()


def deliveries_of(caller, site, webhook):
    """GET the webhook's delivery attempts (printed: its retry history); return them, newest first."""
    response = call(caller, site, "GET", f"{WEBHOOKS_URL}{webhook['id']}/deliveries/")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def show_delivery(delivery):
    """Print one delivery as the receiver got it."""
    print(f"\n[receiver] POST {delivery.path}")
    for name, value in sorted(delivery.headers.items()):
        print(f"[receiver] {name}: {value}")
    print(f"[receiver] {delivery.body.decode('utf-8')}")


def verified(delivery, secret, show=False):
    """Return the delivery's payload as ``standardwebhooks`` verifies it with ``secret`` (raises if it does not)."""
    payload = Webhook(secret).verify(delivery.body, delivery.headers)
    if show:
        print(f"\n[standardwebhooks] Webhook({secret[:10]}...).verify(body, headers) -> {json.dumps(payload)}")
    return payload


def refused(delivery, secret):
    """Whether ``standardwebhooks`` refuses the delivery's signature with ``secret``; print its answer."""
    try:
        Webhook(secret).verify(delivery.body, delivery.headers)
    except WebhookVerificationError as exc:
        print(f"[standardwebhooks] Webhook({secret[:10]}... another secret).verify(body, headers) -> "
              f"WebhookVerificationError({str(exc)!r})")
        return True
    return False


def settled(expected=None):
    """Whether nothing is in flight in the outbox (every event fanned out, every delivery done)."""
    in_flight = OutboxMessage.objects.filter(state__in=(OutboxMessage.PENDING, OutboxMessage.LEASED)).exists()
    webhooks = OutboxMessage.objects.filter(kind="webhook").count()
    return not in_flight and (expected is None or webhooks >= expected)


def wait_until_settled(expected, what, timeout=60):
    """Wait until ``expected`` deliveries were owed and none is in flight: no delivery can come after this."""
    wait_for(lambda: settled(expected), timeout, what)


def course(site, number, name):
    """Create an audit course of ``site`` (its overview, its mode, its organization's link); return its key."""
    overview = CourseOverviewFactory(org=site.short_name, display_number_with_default=number, run="2026",
                                     display_name=name)
    CourseModeFactory(course=overview, mode_slug="audit", mode_display_name="Audit", min_price=0)
    add_organization_course(serialize_organization(site.organization), overview.id)
    return str(overview.id)


def register(caller, site, body):
    """Register a learner through the API; return the answer's body."""
    response = call(caller, site, "POST", REGISTRATIONS_URL, body)
    assert response.status_code == 200, response.content
    return response.json()


def iso(moment):
    """A time as the payloads show it."""
    return moment.isoformat().replace("+00:00", "Z")


# The refused addresses: no worker needed


@pytest.mark.parametrize("url", [
    "https://127.0.0.1/x", "https://169.254.169.254/latest", "https://10.1.2.3/hooks", "https://[::1]/x",
    "https://localhost/x", "https://100.64.0.1/x",
])
def test_a_private_address_is_refused_when_the_webhook_is_made(alpha, alpha_admin, web, url):
    web.TAHOE_REGISTRATION_API_WEBHOOK_ALLOW_PRIVATE = False
    response = call(alpha_admin, alpha, "POST", WEBHOOKS_URL, {"url": url, "events": ["learner.registered"]})
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error_code"] == "validation-error" and list(body["field_errors"]) == ["url"], body
    assert "private" in json.dumps(body["field_errors"]["url"])
    listed = call(alpha_admin, alpha, "GET", WEBHOOKS_URL).json()
    assert listed["count"] == 0  # nothing made


# A worker killed mid-post (its own workers and broker: it runs before the module's worker starts)


def test_a_delivery_whose_worker_is_killed_mid_post_is_delivered_by_the_next_worker_with_its_webhook_id(
    alpha, alpha_admin, receiver
):
    webhook = subscribe(alpha_admin, alpha, receiver, ["learner.registered"])
    receiver.answers = [Answer(204, delay=30)]  # holds the first request: its worker is killed meanwhile
    with celery_worker(extra_env=KILLED_WORKER_ENV) as first, queued_to(first.broker_url):
        ada = register(alpha_admin, alpha, learner_body(username="ada", email="ada@example.com", name="Ada"))
        [held] = receiver.wait_for(1, timeout=60)
        first.kill()  # SIGKILL while the receiver holds its request
        message = OutboxMessage.objects.get(kind="webhook")
        assert (message.state, message.attempts) == (OutboxMessage.LEASED, 1)
        assert not WebhookAttempt.objects.exists()  # the attempt died with its worker
        assert verified(held, webhook["secret"])["data"]["user_id"] == ada["user_id"]

        with celery_worker(extra_env=KILLED_WORKER_ENV, broker_url=first.broker_url,
                           mail_dir=first.mail_dir) as second:
            # Nothing else happens: what the dead worker held comes back from the broker (its visibility timeout),
            # and the delivery is claimed again once its lease ran out.
            first_sent, again = receiver.wait_for(2, timeout=60)
            wait_until_settled(1, "the delivery to be marked sent")
            assert first_sent is held and len(receiver.deliveries) == 2
            assert again.at - held.at >= OUTBOX_SECONDS - 0.5  # not before the lease ran out
            assert again.headers["webhook-id"] == held.headers["webhook-id"]
            assert again.body == held.body
            show_delivery(again)
            assert verified(again, webhook["secret"], show=True) == json.loads(held.body)
            message.refresh_from_db()
            assert (message.state, message.attempts) == (OutboxMessage.SENT, 2)
            assert re.search(r"Task tahoe_registration_api\.deliver_outbox_message\[\S+\] succeeded", second.log_text())
    [attempt] = deliveries_of(alpha_admin, alpha, webhook)
    assert (attempt["webhook_id"], attempt["attempt"], attempt["succeeded"], attempt["status_code"]) == (
        held.headers["webhook-id"], 2, True, 204)


# With the module's worker


class Heard:
    """What the receiver heard, step by step: each step's deliveries, verified, by event type."""

    def __init__(self, receiver, secret):
        self.receiver, self.secret, self.taken = receiver, secret, 0

    def next(self, *event_types):
        """Wait for the next deliveries, one of each of ``event_types`` (in any order); return their data by type."""
        count = len(event_types)
        deliveries = self.receiver.wait_for(self.taken + count, timeout=60)[self.taken:self.taken + count]
        self.taken += count
        payloads = [verified(delivery, self.secret) for delivery in deliveries]  # each one's signature
        assert sorted(payload["type"] for payload in payloads) == sorted(event_types), payloads
        return {payload["type"]: payload["data"] for payload in payloads}


def test_every_event_is_delivered_once_signed_and_true_to_the_platforms_records(
    alpha, alpha_admin, receiver, worker
):  # pylint: disable=too-many-locals,too-many-statements
    assert (course(alpha, "Intro", "Introduction to Alpha"), course(alpha, "Data", "Alpha Data Literacy")) == (
        INTRO, DATA)
    webhook = subscribe(alpha_admin, alpha, receiver)
    assert webhook["events"] == list(EVENT_TYPES)
    heard, site = Heard(receiver, webhook["secret"]), {"id": alpha.site.pk, "domain": alpha.domain}
    started = datetime.now(timezone.utc)

    def learner_of(user):
        """What every learner event tells of its learner: the platform's record, now."""
        user.refresh_from_db()
        return {"site": site, "user_id": user.pk, "username": user.username, "email": user.email}

    def enrollment_of(user, key):
        """What an enrollment event tells: the platform's enrollment record, now."""
        record = CourseEnrollment.objects.get(user=user, course_id=CourseKey.from_string(key))
        return {**learner_of(user), "course_id": key, "mode": record.mode}, record.is_active

    def name_of(user):
        return UserProfile.objects.get(user=user).name

    # learner.registered and enrollment.created: one registration through the API, with a course.
    ada_id = register(alpha_admin, alpha, learner_body(username="ada", email="ada@example.com", name="Ada Byron",
                                                       password=PASSWORD, courses=[INTRO]))["user_id"]
    ada = get_user_model().objects.get(pk=ada_id)
    data = heard.next("learner.registered", "enrollment.created")
    assert data["learner.registered"] == {**learner_of(ada), "name": name_of(ada), "is_active": ada.is_active,
                                          "courses": [INTRO]}
    assert (name_of(ada), ada.is_active) == ("Ada Byron", False)  # to activate by email: a password was given
    assert (data["enrollment.created"], True) == enrollment_of(ada, INTRO)

    # enrollment.created, then enrollment.deactivated: the enrollments API.
    enrolled = call(alpha_admin, alpha, "POST", ENROLLMENTS_URL,
                    {"action": "enroll", "courses": [DATA], "identifiers": ["ada"]})
    assert enrolled.status_code == 200, enrolled.content
    assert (heard.next("enrollment.created")["enrollment.created"], True) == enrollment_of(ada, DATA)
    unenrolled = call(alpha_admin, alpha, "POST", ENROLLMENTS_URL,
                      {"action": "unenroll", "courses": [INTRO], "identifiers": [ada_id]})
    assert unenrolled.status_code == 200, unenrolled.content
    assert (heard.next("enrollment.deactivated")["enrollment.deactivated"], False) == enrollment_of(ada, INTRO)

    # learner.updated, learner.disabled, learner.enabled: the learners API.
    changed = call(alpha_admin, alpha, "PATCH", f"{LEARNERS_URL}{ada_id}/",
                   {"name": "Ada Lovelace", "email": "ada.lovelace@example.com"})
    assert changed.status_code == 200, changed.content
    assert heard.next("learner.updated")["learner.updated"] == {**learner_of(ada), "name": name_of(ada),
                                                                "changed": ["email", "name"]}
    assert (name_of(ada), ada.email) == ("Ada Lovelace", "ada.lovelace@example.com")
    for disabled, event_type in ((True, "learner.disabled"), (False, "learner.enabled")):
        switched = call(alpha_admin, alpha, "PATCH", f"{LEARNERS_URL}{ada_id}/", {"disabled": disabled})
        assert switched.status_code == 200 and switched.json()["disabled"] is disabled, switched.content
        assert heard.next(event_type)[event_type] == learner_of(ada)
        assert UserPasswordToggleHistory.objects.filter(user=ada).latest("pk").disabled is disabled

    # registration_job.completed (and the job's learner.registered): a registration job, run by the worker.
    text = f"username,email,name,password\nbo,bo@example.com,Bo Peep,{JOB_PASSWORD}\n"
    job = alpha_admin.client.post(JOBS_URL, text, content_type="text/csv", **alpha_admin.headers(alpha.domain, {}))
    print(f"\n> POST {JOBS_URL} (Host: {alpha.domain}, text/csv)\n> {text.strip()}\n< {job.status_code} "
          f"{json.dumps(job.json())}")
    assert job.status_code == 202, job.content
    data = heard.next("learner.registered", "registration_job.completed")
    bo = get_user_model().objects.get(username="bo")
    assert data["learner.registered"] == {**learner_of(bo), "name": name_of(bo), "is_active": bo.is_active,
                                          "courses": []}
    assert name_of(bo) == "Bo Peep"
    finished = RegistrationJob.objects.get(pk=job.json()["job_id"])
    status = call(alpha_admin, alpha, "GET", f"{JOBS_URL}{finished.pk}/").json()  # as the job's API tells it
    assert data["registration_job.completed"] == {
        "site": site, "job_id": str(finished.pk), "status": finished.status, "total": finished.total,
        "processed": finished.processed, "created": finished.created_count, "failed": status["failed"],
        "finished_at": iso(finished.finished_at)}
    assert (status["status"], status["total"], status["processed"], status["created"], status["failed"]) == (
        "done", 1, 1, 1, 0)
    assert (finished.status, finished.total, finished.processed, finished.created_count) == ("done", 1, 1, 1)

    # Each event once: nothing is in flight, so nothing more comes.
    wait_until_settled(9, "every delivery to be marked sent")
    deliveries = list(receiver.deliveries)
    assert len(deliveries) == heard.taken == 9
    ids = [delivery.headers["webhook-id"] for delivery in deliveries]
    assert all(WEBHOOK_ID.match(webhook_id) for webhook_id in ids) and len(set(ids)) == len(ids)
    assert WebhookAttempt.objects.filter(succeeded=True).count() == len(deliveries)
    assert not WebhookAttempt.objects.filter(succeeded=False).exists()
    assert sorted(attempt["webhook_id"] for attempt in deliveries_of(alpha_admin, alpha, webhook)) == sorted(ids)

    # Every delivery: Standard Webhooks' envelope and headers; no password, token, secret or activation key.
    never = [PASSWORD, JOB_PASSWORD, webhook["secret"], webhook["secret"][len("whsec_"):],
             Token.objects.get(user=alpha_admin.user).key,
             *Registration.objects.filter(user__in=[ada, bo]).values_list("activation_key", flat=True)]
    assert len(never) == 7
    for delivery in deliveries:
        payload = json.loads(delivery.body)
        assert set(payload) == {"type", "timestamp", "data"} and payload["data"]["site"] == site
        assert started <= datetime.fromisoformat(payload["timestamp"].replace("Z", "+00:00")) <= datetime.now(
            timezone.utc)
        assert abs(int(delivery.headers["webhook-timestamp"]) - time.time()) < 60
        assert delivery.headers["content-type"] == "application/json" and delivery.path == "/hooks"
        assert [secret for secret in never if secret in delivery.body.decode("utf-8")] == []

    registered = deliveries[0] if json.loads(deliveries[0].body)["type"] == "learner.registered" else deliveries[1]
    show_delivery(registered)
    verified(registered, webhook["secret"], show=True)
    assert refused(registered, ANOTHER_SECRET)
    tampered = type(registered)(registered.path, registered.headers, registered.body.replace(b"Ada", b"Eve"), 0)
    with pytest.raises(WebhookVerificationError):
        verified(tampered, webhook["secret"])


def test_a_receiver_down_for_a_while_gets_the_delivery_once_with_the_same_webhook_id(
    alpha, alpha_admin, receiver, worker
):
    webhook = subscribe(alpha_admin, alpha, receiver, ["learner.registered"])
    receiver.answers = [Answer(503, b"down for maintenance"), Answer(503, b"down for maintenance")]  # then 204
    ada = register(alpha_admin, alpha, learner_body(username="ada", email="ada@example.com", name="Ada"))
    wait_until_settled(1, "the delivery to be retried until it is delivered")
    attempts = list(receiver.deliveries)
    assert len(attempts) == 3  # two 503s, then the one 2xx: nothing in flight, nothing more comes
    assert len({delivery.headers["webhook-id"] for delivery in attempts}) == 1
    assert len({delivery.body for delivery in attempts}) == 1  # the same bytes each time
    payloads = [verified(delivery, webhook["secret"]) for delivery in attempts]  # each attempt signed afresh
    assert {(p["type"], p["data"]["user_id"]) for p in payloads} == {("learner.registered", ada["user_id"])}
    assert attempts[1].at - attempts[0].at >= 0.9 and attempts[2].at - attempts[1].at >= 0.9  # the schedule: 1 s, 1 s
    history = deliveries_of(alpha_admin, alpha, webhook)
    assert [(a["attempt"], a["succeeded"], a["status_code"], a["error"], a["response"]) for a in history] == [
        (3, True, 204, None, ""),
        (2, False, 503, None, "down for maintenance"),
        (1, False, 503, None, "down for maintenance"),
    ]
    assert {a["webhook_id"] for a in history} == {attempts[0].headers["webhook-id"]}
    assert history[0]["next_attempt"] is None and all(a["next_attempt"] for a in history[1:])
    for failed in history[1:]:
        waited = (datetime.fromisoformat(failed["next_attempt"].replace("Z", "+00:00"))
                  - datetime.fromisoformat(failed["at"].replace("Z", "+00:00"))).total_seconds()
        assert waited == pytest.approx(1, abs=0.01)
    endpoint = call(alpha_admin, alpha, "GET", f"{WEBHOOKS_URL}{webhook['id']}/").json()
    assert (endpoint["enabled"], endpoint["failing_since"]) == (True, None)  # a success forgets the failures


def test_a_slow_receiver_times_out_and_is_retried_and_the_registration_does_not_wait_for_it(
    alpha, alpha_admin, receiver, worker, lms_server
):  # pylint: disable=too-many-locals
    slow = 4 * TIMEOUT  # the receiver's delay: longer than the timeout
    token = Token.objects.get_or_create(user=alpha_admin.user)[0].key
    http = requests.Session()
    http.trust_env = False  # straight to the live server, no proxy
    http.headers.update({"Host": alpha.domain, "Authorization": f"Token {token}"})
    made = http.post(f"{lms_server.url}{WEBHOOKS_URL}", json={"url": receiver.url, "events": ["learner.registered"]})
    assert made.status_code == 201, made.content
    webhook = made.json()
    receiver.answers = [Answer(204, delay=slow)]  # then 204 at once
    body = learner_body(username="ada", email="ada@example.com", name="Ada")
    began = time.monotonic()
    answer = http.post(f"{lms_server.url}{REGISTRATIONS_URL}", json=body)
    took, answered_at = time.monotonic() - began, time.time()
    print(f"\n> POST {lms_server.url}{REGISTRATIONS_URL} (Host: {alpha.domain})\n> {json.dumps(body)}\n"
          f"< {answer.status_code} {answer.text}\n[timing] the registration answered in {took:.3f} s; "
          f"the receiver takes {slow} s to answer, the worker waits {TIMEOUT} s")
    assert answer.status_code == 200, answer.content
    assert took < slow / 4, took  # well below the receiver's delay: the worker posts, the caller does not wait
    wait_until_settled(1, "the slow delivery to time out and be retried")
    first, second = receiver.deliveries
    assert answered_at < first.at + slow  # the registration was answered before the receiver answered
    assert first.headers["webhook-id"] == second.headers["webhook-id"] and first.body == second.body
    assert verified(second, webhook["secret"])["data"]["user_id"] == answer.json()["user_id"]
    history = deliveries_of(alpha_admin, alpha, webhook)
    assert [(a["attempt"], a["succeeded"], a["status_code"], a["error"]) for a in history] == [
        (2, True, 204, None), (1, False, None, "timeout")]
    assert TIMEOUT * 1000 <= history[1]["duration_ms"] < slow * 1000  # given up after the timeout, not the delay


def test_after_a_rotation_a_delivery_is_signed_with_both_secrets(alpha, alpha_admin, receiver, worker):
    webhook = subscribe(alpha_admin, alpha, receiver, ["learner.registered"])
    old = webhook["secret"]
    register(alpha_admin, alpha, learner_body(username="ada", email="ada@example.com", name="Ada"))
    [before] = receiver.wait_for(1, timeout=60)
    assert len(before.headers["webhook-signature"].split()) == 1
    rotated = call(alpha_admin, alpha, "POST", f"{WEBHOOKS_URL}{webhook['id']}/rotate/")
    assert rotated.status_code == 200, rotated.content
    new = rotated.json()["secret"]
    assert new != old and new.startswith("whsec_") and rotated.json()["previous_secret_expires"]
    bo = register(alpha_admin, alpha, learner_body(username="bo", email="bo@example.com", name="Bo"))
    wait_until_settled(2, "the delivery after the rotation")
    before_again, after = receiver.deliveries
    assert before_again is before
    signatures = after.headers["webhook-signature"].split()
    assert len(signatures) == 2 and all(signature.startswith("v1,") for signature in signatures)
    show_delivery(after)
    assert verified(after, old, show=True)["data"]["user_id"] == bo["user_id"]
    assert verified(after, new, show=True)["data"]["user_id"] == bo["user_id"]
    assert refused(after, ANOTHER_SECRET)
    with pytest.raises(WebhookVerificationError):  # the delivery before the rotation: the old secret only
        verified(before, new)
    assert verified(before, old)["type"] == "learner.registered"
