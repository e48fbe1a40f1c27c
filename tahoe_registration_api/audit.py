"""
The audit trail: one structured record per registration attempt, never a secret.

Each record is logged (the logger ``tahoe_registration_api.audit``) and kept in the audit store
(``AuditEntry``), which the site's admins see on the token page; entries older than
``TAHOE_REGISTRATION_API_AUDIT_RETENTION_DAYS`` are purged as new ones are written.
"""

import json
import logging
import re
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from tahoe_registration_api.models import AuditEntry

log = logging.getLogger("tahoe_registration_api.audit")

# A process purges the store at most once per PURGE_INTERVAL seconds, PURGE_BATCH entries at a
# time; a full batch (a backlog) lets the next write purge again.
PURGE_INTERVAL = 600
PURGE_BATCH = 1000
_next_purge = {"at": 0.0}

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def request_id(request):
    """Return the caller's X-Request-ID when it is a plain token, else a new one; kept on the request."""
    if not hasattr(request, "_tahoe_request_id"):
        given = request.META.get("HTTP_X_REQUEST_ID", "")
        request._tahoe_request_id = given if _SAFE_REQUEST_ID.match(given) else uuid.uuid4().hex
    return request._tahoe_request_id


def _site_domain(request):
    """Return the request's site domain; None when it cannot be resolved (e.g. the database is down)."""
    try:
        site = getattr(request, "site", None)
        return getattr(site, "domain", None) if site is not None else None
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
}


def record_attempt(request, response, action="register"):
    """Log who tried what (register, dry_run, resend) on which site, and how it ended (status, code, learner)."""
    body = getattr(response, "data", None)
    body = body if isinstance(body, dict) else {}
    record = {
        "event": "registration_attempt",
        "action": action,
        "request_id": request_id(request),
        "caller_id": _caller_id(request),
        "site": _site_domain(request),
        "method": request.method,
        "status": response.status_code,
        "outcome": OUTCOMES[action] if 200 <= response.status_code < 300 else "refused",
        "error_code": body.get("error_code"),
        "learner_id": body.get("user_id"),
        "error_fields": sorted(body.get("field_errors") or {}),
    }
    log.info("registration_attempt %s", json.dumps(record, sort_keys=True), extra={"audit": record})
    store(record, getattr(request, "site", None))
    return record


BATCH_ACTIONS = ("bulk_register", "bulk_dry_run", "job_register", "import", "import_dry_run")


def record_learner(action, site, caller_id, request_id, outcome):
    """
    Log and store one learner of a batch (a bulk call, a job, an import): ``outcome`` is its ``LearnerOutcome``.

    ``caller_id`` is the admin who asked (None for an operator's import); ``request_id`` ties the
    learners of one call, job or import run together.
    """
    error = outcome.error
    exists = outcome.status == "exists"
    status = 200 if exists else int(outcome.status)
    if exists:
        result = "exists"
    elif status == 200:
        result = "checked" if action.endswith("dry_run") else "registered"
    else:
        result = "refused"
    record = {
        "event": "registration_attempt",
        "action": action,
        "request_id": request_id,
        "caller_id": caller_id,
        "site": getattr(site, "domain", None),
        "method": None,
        "status": status,
        "outcome": result,
        "error_code": getattr(error, "error_code", None),
        "learner_id": outcome.user_id,
        "error_fields": sorted(getattr(error, "field_errors", None) or {}),
    }
    log.info("registration_attempt %s", json.dumps(record, sort_keys=True), extra={"audit": record})
    store(record, site)
    return record


TOKEN_OUTCOMES = {"token_created": "created", "token_rotated": "rotated", "token_revoked": "revoked"}


def record_token_change(request, action):
    """Log and store that the signed-in admin created, rotated or revoked their API token (never the key)."""
    record = {
        "event": "token_change",
        "action": action,
        "request_id": request_id(request),
        "caller_id": _caller_id(request),
        "site": _site_domain(request),
        "method": request.method,
        "status": 200,
        "outcome": TOKEN_OUTCOMES[action],
        "error_code": None,
        "learner_id": None,
        "error_fields": [],
    }
    log.info("token_change %s", json.dumps(record, sort_keys=True), extra={"audit": record})
    store(record, getattr(request, "site", None))
    return record


def store(record, site):
    """
    Keep one audit ``record`` (as ``record_attempt`` builds it) in the audit store, for ``site``.

    Callers that act for many learners in one request store one record per learner. A failure
    to write (the database is down) is logged and never reaches the caller's answer.
    """
    try:
        entry = AuditEntry(
            created=timezone.now(),
            site_id=site.pk if site is not None else None,
            caller_id=record.get("caller_id"),
            action=record["action"][:32],
            status=record["status"],
            outcome=record["outcome"][:32],
            error_code=(record.get("error_code") or "")[:64],
            learner_id=record.get("learner_id"),
            request_id=(record.get("request_id") or "")[:64],
        )
        if connection.in_atomic_block:  # a savepoint: a failed insert leaves the request's transaction usable
            with transaction.atomic():
                entry.save(force_insert=True)
        else:  # one statement, atomic on its own
            entry.save(force_insert=True)
        purge_if_due()
    except Exception:  # pylint: disable=broad-except
        log.warning("The audit entry of request %s was not stored.", record.get("request_id"), exc_info=True)


def purge_if_due():
    """Delete the entries older than the retention, at most once per PURGE_INTERVAL seconds of this process."""
    if time.monotonic() < _next_purge["at"]:
        return 0
    _next_purge["at"] = time.monotonic() + PURGE_INTERVAL
    deleted = purge()
    if deleted >= PURGE_BATCH:
        _next_purge["at"] = 0.0  # a backlog: the next write purges the next batch
    return deleted


def purge():
    """Delete at most PURGE_BATCH entries older than TAHOE_REGISTRATION_API_AUDIT_RETENTION_DAYS; return how many."""
    cutoff = timezone.now() - timedelta(days=settings.TAHOE_REGISTRATION_API_AUDIT_RETENTION_DAYS)
    # The ids first: MySQL cannot delete through a LIMITed subquery.
    ids = list(AuditEntry.objects.filter(created__lt=cutoff).order_by("created").values_list("pk", flat=True)
               [:PURGE_BATCH])
    if ids:
        AuditEntry.objects.filter(pk__in=ids).delete()
    return len(ids)
