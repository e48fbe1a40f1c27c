"""
The events a site's webhooks hear, written into the outbox in the transaction of what they report.

An event is one outbox message (kind ``event``) whatever the number of endpoints: the outbox's
worker fans it out (``delivery``). Its payload is Standard Webhooks' envelope, ``type``,
``timestamp`` (when it happened) and ``data``; the fan-out adds the site to ``data``. The
``webhook-id`` of its deliveries (``msg_`` and 32 hex digits) is fixed here, so every attempt
and every endpoint gets the same one. Never a password, a token or a link.
"""

import uuid

from django.utils import timezone

from tahoe_registration_api import outbox

EVENT = "event"  # the outbox kind of an event (fanned out to the endpoints)

LEARNER_REGISTERED = "learner.registered"
LEARNER_UPDATED = "learner.updated"
LEARNER_DISABLED = "learner.disabled"
LEARNER_ENABLED = "learner.enabled"
ENROLLMENT_CREATED = "enrollment.created"
ENROLLMENT_DEACTIVATED = "enrollment.deactivated"
JOB_COMPLETED = "registration_job.completed"
EVENT_TYPES = (LEARNER_REGISTERED, LEARNER_UPDATED, LEARNER_DISABLED, LEARNER_ENABLED,
               ENROLLMENT_CREATED, ENROLLMENT_DEACTIVATED, JOB_COMPLETED)


def event(event_type, site_id, data, user_id=None):
    """Return (unsaved, for ``outbox.owe``) the outbox message of one event of ``site_id``."""
    envelope = {
        "webhook_id": f"msg_{uuid.uuid4().hex}",
        "type": event_type,
        "timestamp": timezone.now().isoformat().replace("+00:00", "Z"),
        "data": data,
    }
    return outbox.message_of(EVENT, event_type, site_id, user_id, envelope)


def learner_registered(user, site_id, courses=()):
    """Return the event of a learner registered on the site (and enrolled in ``courses``)."""
    return event(LEARNER_REGISTERED, site_id, {"user_id": user.pk, "courses": [str(key) for key in courses]},
                 user_id=user.pk)


def learner_updated(user, site_id, changed):
    """Return the event of a learner whose ``changed`` fields (names) were changed."""
    return event(LEARNER_UPDATED, site_id, {"user_id": user.pk, "changed": sorted(changed)}, user_id=user.pk)


def learner_switched(user, site_id, disabled):
    """Return the event of a learner switched off (``disabled``) or on again."""
    return event(LEARNER_DISABLED if disabled else LEARNER_ENABLED, site_id, {"user_id": user.pk}, user_id=user.pk)


def enrollment(user, site_id, course_id, mode, active):
    """Return the event of a learner enrolled in a course (``active``) or unenrolled from it."""
    return event(ENROLLMENT_CREATED if active else ENROLLMENT_DEACTIVATED, site_id,
                 {"user_id": user.pk, "course_id": str(course_id), "mode": mode}, user_id=user.pk)


def job_completed(job):
    """Return the event of a registration job that finished (done or failed)."""
    return event(JOB_COMPLETED, job.site_id, {
        "job_id": str(job.pk), "status": job.status, "total": job.total, "processed": job.processed,
        "created": job.created_count, "failed": job.processed - job.created_count,
        "finished_at": job.finished_at.isoformat().replace("+00:00", "Z") if job.finished_at else None,
    })
