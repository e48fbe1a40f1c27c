"""
The site's learners: ``GET /tahoe/api/v1/learners/`` looks them up, ``GET``/``PATCH .../learners/<user_id>/``.

The rules are ``learners.py``'s; the views read the request and shape the answer.
"""

from django.conf import settings
from django.db import transaction
from django.utils.decorators import method_decorator
from rest_framework import status
from rest_framework.response import Response

from tahoe_registration_api.exceptions import InvalidRegistration
from tahoe_registration_api.i18n import gettext_noop
from tahoe_registration_api.learner_input import parse_learner_change
from tahoe_registration_api.learners import LearnerUpdate, SiteLearners
from tahoe_registration_api.rest_api import idempotency
from tahoe_registration_api.rest_api.pagination import ListPagination
from tahoe_registration_api.rest_api.parsers import JsonBodyParser
from tahoe_registration_api.rest_api.query import boolean_param, refuse, text_param
from tahoe_registration_api.rest_api.v1.permissions import is_platform_staff, request_organization
from tahoe_registration_api.rest_api.v1.serializers import LearnerSerializer
from tahoe_registration_api.rest_api.v1.views import TahoeApiView, dry_run_requested


def include_admins(request):
    """
    Read ``?include_admins=``: true lists the site's admins too, for platform staff (where the operator allows staff).

    Anyone else asking for them is a 400 naming it: a site's admins are never listed to its admins.
    """
    asked = boolean_param(request, "include_admins")
    if not asked:
        return False
    if not (settings.TAHOE_REGISTRATION_API_ALLOW_STAFF and is_platform_staff(request.user)):
        raise refuse("include_admins", gettext_noop("Only platform staff may list a site's admins."))
    return True


class LearnersView(TahoeApiView):
    """
    Look the site's learners up (never its admins, never another site's learners).

    ``?email=`` and ``?username=`` match exactly, case aside; without either, all the site's learners.
    Paginated (``?page=``, ``?page_size=`` up to 500), oldest account first. Each learner has
    ``user_id``, ``username``, ``email``, ``name``, ``is_active`` (activated), ``disabled`` (switched
    off), ``language`` and ``date_joined``. ``?include_admins=true``: the site's admins too, for
    platform staff only. The credentials, switches and rate limit of a registration.
    """

    audit_action = None  # reads are not audited

    def get(self, request):
        """Answer a page of the site's learners."""
        learners = SiteLearners(request_organization(request), include_admins=include_admins(request))
        users = learners.listed(email=text_param(request, "email"), username=text_param(request, "username"))
        paginator = ListPagination()
        page = paginator.paginate_queryset(users, request, view=self)
        return paginator.get_paginated_response(LearnerSerializer(learners.describe(page), many=True).data)


# A change manages its own transaction (its claim on a new email commits or vanishes with it; a deadlock is retried).
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class LearnerView(TahoeApiView):
    """
    One learner of the site: ``GET`` reads them, ``PATCH`` changes them.

    404 ``learner-not-found`` for any id that is no learner of the site (another site's, an admin's,
    nobody's). ``PATCH`` (JSON) with any of ``name``, ``email``, ``language``, ``disabled``; ``username``
    is a 400 (it cannot change once set), other fields are ignored. A new email taken on the site (or
    platform-wide where the platform requires it) is a 409 ``duplicate-email``; the old address is
    told. ``disabled: true`` switches the account off (the platform's "User Disabled"), ``false`` on
    again. ``Idempotency-Key`` and ``?dry_run=true`` work as on registrations. Answers 200 with the
    learner as they are now (with ``"dry_run": true``, as they would be).
    """

    parser_classes = (JsonBodyParser,)
    audit_action = None  # a read is not audited; a change is, from its first check on (a refused credential too)
    audit_actions_by_method = {"PATCH": "learner_update"}  # ``patch`` names a dry run's

    def get(self, request, user_id):
        """Answer the learner."""
        learners = SiteLearners(request_organization(request), include_admins=include_admins(request))
        [learner] = learners.describe([learners.get(user_id)])
        return Response(LearnerSerializer(learner).data)

    def patch(self, request, user_id):
        """Check the change, apply it (or, in a dry run, foresee it) and answer the learner."""
        dry_run = dry_run_requested(request)
        if dry_run:
            self.audit_action = "learner_update_dry_run"
        data = request.data  # parsed first: a 415 or a body that is no JSON claims no key
        if not dry_run:
            idempotency.key_of(request)  # a malformed Idempotency-Key is a 400 naming it alone
        if not isinstance(data, dict):
            raise InvalidRegistration(field_errors={
                "non_field_errors": gettext_noop("The change must be a JSON object.")})
        if (replay := self.replay_or_claim_key(request, dry_run)) is not None:
            return replay
        change = parse_learner_change(data)
        update = LearnerUpdate(site=request.site, organization=request_organization(request), caller=request.user,
                               secure=request.is_secure(), dry_run=dry_run)
        try:
            learner = update.run(user_id, change, in_transaction=self._store_with_change if self.idempotency else None)
        finally:
            self.audit_learner_id = update.learner_id  # the site's learner, once found (refused changes too)
        body = LearnerSerializer(learner).data
        if dry_run:
            body = {**body, "dry_run": True}
        return Response(body, status=status.HTTP_200_OK)

    def _store_with_change(self, learner):
        """Keep the 200's answer for the Idempotency-Key in the change's transaction."""
        self.idempotency.store_with_registration(LearnerSerializer(learner).data)
