"""``POST /tahoe/api/v2/registrations/``: v1's endpoint for clients of Appsembler's v2."""

import pytest
from django.contrib.auth import get_user_model

from tests.conftest import REGISTRATIONS_V2_URL, Caller, learner_body

TAKEN = {"username": "auserton", "email": "alex.userton@example.com"}


def test_v2_registers_as_v1_does(alpha, alpha_admin):
    response = alpha_admin.register(alpha, learner_body(), url=REGISTRATIONS_V2_URL)
    assert response.status_code == 200, response.content
    learner = get_user_model().objects.get(pk=response.json()["user_id"])
    assert learner.username == "auserton" and not learner.is_active


@pytest.mark.parametrize("conflicting, expected", [
    ({"email": "someone.else@example.com"}, ["username"]),
    ({"username": "someone_else"}, ["email"]),
    ({}, ["email", "username"]),
])
def test_a_v2_409_carries_appsemblers_invalid_params(alpha, alpha_admin, conflicting, expected):
    assert alpha_admin.register(alpha, learner_body()).status_code == 200
    response = alpha_admin.register(alpha, learner_body(**conflicting), url=REGISTRATIONS_V2_URL)
    assert response.status_code == 409
    body = response.json()
    assert body["invalid-params"] == expected
    assert body["user_message"] == "An account with these details already exists."
    assert body["error_code"] == "duplicate-" + "-".join(expected)
    assert sorted(body["field_errors"]) == expected


def test_a_v1_409_stays_as_it_was(alpha, alpha_admin):
    alpha_admin.register(alpha, learner_body())
    body = alpha_admin.register(alpha, learner_body()).json()
    assert set(body) == {"error_code", "user_message", "developer_message", "field_errors"}


def test_v2_refuses_what_v1_refuses(alpha, alpha_admin, alpha_learner):
    bad = alpha_admin.register(alpha, learner_body(email="not-an-email"), url=REGISTRATIONS_V2_URL)
    assert bad.status_code == 400 and "email" in bad.json()["field_errors"]
    assert "invalid-params" not in bad.json()
    assert Caller().register(alpha, learner_body(), url=REGISTRATIONS_V2_URL).status_code == 401
    assert alpha_learner.register(alpha, learner_body(), url=REGISTRATIONS_V2_URL).status_code == 403
    assert not get_user_model().objects.filter(username="auserton").exists()


def test_v2_without_the_trailing_slash(alpha, alpha_admin):
    assert alpha_admin.register(alpha, learner_body(), url=REGISTRATIONS_V2_URL.rstrip("/")).status_code == 200
