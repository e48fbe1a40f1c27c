"""Inside the LMS: ``POST /tahoe/api/v2/registrations/`` for clients of Appsembler's v2."""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from conftest import REGISTRATIONS_V2_URL, learner_body


def test_v2_registers_a_learner_of_the_site_with_its_email(alpha, alpha_admin):
    response = alpha_admin.register(alpha, learner_body(), url=REGISTRATIONS_V2_URL)
    assert response.status_code == 200, response.content
    learner = get_user_model().objects.get(pk=response.json()["user_id"])
    assert (learner.username, learner.is_active) == ("auserton", False)
    assert len(mail.outbox) == 1 and "Alpha Academy" in mail.outbox[0].subject


@pytest.mark.parametrize("conflicting, expected", [
    ({"email": "someone.else@example.com"}, ["username"]),
    ({"username": "someone_else"}, ["email"]),
    ({}, ["email", "username"]),
])
def test_a_v2_409_carries_appsemblers_invalid_params_and_v1_does_not(
    alpha, alpha_admin, conflicting, expected
):
    assert alpha_admin.register(alpha, learner_body()).status_code == 200
    v2 = alpha_admin.register(alpha, learner_body(**conflicting), url=REGISTRATIONS_V2_URL)
    v1 = alpha_admin.register(alpha, learner_body(**conflicting))
    assert (v2.status_code, v1.status_code) == (409, 409)
    assert v2.json()["invalid-params"] == expected
    assert v2.json()["user_message"] == v1.json()["user_message"]
    assert {key: value for key, value in v2.json().items() if key != "invalid-params"} == v1.json()
