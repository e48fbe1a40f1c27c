"""The bulk endpoint: many learners in one call, each registered as a single call would."""

from django.conf import settings
from django.db import transaction
from django.utils.decorators import method_decorator
from rest_framework import status
from rest_framework.response import Response

from tahoe_registration_api import audit, pipeline
from tahoe_registration_api.exceptions import InvalidRegistration, TooManyLearners
from tahoe_registration_api.i18n import gettext_noop, message
from tahoe_registration_api.rest_api.parsers import JsonBodyParser
from tahoe_registration_api.rest_api.results import batch_json
from tahoe_registration_api.rest_api.throttling import BulkCallRateThrottle, charge_learners
from tahoe_registration_api.rest_api.v1.permissions import request_organization
from tahoe_registration_api.rest_api.v1.views import TahoeApiView, dry_run_requested


def bulk_learners(data, limit, setting="TAHOE_REGISTRATION_API_BULK_MAX"):
    """Return the body's ``learners`` (a list of objects, 1 to ``limit``); a 400 or 413 naming the field otherwise."""
    if not isinstance(data, dict) or "learners" not in data:
        raise InvalidRegistration(field_errors={"learners": gettext_noop("Required: a list of learners (objects).")})
    learners = data["learners"]
    if not isinstance(learners, list):
        raise InvalidRegistration(field_errors={"learners": gettext_noop("Must be a list of learners (objects).")})
    if not learners:
        raise InvalidRegistration(field_errors={"learners": gettext_noop("Must hold at least one learner.")})
    if len(learners) > limit:
        refusal = message(gettext_noop("Holds {count} learners; at most {limit} are accepted ({setting})."),
                          count=len(learners), limit=limit, setting=setting)
        raise TooManyLearners(refusal, field_errors={"learners": refusal})
    not_objects = [index for index, item in enumerate(learners) if not isinstance(item, dict)]
    if not_objects:
        raise InvalidRegistration(field_errors={
            f"learners[{index}]": gettext_noop("Must be an object with a registration's fields.")
            for index in not_objects[:10]
        })
    return learners


# Each learner is its own transaction (as a single call), never one for the whole request.
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class BulkRegistrationView(TahoeApiView):
    """
    Register up to ``TAHOE_REGISTRATION_API_BULK_MAX`` learners on the site named by the request's Host.

    ``POST /tahoe/api/v1/registrations/bulk/`` with ``{"learners": [{...}, ...]}``: each item has
    the fields of a single registration (the v1 rules) and an optional ``ref`` (the caller's own
    id, echoed back). Each learner is all or nothing, as a single call; a learner with the
    username or email of an earlier valid learner of the call is a 409. Answers 200
    ``{"created": n, "failed": m, "results": [...]}`` in input order; each result has ``ref``,
    ``status`` (200, 400 or 409, as a single call) and ``user_id`` or the error object. The call
    itself answers 400 (not that shape), 413 (too many learners or too large), 429 (over
    ``TAHOE_REGISTRATION_API_BULK_RATE`` calls or ``TAHOE_REGISTRATION_API_BULK_LEARNER_RATE``
    learners) and the credentials' and switches' 401 and 403. ``Idempotency-Key`` and
    ``?dry_run=true`` work as on the single endpoint.
    """

    audit_action = "bulk_register"
    throttle_classes = (BulkCallRateThrottle,)
    parser_classes = (JsonBodyParser,)
    body_limit_setting = "TAHOE_REGISTRATION_API_BULK_MAX_BODY_BYTES"

    def post(self, request):
        """Check the body's shape and the learner rate, then register each learner in order."""
        dry_run = dry_run_requested(request)
        learners = bulk_learners(request.data, int(settings.TAHOE_REGISTRATION_API_BULK_MAX))
        if (replay := self.replay_or_claim_key(request, dry_run)) is not None:
            return replay
        organization = request_organization(request)
        usage = charge_learners(request, len(learners))
        if usage is not None:
            self.rate_limit_usage = usage
        if dry_run:
            self.audit_action = "bulk_dry_run"
        registrar = pipeline.Pipeline(
            site=request.site, organization=organization, request=request, dry_run=dry_run,
            audit_as=(self.audit_action, request.user.pk, audit.request_id(request)), group_size=pipeline.GROUP_SIZE,
        )
        outcomes = []
        registrar.run(enumerate(learners), lambda index, outcome: outcomes.append(outcome))
        registrar.store_audit()
        return Response(batch_json(outcomes, dry_run), status=status.HTTP_200_OK)
