"""
The plugin's Celery tasks, where the LMS's Celery app looks for them (``autodiscover_tasks``).

They run on the LMS's own workers: ``send_registration_email`` (``emails.py``) sends a new
learner's email after the registration committed; ``run_registration_job`` (``jobs.py``)
registers a registration job's learners, a slice at a time.
"""

from tahoe_registration_api.emails import (  # noqa: F401  pylint: disable=unused-import
    ACTIVATION,
    EMAILS,
    PASSWORD_RESET,
    queue_registration_email,
    send_registration_email,
)
from tahoe_registration_api.jobs import run_registration_job  # noqa: F401  pylint: disable=unused-import
