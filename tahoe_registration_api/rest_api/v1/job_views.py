"""Registration jobs over HTTP: submit a CSV (or a bulk call's body), follow the job, read its results."""

from django.conf import settings
from django.db import transaction
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from rest_framework import status
from rest_framework.response import Response

from tahoe_registration_api import api, jobs, learner_csv
from tahoe_registration_api.adapter import platform_adapter
from tahoe_registration_api.exceptions import InvalidJobFile, JobNotFound, NotSiteAdmin, SiteNotFound
from tahoe_registration_api.i18n import gettext_noop
from tahoe_registration_api.rest_api.parsers import CsvStreamParser, JsonBodyParser
from tahoe_registration_api.rest_api.results import csv_lines
from tahoe_registration_api.rest_api.throttling import BulkCallRateThrottle
from tahoe_registration_api.rest_api.v1.bulk_views import bulk_learners
from tahoe_registration_api.rest_api.v1.permissions import request_organization
from tahoe_registration_api.rest_api.v1.views import TahoeApiView


def job_body(job):
    """Return the job's status as the API shows it."""
    def when(moment):
        return moment.isoformat().replace("+00:00", "Z") if moment else None
    body = {
        "job_id": str(job.pk), "status": job.status, "total": job.total, "processed": job.processed,
        "created": job.created_count, "failed": job.processed - job.created_count, "created_at": when(job.created_at),
        "started_at": when(job.started_at), "finished_at": when(job.finished_at),
    }
    if job.failure:
        body["failure"] = job.failure
    return body


class JobAccessMixin:
    """A job is seen by the admins of its site only; every other caller gets the same 404."""

    def check_permissions(self, request):
        """Answer 404 ``job-not-found`` instead of 403 to a caller who is not an admin of this site."""
        try:
            super().check_permissions(request)
        except (NotSiteAdmin, SiteNotFound) as exc:
            raise JobNotFound() from exc

    def job(self, request, job_id):
        """Return the job of this site, or raise ``JobNotFound``."""
        job = jobs.job_for(job_id, request.site)
        if job is None:
            raise JobNotFound()
        return job


@method_decorator(transaction.non_atomic_requests, name="dispatch")
class JobsView(TahoeApiView):
    """
    Submit a registration job: ``POST /tahoe/api/v1/registration-jobs/``.

    The body is a CSV (``Content-Type: text/csv``; a header row with ``username,email,name`` and
    optionally ``password,send_activation_email,language,ref``) or a bulk call's JSON body, of up
    to ``TAHOE_REGISTRATION_API_JOB_MAX_ROWS`` learners. Answers 202 ``{"job_id": ..., "status":
    "queued"}`` with ``Location``; a CSV that cannot be read is a 400 ``invalid-file`` naming the
    line, too many learners a 413. The job runs on the LMS's Celery workers.
    """

    audit_action = "job_create"
    throttle_classes = (BulkCallRateThrottle,)
    parser_classes = (JsonBodyParser, CsvStreamParser)
    body_limit_setting = "TAHOE_REGISTRATION_API_JOB_MAX_BODY_BYTES"

    def post(self, request):
        """Read the learners (the CSV line by line), write the job and its rows, queue it."""
        organization = request_organization(request)
        limit = int(settings.TAHOE_REGISTRATION_API_JOB_MAX_ROWS)
        if request.content_type.split(";")[0].strip().lower() == CsvStreamParser.media_type:
            stream = request.data
            if not hasattr(stream, "readline"):
                raise InvalidJobFile(1, gettext_noop("the body is empty; send the CSV."))
            items = learner_csv.read_learners(stream, platform_adapter().extension_field_names())
        else:
            items = ((index + 1, item) for index, item in enumerate(
                bulk_learners(request.data, limit, "TAHOE_REGISTRATION_API_JOB_MAX_ROWS")))
        job = jobs.create_job(items, site=request.site, organization=organization, caller=request.user,
                              secure=api.is_secure(request))
        response = Response({"job_id": str(job.pk), "status": job.status}, status=status.HTTP_202_ACCEPTED)
        response["Location"] = request.build_absolute_uri(reverse("tahoe-api:job", kwargs={"job_id": job.pk}))
        return response


class JobView(JobAccessMixin, TahoeApiView):
    """
    ``GET /tahoe/api/v1/registration-jobs/<job_id>/``: the job's status and counts.

    A job whose task shows no progress for ``TAHOE_REGISTRATION_API_JOB_HEARTBEAT_TIMEOUT`` (a
    worker that died, a lost message) has its task queued again as its status is read.
    """

    audit_action = None  # reading a job's counts changes nothing and reveals no learner
    throttle_classes = ()

    def get(self, request, job_id):
        """Answer the job's status; queue its task again when it shows no progress (its worker died)."""
        job = self.job(request, job_id)
        jobs.resume_if_stalled(job)
        return Response(job_body(job))


class JobResultsView(JobAccessMixin, TahoeApiView):
    """``GET /tahoe/api/v1/registration-jobs/<job_id>/results/``: one CSV line per input row."""

    audit_action = "job_results"
    throttle_classes = ()

    def get(self, request, job_id):
        """Stream the results CSV (rows not processed yet have an empty status)."""
        job = self.job(request, job_id)
        response = StreamingHttpResponse(csv_lines(jobs.result_rows(job)), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="registration-job-{job.pk}-results.csv"'
        return response
