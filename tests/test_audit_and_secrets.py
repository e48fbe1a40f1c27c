"""The audit trail (one record per attempt) and no secret in any log record, response or exception."""

import json
import logging

import pytest
from django.core.cache import cache

from devlms import fake_platform
from tahoe_registration_api import api
from tests.conftest import Caller, learner_body

PASSWORD = "Sup3r-Secret-Passw0rd!"


def audit_records(caplog):
    return [record.audit for record in caplog.records if record.name == "tahoe_registration_api.audit"]


def test_one_audit_record_per_attempt_with_its_outcome(alpha, alpha_admin, caplog):
    with caplog.at_level(logging.INFO, logger="tahoe_registration_api"):
        ok = alpha_admin.register(alpha, learner_body(), HTTP_X_REQUEST_ID="req-123")
        conflict = alpha_admin.register(alpha, learner_body())
    first, second = audit_records(caplog)
    assert first == {
        "event": "registration_attempt", "action": "register", "request_id": "req-123",
        "caller_id": alpha_admin.user.pk,
        "site": "alpha.localhost", "method": "POST", "status": 200, "outcome": "registered",
        "error_code": None, "learner_id": ok.json()["user_id"], "error_fields": [],
    }
    assert ok["X-Request-ID"] == "req-123"
    assert second["status"] == 409 and second["error_code"] == "duplicate-email-username"
    assert second["learner_id"] is None and second["error_fields"] == ["email", "username"]
    assert second["request_id"] == conflict["X-Request-ID"] != "req-123"


def test_a_hostile_request_id_is_replaced(alpha, alpha_admin, caplog):
    with caplog.at_level(logging.INFO, logger="tahoe_registration_api"):
        response = alpha_admin.register(alpha, learner_body(), HTTP_X_REQUEST_ID="x\nforged log line")
    assert "\n" not in response["X-Request-ID"]
    assert audit_records(caplog)[0]["request_id"] == response["X-Request-ID"]


def test_anonymous_attempts_are_audited_too(alpha, anonymous, caplog):
    with caplog.at_level(logging.INFO, logger="tahoe_registration_api"):
        anonymous.register(alpha, learner_body())
    (record,) = audit_records(caplog)
    assert record["caller_id"] is None and record["status"] == 401


def error_paths(alpha, beta, admin, settings, monkeypatch):
    """Yield one response per error path, each request carrying the password and the admin's token."""
    body = learner_body(password=PASSWORD)
    yield admin.register(alpha, body)                                   # 200
    yield admin.register(alpha, body)                                   # 409
    yield admin.register(alpha, {**body, "email": "bad"})               # 400
    yield admin.register(alpha, {**body, "password": PASSWORD[:5]})     # 400 password policy
    yield admin.register(beta, {**body, "username": "bb1", "email": "b@example.com"})  # 403 other site
    bad = Caller(token=admin.token[::-1])
    yield bad.register(alpha, body)                                     # 401 unknown token
    settings.TAHOE_REGISTRATION_API_MAX_BODY_BYTES = 100
    yield admin.register(alpha, {**body, "padding": "x" * 200})         # 413
    settings.TAHOE_REGISTRATION_API_MAX_BODY_BYTES = 16384
    monkeypatch.setattr(fake_platform, "create_account", _raise_with_secret)
    yield admin.register(alpha, {**body, "username": "cc1", "email": "c@example.com"})  # 500
    monkeypatch.undo()
    monkeypatch.setattr(api, "add_membership", _lose_connection_with_secret)
    yield admin.register(alpha, {**body, "username": "dd1", "email": "d@example.com"})  # 503
    monkeypatch.undo()
    monkeypatch.setattr(fake_platform.mail, "send_mail", _raise_with_secret)
    yield admin.register(alpha, {**body, "username": "ee1", "email": "e@example.com"})  # 200, email failed
    monkeypatch.undo()
    settings.TAHOE_REGISTRATION_API_RATE = "1/m"
    cache.clear()
    admin.register(alpha, {**body, "username": "ff1", "email": "f@example.com"})
    yield admin.register(alpha, {**body, "username": "gg1", "email": "g@example.com"})  # 429


def _raise_with_secret(*args, **kwargs):
    raise RuntimeError(f"failure while handling {args!r} {kwargs!r}")


def _lose_connection_with_secret(*args, **kwargs):
    from django.db import OperationalError

    raise OperationalError(2013, f"Lost connection {args!r}")


def test_no_secret_reaches_any_log_record_response_or_exception(
    alpha, beta, alpha_admin, settings, monkeypatch, caplog
):
    secrets = [PASSWORD, alpha_admin.token]
    with caplog.at_level(logging.DEBUG):
        responses = list(error_paths(alpha, beta, alpha_admin, settings, monkeypatch))
    statuses = [response.status_code for response in responses]
    assert statuses == [200, 409, 400, 400, 403, 401, 413, 500, 503, 200, 429]
    texts = [response.content.decode() + json.dumps(dict(response.items())) for response in responses]
    for record in caplog.records:
        texts.append(record.getMessage())
        texts.append(json.dumps(getattr(record, "audit", {})))
        if record.exc_info:
            texts.append(logging.Formatter().formatException(record.exc_info))
    assert any("registration_attempt" in text for text in texts)
    for secret in secrets:
        leaks = [text for text in texts if secret in text]
        assert not leaks, leaks[:1]


@pytest.mark.parametrize("fields", [{"password": PASSWORD}, {}])
def test_registration_request_repr_hides_the_password(fields):
    from tahoe_registration_api.data import RegistrationRequest

    request = RegistrationRequest(username="u", email="e@example.com", name="N", **fields)
    assert PASSWORD not in repr(request) and PASSWORD not in str(request)


def test_the_enumeration_409_does_not_say_where_the_account_is(alpha, beta, alpha_admin, beta_admin):
    """Upstream's global email uniqueness forces a 409 on site A for an email of site B; it names no site."""
    assert beta_admin.register(beta, learner_body()).status_code == 200
    response = alpha_admin.register(alpha, learner_body(username="other"))
    assert response.status_code == 409
    text = response.content.decode().lower()
    assert "beta" not in text and "site" not in text and "organization" not in text
    assert "user_id" not in response.json()
