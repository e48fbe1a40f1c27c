"""
The audit trail: one structured record per registration attempt, never a secret.

Each record is logged (the logger ``tahoe_registration_api.audit``) and kept in the audit store
(``AuditEntry``), which the site's admins see on the token page; entries older than
``TAHOE_REGISTRATION_API_AUDIT_RETENTION_DAYS`` are purged as new ones are written.
"""

import json
import logging
import re
import uuid

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from tahoe_registration_api.models import AuditEntry
from tahoe_registration_api.purging import Retention, days_setting

log = logging.getLogger("tahoe_registration_api.audit")

# A process purges the store at most once every 10 minutes, 1,000 entries at a time.
RETENTION = Retention(AuditEntry, "created", days_setting("TAHOE_REGISTRATION_API_AUDIT_RETENTION_DAYS"),
                      interval=600, batch=1000)

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def request_id(request):
    """Return the caller's X-Request-ID when it is a plain token, else a new one; kept on the request."""
    if not hasattr(request, "_tahoe_request_id"):
        given = request.META.get("HTTP_X_REQUEST_ID", "")
        request._tahoe_request_id = given if _SAFE_REQUEST_ID.match(given) else uuid.uuid4().hex
    return request._tahoe_request_id


def _site(request):
    """Return the request's site; None when it cannot be resolved (e.g. the database is down)."""
    try:
        site = getattr(request, "site", None)
        getattr(site, "domain", None)  # a lazy site is looked up here
        return site
    except DatabaseError:
        return None


def _caller_id(request):
    """Return the authenticated caller's id; None when anonymous or when authentication itself failed."""
    try:
        user = getattr(request, "user", None)  # DRF re-runs a failed authentication here
    except Exception:  # pylint: disable=broad-except
        return None
    return user.pk if user is not None and user.is_authenticated else None


OUTCOMES = {
    "register": "registered", "dry_run": "checked", "resend": "email-queued",
    "bulk_register": "bulk-processed", "bulk_dry_run": "bulk-checked",
    "job_create": "job-queued", "job_results": "job-results-read",
    "token_created": "created", "token_rotated": "rotated", "token_revoked": "revoked",
    "enroll": "enrollments-processed", "unenroll": "enrollments-processed",
    "enroll_dry_run": "enrollments-checked", "unenroll_dry_run": "enrollments-checked",
    "learner_update": "learner-updated", "learner_update_dry_run": "learner-checked",
    "scim_create": "registered", "scim_replace": "learner-updated", "scim_update": "learner-updated",
    "scim_delete": "learner-deprovisioned",
    "webhook_create": "webhook-created", "webhook_delete": "webhook-removed", "webhook_rotate": "webhook-rotated",
    "webhook_enable": "webhook-enabled",
}
# A learner's outcome in the pipeline's words, as the audit trail names it.
LEARNER_OUTCOMES = {"created": "registered", "checked": "checked", "exists": "exists", "refused": "refused"}
TOKEN_ACTIONS = ("token_created", "token_rotated", "token_revoked")
OPERATOR_ACTIONS = ("import", "import_dry_run")  # an operator's command line: no caller


def _record(event, action, *, request_id, caller_id, site, status, outcome,  # pylint: disable=too-many-arguments
            method=None, error_code=None, learner_id=None, error_fields=()):
    """Build one audit record (never a password, token, email or name), log it, and return it to be stored."""
    record = {
        "event": event, "action": action, "request_id": request_id, "caller_id": caller_id,
        "site": getattr(site, "domain", None), "method": method, "status": status, "outcome": outcome,
        "error_code": error_code, "learner_id": learner_id, "error_fields": sorted(error_fields or ()),
    }
    log.info("%s %s", event, json.dumps(record, sort_keys=True), extra={"audit": record})
    return record


def record_attempt(request, response, action="register", learner_id=None):
    """
    Log and store who tried what (register, dry_run, resend, ...) on which site, and how it ended.

    The learner is the answer's ``user_id``, else ``learner_id`` (a change refused once its learner was found).
    """
    body = getattr(response, "data", None)
    body = body if isinstance(body, dict) else {}
    site = _site(request)
    record = _record(
        "registration_attempt", action, request_id=request_id(request), caller_id=_caller_id(request), site=site,
        method=request.method, status=response.status_code,
        outcome=OUTCOMES[action] if 200 <= response.status_code < 300 else "refused",
        error_code=body.get("error_code"), learner_id=body.get("user_id", learner_id),
        error_fields=body.get("field_errors"),
    )
    store([record], site)
    return record


def record_learner(action, site, caller_id, request_id, outcome):  # pylint: disable=redefined-outer-name
    """
    Log one learner of a batch (a bulk call, a job, an import) and return its record, for ``store``.

    ``outcome`` is its ``pipeline.LearnerOutcome``: the record keeps its result (``registered``,
    ``checked``, ``exists`` or ``refused``) and error code, and no HTTP status (a learner of a batch
    has none of its own); ``caller_id`` is the admin who asked (None for an operator's import);
    ``request_id`` ties the learners of one call, job or import run together.
    """
    error = outcome.error
    result = LEARNER_OUTCOMES.get(outcome.result, outcome.result)
    return _record(
        "registration_attempt", action, request_id=request_id, caller_id=caller_id, site=site, status=None,
        outcome=result, error_code=getattr(error, "error_code", None), learner_id=outcome.user_id,
        error_fields=getattr(error, "field_errors", None),
    )


def record_change(action, site, caller_id, request_id, *, outcome,  # pylint: disable=redefined-outer-name
                  learner_id=None, error_code=None):
    """
    Log one change of an enrollment call (a learner or an address in a course) and return its record, for ``store``.

    ``outcome`` says what changed (``enrolled``, ``pre-enrolled``, ``unenrolled``, ``unchanged``,
    ``invalid-identifier``, ``error``, ...); ``learner_id`` is the site's learner, None for an address.
    """
    return _record("enrollment_change", action, request_id=request_id, caller_id=caller_id, site=site, status=None,
                   outcome=outcome, error_code=error_code, learner_id=learner_id)


def record_token_change(request, action):
    """Log and store that the signed-in admin created, rotated or revoked their API token (never the key)."""
    return record_page_change(request, action, "token_change")


def record_page_change(request, action, event):
    """Log and store a change the signed-in admin made on the token page: its ``event`` and ``action``, no secret."""
    site = _site(request)
    record = _record(event, action, request_id=request_id(request), caller_id=_caller_id(request),
                     site=site, method=request.method, status=200, outcome=OUTCOMES[action])
    store([record], site)
    return record


def store(records, site):
    """
    Keep audit ``records`` (as ``_record`` builds them) in the audit store, for ``site``, in one statement.

    A batch (a bulk call, a chunk of a job) stores its learners' records together. A failure to
    write (the database is down) is logged and never reaches the caller's answer. The retention
    purge runs after the commit, never inside the caller's transaction.
    """
    if not records:
        return
    try:
        entries = [AuditEntry(
            created=timezone.now(), site_id=site.pk if site is not None else None,
            caller_id=record["caller_id"], action=record["action"], status=record["status"],
            outcome=record["outcome"], error_code=(record["error_code"] or "")[:64],
            learner_id=record["learner_id"], request_id=(record["request_id"] or "")[:64],
        ) for record in records]
        if connection.in_atomic_block:  # a savepoint: a failed insert leaves the request's transaction usable
            with transaction.atomic():
                _insert(entries)
        else:  # one statement, atomic on its own
            _insert(entries)
        transaction.on_commit(_purge_quietly)
    except Exception:  # pylint: disable=broad-except
        log.warning("The audit entries of request %s were not stored.", records[0]["request_id"], exc_info=True)


def _insert(entries):
    """Insert the entries in one statement (``bulk_create`` would add a transaction around a lone one)."""
    if len(entries) == 1:
        entries[0].save(force_insert=True)
    else:
        AuditEntry.objects.bulk_create(entries)


def _purge_quietly():
    """Run the purge when it is due; a failure is logged (the entries wait for the next one)."""
    try:
        RETENTION.purge_if_due()
    except Exception:  # pylint: disable=broad-except
        log.warning("The audit store's purge failed.", exc_info=True)
