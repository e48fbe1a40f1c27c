"""The site's enrollments: ``GET /tahoe/api/v1/enrollments/`` lists them, ``POST`` enrolls or unenrolls."""

from django.conf import settings
from django.db import transaction
from django.utils.decorators import method_decorator
from rest_framework import status
from rest_framework.response import Response

from tahoe_registration_api import audit
from tahoe_registration_api.courses import SiteCourses
from tahoe_registration_api.enrollment_input import parse_enrollment_request
from tahoe_registration_api.enrollments import Enrollments
from tahoe_registration_api.i18n import gettext_noop
from tahoe_registration_api.learner_input import parse_course_key
from tahoe_registration_api.lookups import user_id_fits
from tahoe_registration_api.rest_api import idempotency
from tahoe_registration_api.rest_api.pagination import ListPagination
from tahoe_registration_api.rest_api.parsers import JsonBodyParser
from tahoe_registration_api.rest_api.query import boolean_param, id_param, refuse, text_param
from tahoe_registration_api.rest_api.v1.permissions import request_organization
from tahoe_registration_api.rest_api.v1.serializers import EnrollmentSerializer, enrollment_answer
from tahoe_registration_api.rest_api.v1.views import TahoeApiView, dry_run_requested


# Each change is its own transaction (as the platform's bulk enroll), never one for the whole request.
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class EnrollmentsView(TahoeApiView):
    """
    The enrollments in the courses of the site named by the request's Host.

    ``GET``: paginated (``?page=``, ``?page_size=`` up to 500), oldest first; filters ``course_id``,
    ``user_id``, ``username`` and ``is_active``. Each has ``course_id``, ``user_id``, ``username``,
    ``mode``, ``is_active`` and ``created``.

    ``POST`` with ``{"action": "enroll" | "unenroll", "identifiers": [...], "courses": [...],
    "auto_enroll": false, "email_learners": false, "mode": null}``: each identifier (a user id, a
    username or an email of the site's learners; the email of nobody is pre-enrolled) in each
    course of the site. Answers 200 in the shape of the platform's bulk enroll API: ``action``,
    ``auto_enroll``, ``email_students``, and ``courses``, per course its ``action``,
    ``auto_enroll`` and ``results``, per identifier ``{identifier, before, after}`` (each
    ``{user, enrollment, allowed, auto_enroll}``), ``{identifier, invalidIdentifier: true}`` or
    ``{identifier, error: true}``. 400 ``invalid-course-ids`` naming each key that is no course of
    the site (nothing is changed for anyone), 400 naming ``mode`` when it is no mode of a course,
    413 ``too-many-enrollments`` over ``TAHOE_REGISTRATION_API_ENROLL_MAX`` identifiers × courses.
    ``Idempotency-Key`` and ``?dry_run=true`` work as on registrations.
    """

    parser_classes = (JsonBodyParser,)
    body_limit_setting = "TAHOE_REGISTRATION_API_BULK_MAX_BODY_BYTES"
    audit_action = None  # a list is not audited; a change is (``post`` names its action)

    def get(self, request):
        """Answer a page of the enrollments in the site's courses."""
        course_id, user_id = text_param(request, "course_id"), id_param(request, "user_id")
        username, is_active = text_param(request, "username"), boolean_param(request, "is_active")
        site_courses = SiteCourses(request_organization(request))
        keys = site_courses.linked_keys()
        if course_id is not None:
            key = parse_course_key(course_id)
            if key is None:
                raise refuse("course_id", gettext_noop("Not a course key."))
            keys = [key] if key in keys else []
        if user_id is not None and not user_id_fits(user_id):
            keys = []  # no such user can exist
        rows = site_courses.adapter.enrollment_rows(keys, user_id=user_id, username=username, is_active=is_active)
        paginator = ListPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(EnrollmentSerializer(page, many=True).data)

    def post(self, request):
        """Check the body, the courses and the mode; then apply each change, in order."""
        dry_run = dry_run_requested(request)
        data = request.data  # parsed first: a 415 or a body that is no JSON claims no key
        if not dry_run:
            idempotency.key_of(request)  # a malformed Idempotency-Key is a 400 naming it alone, as on registrations
        enrollment = parse_enrollment_request(data, int(settings.TAHOE_REGISTRATION_API_ENROLL_MAX))
        self.audit_action = f"{enrollment.action}_dry_run" if dry_run else enrollment.action
        if (replay := self.replay_or_claim_key(request, dry_run)) is not None:
            return replay
        organization = request_organization(request)
        site_courses = SiteCourses(organization)
        site_courses.check(enrollment.courses)
        if enrollment.action == "enroll":
            site_courses.check_mode(enrollment.courses, enrollment.mode)
        results = Enrollments(
            site=request.site, organization=organization, caller=request.user, request_id=audit.request_id(request),
            secure=request.is_secure(), dry_run=dry_run, audit_action=self.audit_action,
        ).run(enrollment)
        return Response(enrollment_answer(enrollment, results, dry_run), status=status.HTTP_200_OK)
