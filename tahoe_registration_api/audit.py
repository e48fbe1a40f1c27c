"""The audit trail: one structured record per registration attempt, never a secret."""

import json
import logging
import re
import uuid

from django.db import DatabaseError

log = logging.getLogger("tahoe_registration_api.audit")

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
    return record
