"""
The LMS's own test settings, with this plugin enabled as docs/operators.rst tells an operator.

Derived from ``lms.envs.test``: the plugin is found through its ``lms.djangoapp`` entry point
(it is pip-installed into the LMS's environment) and its ``test`` settings hook has run.
"""
# pylint: disable=wildcard-import,unused-wildcard-import
import json
import os
import tempfile

from lms.envs.test import *  # noqa: F401,F403

# The operator's one setting (docs/operators.rst, "Enabling it").
TAHOE_REGISTRATION_API_ENABLED = True

ALLOWED_HOSTS = ["*"]

# An operator's extension form (platform_tests/profile_extension: a model linked to the user, its
# ModelForm, its migration). REGISTRATION_EXTENSION_FORM names it only in the tests that set it.
INSTALLED_APPS = [*INSTALLED_APPS, "profile_extension"]  # noqa: F405

# The platform's own catalogues of other languages are not in this LMS's checkout: an operator's
# image gets them from openedx-translations with `atlas pull` (into conf/locale). The small es_419
# catalogue in platform_tests/locale stands for that one, and holds only the platform's activation
# and password-reset emails (their msgids are the LMS's templates', the Spanish is written for these
# tests), so that the suite shows a learner whose language is es-419 getting the platform's email in
# Spanish. The plugin's own catalogues ship in its package (tahoe_registration_api/locale).
LOCALE_PATHS = [*LOCALE_PATHS, os.path.join(os.path.dirname(os.path.abspath(__file__)), "locale")]  # noqa: F405

# lms.envs.test's default cache is a DummyCache; production LMSs run memcached or redis, in which
# sessions (production.py), rate limits and the plugin's look-ups are kept. A local memory cache
# behaves like them within one process.
CACHES["default"] = {  # noqa: F405
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "tahoe-platform-tests",
}


class PlatformAppsWithoutMigrations(dict):
    """
    The platform's migrations do not run on sqlite (MySQL-only data migrations).

    Its tables are created from its models, as its own test suite does (``--nomigrations``);
    the plugin's own migrations run, as they do when an operator runs ``migrate``, and so do the
    extension form's app's.
    """

    KEEP = {"tahoe_registration_api", "profile_extension"}

    def __contains__(self, app_label):
        return app_label not in self.KEEP

    def __getitem__(self, app_label):
        return None


MIGRATION_MODULES = PlatformAppsWithoutMigrations()

# The LMS's task router reads EXPLICIT_QUEUES and ALTERNATE_ENV_TASKS, which lms.envs.production
# defines (operators add routes to them) and lms.envs.test, where tasks never leave the process,
# does not.
EXPLICIT_QUEUES = {}
ALTERNATE_ENV_TASKS = {}

# The suite's database is a file, not sqlite's shared memory, so that a Celery worker the suite
# starts (another process: platform_tests/worker.py) reads what a test committed.
DATABASES["default"]["TEST"] = {  # noqa: F405
    "NAME": os.environ.get("TAHOE_PLATFORM_TEST_DB")
    or os.path.join("/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir(),
                    f"tahoe-platform-tests-{os.getpid()}.sqlite3"),
}

if os.environ.get("TAHOE_PLATFORM_WORKER_BROKER"):
    # This process is that worker: the test's database, the test's broker, and mail written to files.
    DATABASES["default"]["NAME"] = os.environ["TAHOE_PLATFORM_WORKER_DB"]  # noqa: F405
    CELERY_ALWAYS_EAGER = False
    BROKER_URL = os.environ["TAHOE_PLATFORM_WORKER_BROKER"]
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = os.environ["TAHOE_PLATFORM_WORKER_MAIL_DIR"]
    # A test that kills a worker mid-job has the broker hand its task to the next worker within
    # seconds (Redis keeps an unacknowledged task an hour by default), and the job resumed at once.
    if os.environ.get("TAHOE_PLATFORM_WORKER_VISIBILITY_TIMEOUT"):
        BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(os.environ["TAHOE_PLATFORM_WORKER_VISIBILITY_TIMEOUT"])}
        TAHOE_REGISTRATION_API_JOB_HEARTBEAT_TIMEOUT = int(os.environ["TAHOE_PLATFORM_WORKER_VISIBILITY_TIMEOUT"])
    # A test of jobs on several workers (test_jobs_parallel.py) sets how many chunks of a job run at once,
    # the queues of the job's tasks and of the outbox's (each worker consumes the ones it is given), and a
    # heartbeat timeout of seconds (alone: the broker's visibility timeout stays Redis's hour).
    if os.environ.get("TAHOE_PLATFORM_WORKER_JOB_PARALLELISM"):
        TAHOE_REGISTRATION_API_JOB_PARALLELISM = int(os.environ["TAHOE_PLATFORM_WORKER_JOB_PARALLELISM"])
    if os.environ.get("TAHOE_PLATFORM_WORKER_JOB_QUEUE"):
        TAHOE_REGISTRATION_API_JOB_QUEUE = os.environ["TAHOE_PLATFORM_WORKER_JOB_QUEUE"]
    if os.environ.get("TAHOE_PLATFORM_WORKER_EMAIL_QUEUE"):
        TAHOE_REGISTRATION_API_EMAIL_QUEUE = os.environ["TAHOE_PLATFORM_WORKER_EMAIL_QUEUE"]
    if os.environ.get("TAHOE_PLATFORM_WORKER_JOB_HEARTBEAT_TIMEOUT"):
        TAHOE_REGISTRATION_API_JOB_HEARTBEAT_TIMEOUT = int(os.environ["TAHOE_PLATFORM_WORKER_JOB_HEARTBEAT_TIMEOUT"])
    # A test of the outbox has the worker's leases and grace run out within seconds, and its sweeps run often.
    if os.environ.get("TAHOE_PLATFORM_WORKER_OUTBOX_SECONDS"):
        TAHOE_REGISTRATION_API_OUTBOX_LEASE = int(os.environ["TAHOE_PLATFORM_WORKER_OUTBOX_SECONDS"])
        TAHOE_REGISTRATION_API_OUTBOX_HANDOVER_GRACE = int(os.environ["TAHOE_PLATFORM_WORKER_OUTBOX_SECONDS"])
        TAHOE_REGISTRATION_API_OUTBOX_SWEEP_INTERVAL = 1
    # A test of webhooks has the worker post to its receiver on the loopback (http) with short timeouts and
    # retries: a JSON object of the plugin's TAHOE_REGISTRATION_API_WEBHOOK_* settings, as the test sets them too.
    if os.environ.get("TAHOE_PLATFORM_WORKER_WEBHOOK_SETTINGS"):
        for _name, _value in json.loads(os.environ["TAHOE_PLATFORM_WORKER_WEBHOOK_SETTINGS"]).items():
            if not _name.startswith("TAHOE_REGISTRATION_API_WEBHOOK_"):
                raise ValueError(f"TAHOE_PLATFORM_WORKER_WEBHOOK_SETTINGS sets only webhook settings, not {_name}.")
            globals()[_name] = _value
    # A test that kills the worker at a point of the outbox's protocol names the point and the learner
    # ("before-send:ada"): the worker's process exits there (os._exit: no cleanup, as a SIGKILL).
    if os.environ.get("TAHOE_PLATFORM_WORKER_DIES"):
        from worker import die_at  # pylint: disable=wrong-import-position

        die_at(os.environ["TAHOE_PLATFORM_WORKER_DIES"])
