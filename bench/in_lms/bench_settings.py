"""
The real LMS as ``make bench-platform`` serves it (gunicorn workers, Celery worker, and the bench).

The platform suite's settings (``platform_tests/lms_settings.py``: ``lms.envs.test`` with the
plugin enabled as docs/operators.rst says) changed where they differ from a production LMS in what a
registration costs:

* MariaDB (``DATABASE_URL``), ``ATOMIC_REQUESTS`` and ``CONN_MAX_AGE`` 0 as ``lms/envs/common.py``;
* the production password hasher: ``lms.envs.test`` uses MD5, and ``lms/envs/common.py`` names none,
  so production runs Django's default, PBKDF2 (counted here by a subclass of the same algorithm);
* sessions in the cache, as ``lms/envs/production.py``;
* Celery not eager: tasks go to the bench's Redis broker (``BENCH_BROKER_URL``);
* mail counted and dropped in the web workers (``devlms.metrics.CountingEmailBackend``), or
  written to files by the Celery worker (``BENCH_MAIL_DIR``);
* the platform registration view's rate limit raised, and the plugin's off, for the run;
* the outbox's hand-over grace longer than the whole run: the bench has every email and event
  delivered at its end (a production LMS's workers deliver them within seconds), so with the
  default (600 s) the sweep would hand the first phases' messages over again, in batches of 500,
  inside the later phases' measurements;
* registration jobs on their own queue (``TAHOE_REGISTRATION_API_JOB_QUEUE`` from the environment,
  which ``bench/platform_run.py`` sets for itself and the workers it starts), consumed only by the
  job workers of the job phase; ``TAHOE_REGISTRATION_API_JOB_PARALLELISM`` likewise, if set.
"""
# pylint: disable=wildcard-import,unused-wildcard-import
import os
import sys
from pathlib import Path
from urllib.parse import urlparse

from lms_settings import *  # noqa: F401,F403

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))  # devlms.metrics; appended, so the plugin stays the pip-installed one

DEBUG = False

_URL = urlparse(os.environ["DATABASE_URL"])
_MARIADB = {
    "ENGINE": "django.db.backends.mysql",
    "NAME": _URL.path.lstrip("/"),
    "USER": _URL.username,
    "PASSWORD": _URL.password,
    "HOST": _URL.hostname,
    "PORT": str(_URL.port),
    "ATOMIC_REQUESTS": True,
    "CONN_MAX_AGE": 0,
    "OPTIONS": {"charset": "utf8mb4"},
}
DATABASES = {"default": _MARIADB, "student_module_history": dict(_MARIADB, ATOMIC_REQUESTS=False)}

# Alone in the list: Django verifies a password with the last hasher of its algorithm, so a plain
# PBKDF2 hasher after this one would verify (the platform view's log-in) without being counted.
PASSWORD_HASHERS = ["devlms.metrics.CountingPBKDF2PasswordHasher"]
SESSION_ENGINE = "django.contrib.sessions.backends.cache"

CELERY_ALWAYS_EAGER = False
BROKER_URL = os.environ.get("BENCH_BROKER_URL", "memory://")
if os.environ.get("BENCH_MAIL_DIR"):
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = os.environ["BENCH_MAIL_DIR"]
else:
    EMAIL_BACKEND = "devlms.metrics.CountingEmailBackend"

REGISTRATION_RATELIMIT = "1000000/m"
TAHOE_REGISTRATION_API_RATE = None
TAHOE_REGISTRATION_API_BULK_RATE = TAHOE_REGISTRATION_API_BULK_LEARNER_RATE = None

TAHOE_REGISTRATION_API_OUTBOX_HANDOVER_GRACE = 3 * 3600

if os.environ.get("TAHOE_REGISTRATION_API_JOB_QUEUE"):
    TAHOE_REGISTRATION_API_JOB_QUEUE = os.environ["TAHOE_REGISTRATION_API_JOB_QUEUE"]
if os.environ.get("TAHOE_REGISTRATION_API_JOB_PARALLELISM"):
    TAHOE_REGISTRATION_API_JOB_PARALLELISM = int(os.environ["TAHOE_REGISTRATION_API_JOB_PARALLELISM"])

if os.environ.get("DEVLMS_METRICS_DIR"):
    MIDDLEWARE.insert(0, "devlms.metrics.MetricsMiddleware")  # noqa: F405
