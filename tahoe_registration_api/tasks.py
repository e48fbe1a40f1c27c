"""
The plugin's Celery tasks, where the LMS's Celery app looks for them (``autodiscover_tasks``).

They run on the LMS's own workers: ``deliver_outbox_message`` (``outbox.py``) sends what a
committed registration owes (a learner's email); ``run_registration_job`` (``jobs.py``)
registers a registration job's learners, a slice at a time.
"""

from tahoe_registration_api.jobs import run_registration_job  # noqa: F401  pylint: disable=unused-import
from tahoe_registration_api.outbox import (  # noqa: F401  pylint: disable=unused-import
    deliver_outbox_message,
    send_registration_email_queued_before_the_outbox,
    sweep_outbox,
)
