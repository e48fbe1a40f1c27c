"""
A retired learner's rows leave the plugin's tables, through the platform's retirement signal (the stand-in's).

The development LMS's ``retire_misc`` sends what the LMS's retire_misc step sends; by then the account's
address is already the retired one, as the platform's first step (locking the account) left it.
"""

import json
import uuid

import pytest
from django.core import mail
from django.utils import timezone

from devlms import retirement as platform_retirement
from tahoe_registration_api import outbox, retirement
from tahoe_registration_api.apps import TahoeRegistrationApiConfig
from tahoe_registration_api.models import (
    AuditEntry,
    IdempotencyRecord,
    OutboxMessage,
    RegistrationJob,
    RegistrationJobRow,
    ScimIdentity,
    WebhookAttempt,
    WebhookEndpoint,
)
from tests.conftest import make_user

ORIGINAL = "ada@example.com"
RETIRED_ADDRESS = "retired__user_0f1e2d@retired.invalid"


def idempotency_record(body):
    """Store an answer for a new key."""
    return IdempotencyRecord.objects.create(key=uuid.uuid4().hex * 2, fingerprint="f" * 64, status=200,
                                            body=json.dumps(body))


def message(site, user_id, kind, topic, payload, state=OutboxMessage.PENDING):
    """Write an outbox message (its hand-over is not run: the test delivers it itself)."""
    now = timezone.now()
    done = state in (OutboxMessage.SENT, OutboxMessage.FAILED)
    return OutboxMessage.objects.create(kind=kind, topic=topic, site_id=site.site.pk, user_id=user_id,
                                        payload=json.dumps(payload, separators=(",", ":")), state=state,
                                        created=now, due=None if done else now, done_at=now if done else None)


def delivery_body(user):
    """A webhook delivery's body, as the fan-out writes it: the learner's fields as they were."""
    return json.dumps({"type": "learner.registered", "data": {"user_id": user.pk, "username": user.username,
                                                              "email": user.email, "name": "Ada Lovelace"}},
                      separators=(",", ":"), sort_keys=True)


def rows_of(user, other, alpha, beta):
    """Write, for ``user`` and for ``other``, a row in every table that can hold a learner's data."""
    endpoint = WebhookEndpoint.objects.create(site_id=alpha.site.pk, url="https://hooks.example.net/in",
                                              events='["learner.registered"]', secret="sealed")
    job = RegistrationJob.objects.create(id=uuid.uuid4(), site_id=alpha.site.pk, organization_id=alpha.organization.pk,
                                         caller_id=1, status=RegistrationJob.DONE)
    world = {"endpoint": endpoint, "job": job}
    for who, learner in (("user", user), ("other", other)):
        number = 1 if who == "user" else 10
        world[who] = {
            "registered": idempotency_record({"user_id": learner.pk}),
            "changed": idempotency_record({"user_id": learner.pk, "username": learner.username,
                                           "email": learner.email, "name": "A. Name"}),
            "enrolled": idempotency_record({"courses": {"course-v1:alpha+X+1": {"results": [
                {"identifier": learner.email.upper(), "before": {}, "after": {}}]}}}),
            "created_row": RegistrationJobRow.objects.create(
                job=job, number=number, ref=f"crm-{who}", username=learner.username, email=learner.email,
                outcome="created", user_id=learner.pk),
            "refused_row": RegistrationJobRow.objects.create(
                job=job, number=number + 1, ref=f"crm-{who}-again", username=f"{learner.username}2",
                email=learner.email, outcome="refused", error_code="duplicate-email", fields="email"),
            "waiting_row": RegistrationJobRow.objects.create(
                job=job, number=number + 2, username=learner.username, email=learner.email, payload="sealed"),
            "activation": message(alpha, learner.pk, "email", "activation", {"secure": True}),
            "email_changed": message(alpha, learner.pk, "email", "email-changed",
                                     {"old_email": f"old.{learner.email}", "new_email": learner.email,
                                      "secure": True}, state=OutboxMessage.SENT),
            "to_address": message(alpha, None, "email", "allowed_enroll",
                                  {"course_id": "course-v1:alpha+X+1", "address": learner.email, "secure": True}),
            "event": message(alpha, learner.pk, "event", "learner.registered",
                             {"webhook_id": "msg_1", "type": "learner.registered", "data": {"user_id": learner.pk}}),
            "delivery": message(alpha, learner.pk, "webhook", "learner.registered",
                                {"endpoint": endpoint.pk, "webhook_id": f"msg_{who}",
                                 "body": delivery_body(learner)}),
            "scim": ScimIdentity.objects.create(organization_id=alpha.organization.pk, user_id=learner.pk,
                                                user_name=f"{learner.username}@idp", user_name_key=f"{who}@idp",
                                                external_id=f"ext-{who}",
                                                attributes='{"name": {"givenName": "Ada"}}'),
            "scim_deleted": ScimIdentity.objects.create(
                organization_id=beta.organization.pk, user_id=learner.pk, user_name=f"{learner.username}@idp",
                user_name_key=None, external_id=f"ext-{who}-beta", attributes='{"emails": []}',
                deprovisioned=timezone.now()),
            "audit": AuditEntry.objects.create(created=timezone.now(), site_id=alpha.site.pk, caller_id=1,
                                               action="register", status=200, outcome="registered",
                                               learner_id=learner.pk),
        }
        world[who]["attempt"] = WebhookAttempt.objects.create(
            endpoint=endpoint, message_id=world[who]["delivery"].pk, webhook_id=f"msg_{who}",
            event="learner.registered", attempt=1, status_code=500, response=delivery_body(learner),
            at=timezone.now(), next_attempt=timezone.now())
    return world


def snapshot(rows):
    """Every field of the rows, as they are in the database now (None for a row that is gone)."""
    def fields(row):
        fresh = type(row).objects.filter(pk=row.pk).values().first()
        if fresh is not None:
            fresh.pop("modified", None)
        return fresh
    return {name: fields(row) for name, row in rows.items()}


def retire_as_the_platform_does(user):
    """Lock the account as the platform's first step does (its address replaced), then run its retire_misc step."""
    user.email = RETIRED_ADDRESS
    user.save()
    platform_retirement.retire_misc(user, ORIGINAL, RETIRED_ADDRESS)


@pytest.fixture(name="learners")
def fixture_learners(alpha, beta):
    """Ada, to be retired, and Bob, who stays; both learners of alpha."""
    ada = make_user("ada", alpha)
    assert ada.email == ORIGINAL
    return ada, make_user("bob", alpha)


def test_the_plugin_declares_its_receiver_of_the_platforms_retirement_signal_for_the_lms():
    [receiver] = TahoeRegistrationApiConfig.plugin_app["signals_config"]["lms.djangoapp"]["receivers"]
    assert receiver["signal_path"] == "openedx.core.djangoapps.user_api.accounts.signals.USER_RETIRE_MAILINGS"
    assert TahoeRegistrationApiConfig.plugin_app["signals_config"]["lms.djangoapp"]["relative_path"] == "retirement"
    assert receiver["receiver_func_name"] == "retire_learner" and callable(retirement.retire_learner)


def test_retiring_a_learner_removes_or_scrubs_exactly_their_rows_in_each_table(alpha, beta, learners):
    ada, bob = learners
    world = rows_of(ada, bob, alpha, beta)
    bob_before = snapshot(world["other"])
    ada_before = snapshot(world["user"])

    retire_as_the_platform_does(ada)

    ada_after = snapshot(world["user"])
    # Answers naming her (her id, her username, her original address in any case) are gone.
    assert ada_after["registered"] is None and ada_after["changed"] is None and ada_after["enrolled"] is None
    # Her processed job rows keep their outcome and her id, not her reference, username or address;
    # the refused row that named her address loses the address only (the rest is whoever the row was for).
    assert {key: ada_after["created_row"][key] for key in ("ref", "username", "email", "payload")} == {
        "ref": "", "username": "", "email": "", "payload": ""}
    assert ada_after["refused_row"] == {**ada_before["refused_row"], "email": ""}
    for name in ("created_row", "refused_row"):
        assert ada_after[name]["outcome"] == ada_before[name]["outcome"]
    assert ada_after["created_row"]["user_id"] == ada.pk
    assert ada_after["waiting_row"] == ada_before["waiting_row"]  # not hers yet: the job registers or refuses it
    # Nothing more goes to her or about her; no message keeps her address or her delivery's body.
    for name in ("activation", "to_address", "event", "delivery"):
        assert ada_after[name]["state"] == OutboxMessage.FAILED and ada_after[name]["last_error"] == "LearnerRetired"
        assert ada_after[name]["due"] is None and ada_after[name]["done_at"] is not None
    assert ada_after["email_changed"]["state"] == OutboxMessage.SENT
    for name in ("activation", "email_changed", "to_address"):
        assert ada_after[name]["payload"] == "{}"
    assert json.loads(ada_after["delivery"]["payload"]) == {"endpoint": world["endpoint"].pk, "webhook_id": "msg_user"}
    assert ada_after["event"]["payload"] == ada_before["event"]["payload"]  # ids only
    assert ada_after["attempt"]["response"] == "" and ada_after["attempt"]["status_code"] == 500
    # SCIM: her identity is gone; the one a provider had deleted stays hidden, without the provider's data.
    assert ada_after["scim"] is None
    scrubbed = ("user_name", "user_name_key", "external_id", "attributes")
    assert {key: ada_after["scim_deleted"][key] for key in scrubbed} == {
        "user_name": "", "user_name_key": None, "external_id": None, "attributes": "{}"}
    assert ada_after["scim_deleted"]["deprovisioned"] is not None
    assert ada_after["audit"] == ada_before["audit"]  # ids only, left to the retention
    # Bob's rows are untouched, to the last field.
    assert snapshot(world["other"]) == bob_before
    assert all(row is not None for row in bob_before.values())


def test_a_message_given_up_sends_nothing(alpha, learners):
    ada, _ = learners
    owed = outbox.owe_email(ada.pk, alpha.site.pk, "password-reset", secure=True)
    mail.outbox = []
    retire_as_the_platform_does(ada)
    assert outbox.deliver(owed.pk) is None  # no claim: the message is done
    assert mail.outbox == []


def test_a_second_retirement_changes_nothing_and_raises_nothing(alpha, beta, learners):
    ada, bob = learners
    world = rows_of(ada, bob, alpha, beta)
    retire_as_the_platform_does(ada)
    after_first = {who: snapshot(world[who]) for who in ("user", "other")}

    counts = retirement.retire(ada.pk, usernames=[ada.username], emails=[ORIGINAL, RETIRED_ADDRESS])

    assert set(counts.values()) == {0}
    assert {who: snapshot(world[who]) for who in ("user", "other")} == after_first


def test_a_learner_the_plugin_keeps_nothing_of_is_retired_without_error(alpha, beta, learners):
    ada, bob = learners
    world = rows_of(bob, make_user("carol", alpha), alpha, beta)
    before = {who: snapshot(world[who]) for who in ("user", "other")}

    retire_as_the_platform_does(ada)

    assert {who: snapshot(world[who]) for who in ("user", "other")} == before
    assert set(retirement.retire(ada.pk, [ada.username], [ORIGINAL]).values()) == {0}


def test_an_id_that_only_begins_like_the_learners_is_not_theirs(alpha, learners):
    ada, _ = learners
    other_id = int(f"{ada.pk}0")
    kept = idempotency_record({"user_id": other_id, "note": "ada.lovelace@example.com"})
    retire_as_the_platform_does(ada)
    assert IdempotencyRecord.objects.filter(pk=kept.pk).exists()


def test_a_word_that_is_also_the_learners_username_names_her_only_where_a_person_is_named(alpha, learners):
    _, bob = learners
    audit = make_user("audit", alpha)  # a valid username that is also a course mode
    enrolled = idempotency_record({"courses": {"course-v1:alpha+X+1": {"results": [
        {"identifier": bob.email, "mode": "audit", "before": {"mode": "audit"}, "after": {}}]}}})
    changed = idempotency_record({"user_id": bob.pk, "username": "bob", "language": "audit"})
    hers = idempotency_record({"results": [{"username": "AUDIT", "outcome": "created"}]})
    retirement.retire(audit.pk, usernames=["audit"], emails=[audit.email])
    assert IdempotencyRecord.objects.filter(pk__in=[enrolled.pk, changed.pk]).count() == 2
    assert not IdempotencyRecord.objects.filter(pk=hers.pk).exists()


def test_a_refused_row_for_someone_else_that_named_her_username_keeps_the_rest(alpha, learners):
    ada, _ = learners
    job = RegistrationJob.objects.create(id=uuid.uuid4(), site_id=alpha.site.pk, organization_id=alpha.organization.pk,
                                         caller_id=1, status=RegistrationJob.DONE)
    carols = RegistrationJobRow.objects.create(job=job, number=1, ref="crm-carol", username="ADA",
                                               email="carol@example.com", outcome="refused",
                                               error_code="duplicate-username", fields="username")
    retire_as_the_platform_does(ada)
    carols.refresh_from_db()
    assert (carols.ref, carols.username, carols.email) == ("crm-carol", "", "carol@example.com")


def test_a_delivery_scrubbed_by_a_retirement_is_dropped_not_retried(alpha, learners):
    ada, _ = learners
    endpoint = WebhookEndpoint.objects.create(site_id=alpha.site.pk, url="https://hooks.example.net/in",
                                              events='["learner.registered"]', secret="sealed")
    delivery = message(alpha, ada.pk, "webhook", "learner.registered",
                       {"endpoint": endpoint.pk, "webhook_id": "msg_late", "body": delivery_body(ada)})
    retire_as_the_platform_does(ada)
    # A fan-out that committed as the retirement ran left its delivery pending, its body already scrubbed.
    OutboxMessage.objects.filter(pk=delivery.pk).update(state=OutboxMessage.PENDING, due=timezone.now(),
                                                        done_at=None, last_error="")
    assert outbox.deliver(delivery.pk) == OutboxMessage.FAILED
    assert OutboxMessage.objects.values_list("last_error", flat=True).get(pk=delivery.pk) == "BodyGone"
    assert not WebhookAttempt.objects.filter(message_id=delivery.pk).exists()
