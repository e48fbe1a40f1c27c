"""The query budget of SCIM calls on the development LMS (counts are deterministic; timings are not asserted)."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import learner_body
from tests.scim import MEDIA_TYPE, USERS, bearer, okta_user, patch_op, user_url
from tests.test_query_budget import TRANSACTION_CONTROL

pytestmark = pytest.mark.django_db(transaction=True)  # no test transaction: count exactly what runs


@pytest.fixture(autouse=True)
def _emails_queued_not_sent(monkeypatch):
    """The outbox's task runs on a worker: not counted here."""
    monkeypatch.setattr("tahoe_registration_api.tasks.deliver_outbox_message.apply_async", lambda *a, **k: None)


def counted(call):
    """Return a call's answer and its SQL statements (transaction control aside)."""
    with CaptureQueriesContext(connection) as captured:
        response = call()
    return response, len([query for query in captured.captured_queries
                          if not query["sql"].upper().startswith(TRANSACTION_CONTROL)])


def send(provider, site, method, path, body=None):
    """One SCIM request."""
    return provider.client.generic(method, path, json.dumps(body) if body is not None else "",
                                   content_type=MEDIA_TYPE, HTTP_HOST=site.domain)


def test_a_scim_create_costs_at_most_seven_statements_more_than_a_registration(alpha, alpha_admin):
    assert alpha_admin.register(alpha, learner_body(username="first", email="first@example.com")).status_code == 200
    response, registration = counted(lambda: alpha_admin.register(alpha, learner_body()))
    assert response.status_code == 200
    provider = bearer(alpha_admin)
    response, create = counted(lambda: send(provider, alpha, "POST", USERS, okta_user(password=None)))
    assert response.status_code == 201
    # the userName's uniqueness (2), the provider's record (3), the User answered (2)
    assert create <= registration + 7, (create, registration)


def test_a_look_up_and_a_page_cost_the_same_whatever_the_number_of_learners(alpha, alpha_admin):
    provider = bearer(alpha_admin)
    send(provider, alpha, "POST", USERS, okta_user(password=None))
    _, one = counted(lambda: send(provider, alpha, "GET", f"{USERS}?count=100"))
    for number in range(20):
        send(provider, alpha, "POST", USERS, okta_user(f"user{number}@okta.local", password=None))
    response, twenty_one = counted(lambda: send(provider, alpha, "GET", f"{USERS}?count=100"))
    assert len(response.json()["Resources"]) == 21
    assert twenty_one == one <= 6, (one, twenty_one)
    _, look_up = counted(lambda: send(provider, alpha, "GET", f'{USERS}?filter=userName eq "user7@okta.local"'))
    assert look_up <= 6, look_up


def test_a_patch_switching_a_learner_off_costs_at_most_21_statements(alpha, alpha_admin):
    provider = bearer(alpha_admin)
    user_id = send(provider, alpha, "POST", USERS, okta_user(password=None)).json()["id"]
    response, statements = counted(lambda: send(provider, alpha, "PATCH", user_url(user_id),
                                                patch_op({"op": "replace", "value": {"active": False}})))
    assert response.status_code == 200 and response.json()["active"] is False
    assert statements <= 21, statements  # 20, and the webhooks' event (issue 22: one statement more at most)
