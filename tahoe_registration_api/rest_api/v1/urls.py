"""URLs of the v1 API (under ``/tahoe/api/v1/``)."""

from django.urls import path, re_path

from tahoe_registration_api.rest_api.v1.bulk_views import BulkRegistrationView
from tahoe_registration_api.rest_api.v1.course_views import CoursesView, CourseView
from tahoe_registration_api.rest_api.v1.enrollment_views import EnrollmentsView
from tahoe_registration_api.rest_api.v1.job_views import JobResultsView, JobsView, JobView
from tahoe_registration_api.rest_api.v1.learner_views import LearnersView, LearnerView
from tahoe_registration_api.rest_api.v1.views import RegistrationView, ResendView
from tahoe_registration_api.rest_api.v1.webhook_views import (
    WebhookDeliveriesView,
    WebhookEnableView,
    WebhookRotateView,
    WebhooksView,
    WebhookView,
)


def both(route, view, name=None):
    """Route ``route`` and, since Django cannot redirect a POST to add it, the same without its trailing slash."""
    return [path(route, view, name=name), path(route.rstrip("/"), view)]


urlpatterns = [
    *both("registrations/", RegistrationView.as_view(), name="registrations"),
    *both("registrations/bulk/", BulkRegistrationView.as_view(), name="bulk"),
    *both("registrations/<int:user_id>/resend/", ResendView.as_view(), name="resend"),
    *both("registration-jobs/", JobsView.as_view(), name="jobs"),
    *both("registration-jobs/<uuid:job_id>/", JobView.as_view(), name="job"),
    *both("registration-jobs/<uuid:job_id>/results/", JobResultsView.as_view(), name="job-results"),
    *both("courses/", CoursesView.as_view(), name="courses"),
    # A course key holds ":" and "+" (never "/" in the keys of today's courses).
    re_path(r"^courses/(?P<course_id>[^/]+)/?$", CourseView.as_view(), name="course"),
    *both("enrollments/", EnrollmentsView.as_view(), name="enrollments"),
    *both("learners/", LearnersView.as_view(), name="learners"),
    *both("learners/<int:user_id>/", LearnerView.as_view(), name="learner"),
    *both("webhooks/", WebhooksView.as_view(), name="webhooks"),
    *both("webhooks/<int:webhook_id>/", WebhookView.as_view(), name="webhook"),
    *both("webhooks/<int:webhook_id>/rotate/", WebhookRotateView.as_view(), name="webhook-rotate"),
    *both("webhooks/<int:webhook_id>/enable/", WebhookEnableView.as_view(), name="webhook-enable"),
    *both("webhooks/<int:webhook_id>/deliveries/", WebhookDeliveriesView.as_view(), name="webhook-deliveries"),
]
