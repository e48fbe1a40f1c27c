"""
The plugin's part in the platform's user retirement: a retired learner's data leaves the plugin's tables.

The LMS retires a learner in steps (its retirement pipeline). Its ``retire_misc`` step
(``LMSAccountRetirementView``, ``POST /api/user/v1/accounts/retire_misc/``) sends
``USER_RETIRE_LMS_MISC`` and then ``USER_RETIRE_MAILINGS``; ``retire_learner`` hears the second, the
one that carries the learner's original address (``email``): by then the account's own address is
already the retired one. The username is still the learner's own (the ``retire`` step, later,
replaces it). The receiver is connected by the LMS's plugin framework (``signals_config`` in
``apps.py``); it runs in the step's request, so a failure writes nothing and fails the step (the LMS
answers 500 and the learner's retirement stops in an error state, for the operator to run again).

What leaves, in one transaction (``docs/personal_data.rst`` says why for each table):

* idempotency records whose stored answer names the learner (their id, or their username or address
  under a key that names a person: ``username``, ``email``, ``identifier``, ...): deleted;
* job rows of the learner, processed: their reference, username and email emptied (the row keeps its
  outcome and the learner's id, so the job's counts and results stay whole); a refused row that named
  their username or address loses that field only (the rest is whoever the row was for);
* outbox messages of the learner: those not done yet are given up (marked failed, ``LearnerRetired``:
  no email goes to the learner, no webhook tells of them any more); every one loses its addresses and
  body. An enrollment email owed to the learner's address before they had an account goes too;
* webhook attempts of the learner's deliveries still in the outbox: the receiver's answer emptied;
* SCIM identities of the learner: deleted, or, where the provider had deleted the learner, kept
  without the provider's name, id and attributes, so that SCIM still hides the learner.

Audit entries, jobs and their chunks, webhook endpoints and claims hold no personal data (ids at most,
which now name a retired account): they are left to their retention. A second retirement finds
nothing left and changes nothing.
"""

import json
import logging

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tahoe_registration_api.models import (
    IdempotencyRecord,
    OutboxMessage,
    RegistrationJobRow,
    ScimIdentity,
    WebhookAttempt,
)

log = logging.getLogger(__name__)

RETIRED = "LearnerRetired"  # the ``last_error`` of a message given up because its learner was retired
EMAIL, WEBHOOK = "email", "webhook"  # the outbox kinds whose payload holds addresses (``outbox``, ``webhooks``)


def retire_learner(sender, user, email=None, **kwargs):  # pylint: disable=unused-argument
    """
    Receive the platform's ``USER_RETIRE_MAILINGS``: remove or scrub the plugin's rows about ``user``.

    ``email`` is the learner's original address (the account's own is the retired one by now).
    """
    retire(user.pk, usernames=[user.username], emails=[email, user.email])


def retire(user_id, usernames=(), emails=()):
    """Remove or scrub what the plugin keeps about learner ``user_id`` (also known by these names); return counts."""
    names = {value.lower() for value in (*usernames, *emails) if value}
    with transaction.atomic():
        counts = {
            "idempotency_records": _forget_answers(user_id, names),
            "job_rows": _scrub_job_rows(user_id, usernames, emails),
            **_settle_outbox(user_id, emails),
            "scim_identities": _retire_scim_identities(user_id),
        }
    log.info("Retired learner %s: %s.", user_id, ", ".join(f"{name} {count}" for name, count in counts.items()))
    return counts


# The keys under which a stored answer names a person: a string there that is one of the learner's names is
# theirs. The same text elsewhere (a course mode "audit", a language "en") names no one.
IDENTITY_KEYS = frozenset({"username", "email", "identifier", "address", "old_email", "new_email", "userName", "value"})


def _names_learner(value, user_id, names, key=None):
    """Whether a JSON value holds the learner: a ``user_id`` of theirs, or one of their names under an identity key."""
    if isinstance(value, dict):
        return any((name == "user_id" and item == user_id and not isinstance(item, bool))
                   or _names_learner(item, user_id, names, name) for name, item in value.items())
    if isinstance(value, list):
        return any(_names_learner(item, user_id, names, key) for item in value)
    return key in IDENTITY_KEYS and isinstance(value, str) and value.lower() in names


def _mentions(field, names, user_id=None):
    """Return a filter of the rows whose JSON ``field`` may name the learner (``_names_learner`` confirms)."""
    query = Q(pk__in=[])
    if user_id is not None:
        query |= Q(**{f"{field}__contains": f'"user_id": {user_id}'})
    for name in names:
        query |= Q(**{f"{field}__icontains": json.dumps(name)})
    return query


def _forget_answers(user_id, names):
    """Delete the idempotency records whose stored answer names the learner; return how many."""
    ids = [record.pk for record in IdempotencyRecord.objects.filter(_mentions("body", names, user_id)).only("body")
           if _names_learner(json.loads(record.body or "null"), user_id, names)]
    return IdempotencyRecord.objects.filter(pk__in=ids).delete()[0] if ids else 0


def _scrub_job_rows(user_id, usernames, emails):
    """
    Empty the learner's processed job rows (reference, username, email); return how many rows changed.

    A processed row of nobody's (refused) that named the learner's username or address loses that field
    only: the rest is the data of whoever the row was for.
    """
    processed = RegistrationJobRow.objects.filter(outcome__isnull=False)
    scrubbed = (processed.filter(user_id=user_id).exclude(ref="", username="", email="", payload="")
                .update(ref="", username="", email="", payload=""))
    nobodys = processed.filter(user_id__isnull=True)
    for username in filter(None, usernames):
        scrubbed += nobodys.filter(username__iexact=username).update(username="")
    for email in filter(None, emails):
        scrubbed += nobodys.filter(email__iexact=email).update(email="")
    return scrubbed


def _scrubbed(message):
    """Return a message's payload without the learner's data: a delivery keeps its endpoint and webhook-id only."""
    if message.kind == WEBHOOK:
        delivery = json.loads(message.payload or "{}")
        return json.dumps({key: delivery[key] for key in ("endpoint", "webhook_id") if key in delivery},
                          separators=(",", ":"))
    if message.kind == EMAIL:
        return "{}"
    return message.payload  # an event: ids only (its learner's fields are read when it is fanned out)


def _settle_outbox(user_id, emails):
    """Give up the learner's messages not done yet and scrub all of them; empty the answers to their deliveries."""
    addresses = {email.lower() for email in emails if email}
    # An email owed to an address before it was an account's (an enrollment email): its payload names it.
    to_address = [message.pk for message in OutboxMessage.objects.filter(
        _mentions("payload", addresses), kind=EMAIL, user_id__isnull=True).only("payload")
        if str(json.loads(message.payload or "{}").get("address", "")).lower() in addresses]
    messages = OutboxMessage.objects.filter(Q(user_id=user_id) | Q(pk__in=to_address))
    given_up = messages.filter(state__in=(OutboxMessage.PENDING, OutboxMessage.LEASED)).update(
        state=OutboxMessage.FAILED, due=None, done_at=timezone.now(), last_error=RETIRED)
    scrubbed = 0
    for message in messages.filter(kind__in=(EMAIL, WEBHOOK)).only("kind", "payload"):
        payload = _scrubbed(message)
        if payload != message.payload:
            scrubbed += OutboxMessage.objects.filter(pk=message.pk).update(payload=payload)
    deliveries = messages.filter(kind=WEBHOOK).values("pk")
    answers = WebhookAttempt.objects.filter(message_id__in=deliveries).exclude(response="").update(response="")
    return {"outbox_given_up": given_up, "outbox_scrubbed": scrubbed, "webhook_answers": answers}


def _retire_scim_identities(user_id):
    """Delete the learner's SCIM identities; keep those the provider deleted, without its data; return how many."""
    deleted = ScimIdentity.objects.filter(user_id=user_id, deprovisioned__isnull=True).delete()[0]
    scrubbed = (ScimIdentity.objects.filter(user_id=user_id).exclude(user_name="", external_id=None, attributes="{}")
                .update(user_name="", user_name_key=None, external_id=None, attributes="{}"))
    return deleted + scrubbed
