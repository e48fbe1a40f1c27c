"""Inside the LMS: a registration retried with its ``Idempotency-Key`` gets its first answer, and nothing twice."""

import hashlib
import json
import re

from django.contrib.auth import get_user_model
from django.core import mail

from tahoe_registration_api.models import IdempotencyRecord

from conftest import PASSWORD, REGISTRATIONS_URL, learner_body

KEY = "hr-import-2026-12-02-row-1"


def test_a_retry_with_the_key_replays_the_answer_and_sends_nothing_again(alpha, alpha_admin):
    first = alpha_admin.register(alpha, learner_body(), HTTP_IDEMPOTENCY_KEY=KEY)
    again = alpha_admin.register(alpha, learner_body(), HTTP_IDEMPOTENCY_KEY=KEY)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert get_user_model().objects.filter(username="auserton").count() == 1
    assert len(mail.outbox) == 1


def test_a_409_is_replayed_and_another_body_is_a_422(alpha, alpha_admin):
    alpha_admin.register(alpha, learner_body())
    conflict = alpha_admin.register(alpha, learner_body(), HTTP_IDEMPOTENCY_KEY=KEY)
    replay = alpha_admin.register(alpha, learner_body(), HTTP_IDEMPOTENCY_KEY=KEY)
    assert (conflict.status_code, replay.status_code) == (409, 409)
    assert replay.json() == conflict.json() and replay["Idempotent-Replayed"] == "true"
    reused = alpha_admin.register(alpha, learner_body(username="other", email="other@example.com"),
                                  HTTP_IDEMPOTENCY_KEY=KEY)
    assert (reused.status_code, reused.json()["error_code"]) == (422, "idempotency-key-reused")


def test_the_plugins_migration_made_the_record_table(alpha, alpha_admin):
    alpha_admin.register(alpha, learner_body(), HTTP_IDEMPOTENCY_KEY=KEY)
    assert IdempotencyRecord.objects.filter(status=200).count() == 1


def test_what_is_kept_of_the_request_is_keyed_by_the_lms_secret_not_a_hash_of_the_body(alpha, alpha_admin, settings):
    body = learner_body(password=PASSWORD, send_activation_email=False)
    assert alpha_admin.register(alpha, body, HTTP_IDEMPOTENCY_KEY=KEY).status_code == 200
    kept = IdempotencyRecord.objects.get().fingerprint
    # What releases before the keyed fingerprint stored: SHA-256 of the path and body as sorted JSON.
    sha256 = hashlib.sha256(json.dumps([REGISTRATIONS_URL.rstrip("/"), body], sort_keys=True).encode()).hexdigest()
    assert re.fullmatch("[0-9a-f]{64}", kept) and kept != sha256
    assert kept != hashlib.sha256(json.dumps(body).encode()).hexdigest()
    settings.SECRET_KEY = f"{settings.SECRET_KEY}-rotated"
    assert alpha_admin.register(alpha, body, HTTP_IDEMPOTENCY_KEY="another").status_code == 409  # kept too
    assert IdempotencyRecord.objects.exclude(fingerprint=kept).count() == 1  # the same request, another key
