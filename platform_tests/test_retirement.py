"""
Inside the LMS: a learner registered through the plugin is retired by the platform's own retirement path.

The learner deletes their account (``deactivate_logout``: the account is locked, its address replaced by
the retired one, a retirement request made); the retirement driver, a superuser with a JWT, moves the
request along (``update_retirement_status``) and calls the LMS's ``retire_misc`` step, then its
``retire`` step, as the platform's retirement pipeline does. The plugin's receiver runs in ``retire_misc``,
connected by the LMS's plugin framework; the plugin's rows about the learner are gone or scrubbed, and
another learner's are untouched.
"""

import json

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from openedx.core.djangoapps.oauth_dispatch.jwt import create_jwt_for_user
from openedx.core.djangoapps.user_api.accounts.signals import USER_RETIRE_MAILINGS
from openedx.core.djangoapps.user_api.accounts.tests import retirement_helpers
from openedx.core.djangoapps.user_api.models import UserRetirementStatus

from tahoe_registration_api.models import IdempotencyRecord, OutboxMessage, ScimIdentity

from conftest import PASSWORD, Caller, learner_body, make_user

User = get_user_model()
USERS = "/tahoe/scim/v2/Users"
ACCOUNTS = "/api/user/v1/accounts/"
# The platform's own fixture of the retirement pipeline's states (its retirement tests use it).
setup_retirement_states = retirement_helpers.setup_retirement_states


def jwt(user):
    """The Authorization header of a JWT for ``user``, as the platform's retirement tests build it."""
    return {"HTTP_AUTHORIZATION": f"JWT {create_jwt_for_user(user)}"}


def scim_create(caller, site, body):
    """Create a learner through the plugin's SCIM service (the admin's token as Bearer)."""
    response = caller.client.post(USERS, json.dumps(body), content_type="application/scim+json",
                                  HTTP_HOST=site.domain, HTTP_AUTHORIZATION=caller.authorization.replace("Token",
                                                                                                         "Bearer"))
    assert response.status_code == 201, response.content
    return User.objects.get(pk=int(response.json()["id"]))


def change_learner(caller, site, user_id, body, key):
    """Change a learner through the plugin's API, with an Idempotency-Key (its answer is kept)."""
    response = caller.client.patch(f"/tahoe/api/v1/learners/{user_id}/", json.dumps(body),
                                   content_type="application/json",
                                   **caller.headers(site.domain, {"HTTP_IDEMPOTENCY_KEY": key}))
    assert response.status_code == 200, response.content
    return response.json()


def the_learners_rows(user_id, answer_username):
    """The plugin's rows that name the learner: SCIM identities, kept answers, outbox messages."""
    return {
        "scim": list(ScimIdentity.objects.filter(user_id=user_id).values()),
        "answers": [record.pk for record in IdempotencyRecord.objects.exclude(body="")
                    if json.loads(record.body).get("user_id") == user_id
                    or answer_username in record.body],
        "messages": list(OutboxMessage.objects.filter(user_id=user_id).order_by("pk").values()),
    }


@pytest.fixture(name="retirement_states")
def fixture_retirement_states(transactional_db, request):  # pylint: disable=unused-argument
    """The retirement pipeline's states, as the platform's retirement tests set them up (in the test's database)."""
    request.getfixturevalue("setup_retirement_states")


@pytest.mark.usefixtures("retirement_states")
def test_the_platforms_retirement_takes_a_learners_data_out_of_the_plugins_tables(alpha, alpha_admin):
    ada = scim_create(alpha_admin, alpha, {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "Ada.Lovelace@idp.example",
        "externalId": "00u-ada", "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "displayName": "Ada Lovelace", "emails": [{"value": "ada@example.org", "primary": True}],
        "password": PASSWORD, "active": True,
    })
    change_learner(alpha_admin, alpha, ada.pk, {"email": "ada.lovelace@example.org"}, key="ada-email")
    bob_id = alpha_admin.register(alpha, learner_body(username="bob", email="bob@example.org", name="Bob"),
                                  HTTP_IDEMPOTENCY_KEY="bob-1").json()["user_id"]
    changed = change_learner(alpha_admin, alpha, bob_id, {"name": "Bob Builder"}, key="bob-name")
    assert changed["username"] == "bob"
    # An email still waiting for its worker when the learner is retired (the LMS's workers were busy).
    waiting = OutboxMessage.objects.create(kind="email", topic="password-reset", site_id=alpha.site.pk,
                                           user_id=ada.pk, payload='{"secure":true}', created=timezone.now(),
                                           due=timezone.now())
    ada_before = the_learners_rows(ada.pk, '"ada.lovelace@example.org"')
    bob_before = the_learners_rows(bob_id, '"bob"')
    assert ada_before["scim"] and ada_before["answers"] and len(ada_before["messages"]) >= 2
    assert bob_before["answers"] and bob_before["messages"]
    assert any("ada@example.org" in message["payload"] for message in ada_before["messages"])  # the old address
    heard = []
    USER_RETIRE_MAILINGS.connect(lambda sender, **kwargs: heard.append(sender), weak=False, dispatch_uid="heard")

    original_username = ada.username
    # The learner deletes their account, as the account settings page does.
    learner = Caller(ada, authorization=jwt(ada)["HTTP_AUTHORIZATION"])
    locked = learner.client.post(f"{ACCOUNTS}deactivate_logout/", {"password": PASSWORD},
                                 **learner.headers(alpha.domain, {}))
    assert locked.status_code == 204, locked.content
    ada.refresh_from_db()
    assert ada.email != "ada.lovelace@example.org"  # already the retired address
    # The retirement driver moves the request to the LMS's steps and calls them.
    superuser = make_user("retirement_driver", is_staff=True, is_superuser=True)
    driver = Caller(superuser, authorization=jwt(superuser)["HTTP_AUTHORIZATION"])
    moved = driver.client.patch(f"{ACCOUNTS}update_retirement_status/", json.dumps(
        {"username": ada.username, "new_state": "RETIRING_LMS", "response": "Retiring the LMS's data."}),
        content_type="application/json", **driver.headers(alpha.domain, {}))
    assert moved.status_code == 204, moved.content
    misc = driver.client.post(f"{ACCOUNTS}retire_misc/", json.dumps({"username": ada.username}),
                              content_type="application/json", **driver.headers(alpha.domain, {}))
    assert misc.status_code == 204, misc.content
    USER_RETIRE_MAILINGS.disconnect(dispatch_uid="heard")
    assert heard, "the platform's retire_misc step sent no USER_RETIRE_MAILINGS"

    ada_after = the_learners_rows(ada.pk, '"ada.lovelace@example.org"')
    assert ada_after["scim"] == []  # the provider's name, id and attributes of her are gone
    assert ada_after["answers"] == []  # no kept answer names her
    assert [message["id"] for message in ada_after["messages"]] == [message["id"] for message in ada_before["messages"]]
    for message in ada_after["messages"]:
        assert "@" not in message["payload"] and "lovelace" not in message["payload"].lower(), message
    given_up = OutboxMessage.objects.get(pk=waiting.pk)
    assert (given_up.state, given_up.last_error, given_up.due) == (OutboxMessage.FAILED, "LearnerRetired", None)
    assert the_learners_rows(bob_id, '"bob"') == bob_before  # the other learner's rows, untouched

    # The LMS's own last step, then the step sent again (a driver's retry): nothing fails, nothing comes back.
    retired = driver.client.post(f"{ACCOUNTS}retire/", json.dumps({"username": ada.username}),
                                 content_type="application/json", **driver.headers(alpha.domain, {}))
    assert retired.status_code == 204, retired.content
    assert UserRetirementStatus.objects.get(user=ada).retired_username == User.objects.get(pk=ada.pk).username
    again = driver.client.post(f"{ACCOUNTS}retire_misc/", json.dumps({"username": original_username}),
                               content_type="application/json", **driver.headers(alpha.domain, {}))
    assert again.status_code == 204, again.content
    assert the_learners_rows(ada.pk, '"ada.lovelace@example.org"') == ada_after
