"""
The development LMS's Celery app, as the LMS has its own (``lms/celery.py``).

The plugin's tasks are ``shared_task``s: they run on whichever app the host configured. Here,
by default, tasks run eagerly in the web process right after the registration commits
(``CELERY_TASK_ALWAYS_EAGER``); the settings read ``CELERY_*`` names.
"""

from celery import Celery

app = Celery("devlms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
