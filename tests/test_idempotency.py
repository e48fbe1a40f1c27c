"""``Idempotency-Key``: a retried registration gets its first answer, never a second learner."""

import hashlib
import json
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import OperationalError
from django.utils import timezone

from devlms import fake_platform
from tahoe_registration_api import api
from tahoe_registration_api.models import IdempotencyRecord
from tahoe_registration_api.rest_api import idempotency
from tests.conftest import REGISTRATIONS_URL, REGISTRATIONS_V2_URL, learner_body

KEY = "order-4711-learner-1"


def post(caller, site, body, key=KEY, url=REGISTRATIONS_URL):
    """Register with an Idempotency-Key."""
    return caller.register(site, body, url=url, HTTP_IDEMPOTENCY_KEY=key)


def learners():
    """How many users named auserton exist."""
    return get_user_model().objects.filter(username="auserton").count()


def stored_fingerprint(send):
    """Call ``send`` (one request with a new key); return the fingerprint of the one record it left."""
    before = set(IdempotencyRecord.objects.values_list("pk", flat=True))
    send()
    return IdempotencyRecord.objects.exclude(pk__in=before).get().fingerprint


def sha256_of_the_request(url, body):
    """What releases before the keyed fingerprint stored: SHA-256 of the path and body as sorted JSON."""
    return hashlib.sha256(json.dumps([url.rstrip("/"), body], sort_keys=True).encode("utf-8")).hexdigest()


def test_the_same_key_and_body_replays_the_first_answer(alpha, alpha_admin):
    first = post(alpha_admin, alpha, learner_body())
    again = post(alpha_admin, alpha, dict(reversed(list(learner_body().items()))))  # same, once parsed
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert learners() == 1
    assert len(mail.outbox) == 1 and fake_platform.ANNOUNCED == [first.json()["user_id"]]


@pytest.mark.parametrize("body", [learner_body(email="not-an-email"), learner_body()])
def test_a_400_or_409_is_kept_and_replayed(alpha, alpha_admin, body):
    if body == learner_body():
        alpha_admin.register(alpha, body)  # taken without a key: the keyed call is a 409
    first = post(alpha_admin, alpha, body)
    assert first.status_code in (400, 409)
    again = post(alpha_admin, alpha, body)
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert again["Idempotent-Replayed"] == "true"


def test_the_same_key_with_another_body_is_a_422_naming_nothing_else(alpha, alpha_admin):
    post(alpha_admin, alpha, learner_body())
    other = post(alpha_admin, alpha, learner_body(username="someone", email="someone@example.com"))
    assert other.status_code == 422
    assert other.json()["error_code"] == "idempotency-key-reused"
    assert other.json()["field_errors"] == {}
    assert "auserton" not in other.content.decode()
    assert not get_user_model().objects.filter(username="someone").exists()


def test_a_key_still_in_flight_is_a_409_with_retry_after(alpha, alpha_admin, monkeypatch):
    def register_while_another_request_runs(*args, **kwargs):
        inner = post(alpha_admin, alpha, learner_body())
        answers.append(inner)
        return real(*args, **kwargs)

    answers, real = [], api.register_user
    monkeypatch.setattr(api, "register_user", register_while_another_request_runs)
    first = post(alpha_admin, alpha, learner_body())
    assert first.status_code == 200
    assert answers[0].status_code == 409
    assert answers[0].json()["error_code"] == "idempotency-key-in-flight"
    assert answers[0]["Retry-After"] == "1"


def test_keys_belong_to_a_caller_and_a_site(alpha, beta, alpha_admin, beta_admin):
    assert post(alpha_admin, alpha, learner_body()).status_code == 200
    other_site = post(beta_admin, beta, learner_body(username="bee", email="bee@example.com"))
    assert other_site.status_code == 200 and "Idempotent-Replayed" not in other_site


def test_an_answer_that_is_not_kept_lets_a_retry_run_anew(alpha, alpha_admin, alpha_learner, monkeypatch):
    assert post(alpha_learner, alpha, learner_body()).status_code == 403
    calls = []

    def unavailable(*args, **kwargs):
        calls.append(1)
        raise OperationalError(2006, "MySQL server has gone away")

    with monkeypatch.context() as patch:
        patch.setattr(api, "_create_account", unavailable)
        assert post(alpha_admin, alpha, learner_body()).status_code == 503
    assert IdempotencyRecord.objects.count() == 0
    retry = post(alpha_admin, alpha, learner_body())
    assert retry.status_code == 200 and "Idempotent-Replayed" not in retry
    assert learners() == 1


def test_v2_keys_work_and_differ_from_v1(alpha, alpha_admin):
    first = post(alpha_admin, alpha, learner_body(), url=REGISTRATIONS_V2_URL)
    again = post(alpha_admin, alpha, learner_body(), url=REGISTRATIONS_V2_URL)
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert post(alpha_admin, alpha, learner_body()).status_code == 422  # same key on v1: another request


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9", "tab\there"])
def test_a_malformed_key_is_a_400_naming_it(alpha, alpha_admin, key):
    response = post(alpha_admin, alpha, learner_body(), key=key)
    assert response.status_code == 400
    assert list(response.json()["field_errors"]) == ["Idempotency-Key"]
    assert learners() == 0


def test_expired_keys_are_purged_and_may_be_used_again(alpha, alpha_admin, settings, monkeypatch):
    settings.TAHOE_REGISTRATION_API_IDEMPOTENCY_TTL = 60
    post(alpha_admin, alpha, learner_body())
    post(alpha_admin, alpha, learner_body(username="two", email="two@example.com"), key="another")
    IdempotencyRecord.objects.update(created=timezone.now() - timedelta(seconds=61))
    monkeypatch.setattr(idempotency.RETENTION, "next_at", 0.0)
    third = post(alpha_admin, alpha, learner_body(username="three", email="three@example.com"), key="third")
    assert third.status_code == 200
    assert IdempotencyRecord.objects.count() == 1  # the two expired ones went
    reused = post(alpha_admin, alpha, learner_body(username="four", email="four@example.com"))
    assert reused.status_code == 200 and "Idempotent-Replayed" not in reused


def test_a_dry_run_stores_no_answer(alpha, alpha_admin):
    dry = post(alpha_admin, alpha, learner_body(), url=REGISTRATIONS_URL + "?dry_run=true")
    assert dry.json() == {"dry_run": True}
    assert IdempotencyRecord.objects.count() == 0


def test_the_record_holds_neither_the_key_nor_the_body(alpha, alpha_admin):
    post(alpha_admin, alpha, learner_body(password="Str0ng-enough-pw"))
    record = IdempotencyRecord.objects.get()
    stored = f"{record.key} {record.fingerprint} {record.body}"
    assert KEY not in stored and "Str0ng-enough-pw" not in stored and "alex.userton" not in stored


def test_a_key_left_in_flight_by_a_request_that_died_is_taken_over_after_five_minutes(
        alpha, alpha_admin, monkeypatch):
    def killed(*args, **kwargs):
        raise SystemExit(1)  # what a gunicorn worker raises when it is killed for its timeout

    with monkeypatch.context() as patch:
        patch.setattr(api, "register_user", killed)
        with pytest.raises(SystemExit):
            post(alpha_admin, alpha, learner_body())
    assert post(alpha_admin, alpha, learner_body()).status_code == 409  # as if still running
    IdempotencyRecord.objects.update(created=timezone.now() - timedelta(minutes=6))
    retry = post(alpha_admin, alpha, learner_body())
    assert retry.status_code == 200 and "Idempotent-Replayed" not in retry
    assert learners() == 1


def test_the_fingerprint_is_keyed_by_the_secret_key_not_a_hash_of_the_body(alpha, alpha_admin, settings):
    body = learner_body(password="Str0ng-enough-pw")
    first = stored_fingerprint(lambda: post(alpha_admin, alpha, body, key="first"))
    same_request = stored_fingerprint(lambda: post(alpha_admin, alpha, body, key="second"))  # a 409, kept
    settings.SECRET_KEY = "another-lms-secret-key"
    other_secret = stored_fingerprint(lambda: post(alpha_admin, alpha, body, key="third"))
    assert first == same_request != other_secret  # a function of the request and of SECRET_KEY
    assert re.fullmatch("[0-9a-f]{64}", first)  # fits the column
    assert first != sha256_of_the_request(REGISTRATIONS_URL, body)
    assert first != hashlib.sha256(json.dumps(body).encode("utf-8")).hexdigest()


def test_a_record_of_an_earlier_release_still_replays_and_refuses_another_body(alpha, alpha_admin):
    first = post(alpha_admin, alpha, learner_body())
    keyed = IdempotencyRecord.objects.get().fingerprint
    # The row as a release before the keyed fingerprint left it, a day before the upgrade.
    IdempotencyRecord.objects.update(fingerprint=sha256_of_the_request(REGISTRATIONS_URL, learner_body()))
    other = post(alpha_admin, alpha, learner_body(username="someone", email="someone@example.com"))
    assert (other.status_code, other.json()["error_code"]) == (422, "idempotency-key-reused")
    again = post(alpha_admin, alpha, learner_body())
    assert (again.status_code, again.json()) == (200, first.json()) and again["Idempotent-Replayed"] == "true"
    assert learners() == 1 and len(mail.outbox) == 1
    assert IdempotencyRecord.objects.get().fingerprint == keyed  # rewritten in the keyed form


def test_a_record_of_a_rotated_secret_key_in_the_fallbacks_still_works(alpha, alpha_admin, settings):
    settings.SECRET_KEY = "the-lms-secret-key-before-rotation"
    first = post(alpha_admin, alpha, learner_body())
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "the-new-lms-secret-key", [settings.SECRET_KEY]
    other = post(alpha_admin, alpha, learner_body(username="someone", email="someone@example.com"))
    assert other.status_code == 422
    again = post(alpha_admin, alpha, learner_body())
    assert (again.status_code, again.json()) == (200, first.json()) and again["Idempotent-Replayed"] == "true"
    settings.SECRET_KEY_FALLBACKS = []  # the record was rewritten under the new key: the old one may go
    assert post(alpha_admin, alpha, learner_body())["Idempotent-Replayed"] == "true"
    assert learners() == 1


def test_after_a_secret_key_change_without_fallback_a_retry_is_refused_never_run_twice(alpha, alpha_admin, settings):
    post(alpha_admin, alpha, learner_body())
    settings.SECRET_KEY = "a-new-lms-secret-key-the-old-one-forgotten"
    retry = post(alpha_admin, alpha, learner_body())
    assert (retry.status_code, retry.json()["error_code"]) == (422, "idempotency-key-reused")
    assert learners() == 1
