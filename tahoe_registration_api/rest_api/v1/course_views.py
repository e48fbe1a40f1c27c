"""The site's courses: ``GET /tahoe/api/v1/courses/`` and ``GET /tahoe/api/v1/courses/<course_id>/``."""

from rest_framework.response import Response

from tahoe_registration_api.courses import SiteCourses
from tahoe_registration_api.exceptions import CourseNotFound
from tahoe_registration_api.rest_api.pagination import ListPagination
from tahoe_registration_api.rest_api.query import text_param
from tahoe_registration_api.rest_api.v1.permissions import request_organization
from tahoe_registration_api.rest_api.v1.serializers import CourseSerializer
from tahoe_registration_api.rest_api.v1.views import TahoeApiView


class CoursesView(TahoeApiView):
    """
    List the courses of the site named by the request's Host: those its organization holds, as the platform has them.

    Paginated (``?page=``, ``?page_size=`` up to 500), ordered by course key; filters ``org`` and
    ``number`` (the key's, exactly, case aside) and ``display_name`` (contained, case aside). Each
    course has ``id`` (its key), ``display_name``, ``org``, ``number``, ``start``, ``end``,
    ``enrollment_start``, ``enrollment_end`` and ``modes`` (``slug``, ``name``, ``min_price``,
    ``currency``, ``expiration_datetime``). The credentials, switches and rate limit of a registration.
    """

    audit_action = None  # reads are not audited

    def get(self, request):
        """Answer a page of the site's courses."""
        filters = {name: text_param(request, name) for name in ("org", "number", "display_name")}
        site_courses = SiteCourses(request_organization(request))
        paginator = ListPagination()
        page = paginator.paginate_queryset(site_courses.listed(**filters), request, view=self)
        courses = site_courses.adapter.describe_courses(page)
        return paginator.get_paginated_response(CourseSerializer(courses, many=True).data)


class CourseView(TahoeApiView):
    """One course of the site; 404 ``course-not-found`` for any other key (of another site, of no course, malformed)."""

    audit_action = None

    def get(self, request, course_id):
        """Answer the course."""
        site_courses = SiteCourses(request_organization(request))
        if site_courses.unknown([course_id]):
            raise CourseNotFound(f"No course {course_id!r} on this site.")
        [course] = site_courses.adapter.describe_courses(site_courses.check([course_id]))
        return Response(CourseSerializer(course).data)
