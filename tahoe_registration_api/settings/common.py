"""Settings of the plugin shared by every environment; the LMS calls ``plugin_settings``."""

DEFAULTS = {
    # The global switch; its toggle annotation is in tahoe_registration_api/switches.py.
    "TAHOE_REGISTRATION_API_ENABLED": False,
    # .. setting_name: TAHOE_REGISTRATION_API_DISABLE_FOR_IDP_SITES
    # .. setting_default: False
    # .. setting_description: When true, the API is off on sites whose learners sign in through an
    #   external identity provider (tahoe-idp: ``ENABLE_TAHOE_IDP`` in the site's configuration or in
    #   ``FEATURES``), whatever the switches above say.
    "TAHOE_REGISTRATION_API_DISABLE_FOR_IDP_SITES": False,
    # .. setting_name: TAHOE_REGISTRATION_API_ALLOW_STAFF
    # .. setting_default: False
    # .. setting_description: When true, active platform staff and superusers may register learners
    #   on any site; otherwise only the site's own active admins may.
    "TAHOE_REGISTRATION_API_ALLOW_STAFF": False,
    # .. setting_name: TAHOE_REGISTRATION_API_RATE
    # .. setting_default: "60/m"
    # .. setting_description: Registrations allowed per caller and site (django-ratelimit syntax:
    #   count/period, period s, m, h or d). Counted by django-ratelimit in the cache named by the LMS's
    #   RATELIMIT_USE_CACHE (default "default": memcached or redis in production), so every app server
    #   shares one count. None switches rate limiting off.
    "TAHOE_REGISTRATION_API_RATE": "60/m",
    # .. setting_name: TAHOE_REGISTRATION_API_MAX_BODY_BYTES
    # .. setting_default: 16384
    # .. setting_description: The largest request body accepted; a larger one answers 413.
    "TAHOE_REGISTRATION_API_MAX_BODY_BYTES": 16384,
    # .. setting_name: TAHOE_REGISTRATION_API_DEADLOCK_RETRIES
    # .. setting_default: 6
    # .. setting_description: How many times a registration is retried, after a random wait that
    #   grows with each attempt (at most 0.2 s), when the database reports a deadlock or a lock wait
    #   timeout, before the caller gets a 503.
    "TAHOE_REGISTRATION_API_DEADLOCK_RETRIES": 6,
    # .. setting_name: TAHOE_REGISTRATION_API_CACHE_TIMEOUT
    # .. setting_default: 30
    # .. setting_description: Seconds a site's switches (its configuration's
    #   TAHOE_REGISTRATION_API_ENABLED and ENABLE_TAHOE_IDP) stay cached: a flip applies within this time.
    "TAHOE_REGISTRATION_API_CACHE_TIMEOUT": 30,
    # .. setting_name: TAHOE_REGISTRATION_API_ADAPTER
    # .. setting_default: "tahoe_registration_api.edxapp"
    # .. setting_description: Dotted path of the module through which the plugin calls the
    #   platform. Only the development LMS and the tests change it.
    "TAHOE_REGISTRATION_API_ADAPTER": "tahoe_registration_api.edxapp",
    # .. setting_name: TAHOE_REGISTRATION_API_EMAIL_QUEUE
    # .. setting_default: None
    # .. setting_description: The Celery queue of the outbox's task that sends a learner's email (the
    #   activation or "set your password" email). None leaves it to the LMS's routing (its default
    #   queue). The API call only queues the task, after the registration committed.
    "TAHOE_REGISTRATION_API_EMAIL_QUEUE": None,
    # .. setting_name: TAHOE_REGISTRATION_API_IDEMPOTENCY_TTL
    # .. setting_default: 86400
    # .. setting_description: Seconds a registration's answer is kept for its Idempotency-Key; older
    #   keys are purged as new ones arrive (no cron job needed) and may then be used again.
    "TAHOE_REGISTRATION_API_IDEMPOTENCY_TTL": 86400,
    # .. setting_name: TAHOE_REGISTRATION_API_EMAIL_RETRIES
    # .. setting_default: 5
    # .. setting_description: How many times the outbox retries a failed send of a learner's email
    #   (as the platform's activation email does) before it logs the failure with the learner's id.
    "TAHOE_REGISTRATION_API_EMAIL_RETRIES": 5,
    # .. setting_name: TAHOE_REGISTRATION_API_EMAIL_RETRY_DELAY
    # .. setting_default: 30
    # .. setting_description: Seconds before the email task's first retry; each later retry waits
    #   twice as long as the one before (30 s, 1, 2, 4 and 8 minutes by default).
    "TAHOE_REGISTRATION_API_EMAIL_RETRY_DELAY": 30,
    # .. setting_name: TAHOE_REGISTRATION_API_WEBHOOK_TIMEOUT
    # .. setting_default: 10
    # .. setting_description: Seconds a webhook's receiver has to answer a delivery (to connect, and
    #   in all); a later answer is a failed attempt, retried.
    "TAHOE_REGISTRATION_API_WEBHOOK_TIMEOUT": 10,
    # .. setting_name: TAHOE_REGISTRATION_API_WEBHOOK_RETRY_SCHEDULE
    # .. setting_default: [5, 300, 1800, 7200, 18000, 36000, 36000]
    # .. setting_description: Seconds between a webhook delivery's failed attempt and the next, one
    #   per retry (±10 % jitter from a minute on): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h, so
    #   eight attempts over about 28 hours. Then the delivery is given up.
    "TAHOE_REGISTRATION_API_WEBHOOK_RETRY_SCHEDULE": [5, 300, 1800, 7200, 18000, 36000, 36000],
    # .. setting_name: TAHOE_REGISTRATION_API_WEBHOOK_DISABLE_AFTER
    # .. setting_default: 5
    # .. setting_description: Days a webhook endpoint may keep failing (no delivery succeeding)
    #   before it is switched off; its site's admins see why (API and token page) and may switch it
    #   on again. An endpoint answering 410 Gone is switched off at once.
    "TAHOE_REGISTRATION_API_WEBHOOK_DISABLE_AFTER": 5,
    # .. setting_name: TAHOE_REGISTRATION_API_WEBHOOK_ALLOW_HTTP
    # .. setting_default: False
    # .. setting_description: When true, a webhook's URL may be http://; otherwise https:// only.
    "TAHOE_REGISTRATION_API_WEBHOOK_ALLOW_HTTP": False,
    # .. setting_name: TAHOE_REGISTRATION_API_WEBHOOK_ALLOW_PRIVATE
    # .. setting_default: False
    # .. setting_description: When true, webhooks may be posted to loopback, private and link-local
    #   addresses (a receiver on the LMS's own machine or network). Off, such a URL is refused when
    #   the webhook is made and at each delivery (the address is checked once and connected to,
    #   against DNS rebinding). Only for development: an admin of any site could reach the LMS's
    #   internal services.
    "TAHOE_REGISTRATION_API_WEBHOOK_ALLOW_PRIVATE": False,
    # .. setting_name: TAHOE_REGISTRATION_API_WEBHOOK_ATTEMPT_RETENTION_DAYS
    # .. setting_default: 30
    # .. setting_description: Days a webhook delivery attempt's record (event, status, the first
    #   1 KiB of the answer) is kept for the deliveries list; older ones are purged as new ones come.
    "TAHOE_REGISTRATION_API_WEBHOOK_ATTEMPT_RETENTION_DAYS": 30,
    # .. setting_name: TAHOE_REGISTRATION_API_OUTBOX_LEASE
    # .. setting_default: 300
    # .. setting_description: Seconds a Celery worker holds a learner's email it claimed from the
    #   outbox while it sends it. A worker that dies in that time leaves the email to be sent again
    #   once the lease runs out; keep it longer than any send may take (the email backend's timeout).
    "TAHOE_REGISTRATION_API_OUTBOX_LEASE": 300,
    # .. setting_name: TAHOE_REGISTRATION_API_OUTBOX_HANDOVER_GRACE
    # .. setting_default: 600
    # .. setting_description: Seconds a learner's email may wait in the outbox for its Celery task
    #   before the outbox's sweep hands it over again (the process that committed the learner died
    #   before it queued the task, or the message was lost). A copy queued meanwhile sends nothing,
    #   but costs the workers a message: keep it longer than the email queue's usual backlog (a
    #   large import queues its emails faster than the workers send them).
    "TAHOE_REGISTRATION_API_OUTBOX_HANDOVER_GRACE": 600,
    # .. setting_name: TAHOE_REGISTRATION_API_OUTBOX_SWEEP_INTERVAL
    # .. setting_default: 60
    # .. setting_description: Seconds between two sweeps of the outbox by one process (a web process
    #   as it hands emails over, a Celery worker as it delivers them). No cron job is needed.
    "TAHOE_REGISTRATION_API_OUTBOX_SWEEP_INTERVAL": 60,
    # .. setting_name: TAHOE_REGISTRATION_API_OUTBOX_RETENTION_DAYS
    # .. setting_default: 7
    # .. setting_description: Days a sent (or finally failed) outbox record is kept: a learner's email
    #   (ids and times; an email change's notice and an enrollment email to someone without an account
    #   also hold the addresses they went to, never a link or password) or a webhook's event and deliveries;
    #   older records are deleted as the sweep runs.
    "TAHOE_REGISTRATION_API_OUTBOX_RETENTION_DAYS": 7,
    # .. setting_name: TAHOE_REGISTRATION_API_BULK_MAX
    # .. setting_default: 500
    # .. setting_description: The most learners one bulk call (POST .../registrations/bulk/) may hold;
    #   more answers 413 ``too-many-learners`` and registers nobody.
    "TAHOE_REGISTRATION_API_BULK_MAX": 500,
    # .. setting_name: TAHOE_REGISTRATION_API_ENROLL_MAX
    # .. setting_default: 500
    # .. setting_description: The most enrollments (identifiers × courses) one enrollment call
    #   (POST .../enrollments/) may ask for; more answers 413 ``too-many-enrollments`` and changes nothing.
    "TAHOE_REGISTRATION_API_ENROLL_MAX": 500,
    # .. setting_name: TAHOE_REGISTRATION_API_BULK_MAX_BODY_BYTES
    # .. setting_default: 1048576
    # .. setting_description: The largest body of a bulk call (1 MiB: about 2 KB per learner at 500
    #   learners); a larger one answers 413.
    "TAHOE_REGISTRATION_API_BULK_MAX_BODY_BYTES": 1048576,
    # .. setting_name: TAHOE_REGISTRATION_API_BULK_RATE
    # .. setting_default: "5/m"
    # .. setting_description: Bulk calls and job submissions allowed per caller and site (the syntax of
    #   TAHOE_REGISTRATION_API_RATE, counted apart from single registrations, in the same shared cache).
    #   None switches this limit off.
    "TAHOE_REGISTRATION_API_BULK_RATE": "5/m",
    # .. setting_name: TAHOE_REGISTRATION_API_SCIM_RATE
    # .. setting_default: "600/m"
    # .. setting_description: SCIM requests (``/tahoe/scim/v2/``) allowed per caller and site (the syntax
    #   of TAHOE_REGISTRATION_API_RATE, counted apart, in the same shared cache): an identity provider
    #   reads before it writes and imports page by page. Over it, a SCIM 429 with Retry-After, which
    #   providers honour. None switches this limit off.
    "TAHOE_REGISTRATION_API_SCIM_RATE": "600/m",
    # .. setting_name: TAHOE_REGISTRATION_API_BULK_LEARNER_RATE
    # .. setting_default: "10000/h"
    # .. setting_description: Learners that bulk calls (dry runs included) may hold per caller and site
    #   in a fixed window (count/period, period s, m, h or d, e.g. "10000/h" or "500/10m"). A call whose
    #   learners do not fit in what is left answers 429 and registers nobody. Jobs are not counted here:
    #   they run at the pace of the LMS's workers. None switches this limit off.
    "TAHOE_REGISTRATION_API_BULK_LEARNER_RATE": "10000/h",
    # .. setting_name: TAHOE_REGISTRATION_API_JOB_MAX_ROWS
    # .. setting_default: 100000
    # .. setting_description: The most learners (CSV rows after the header, or JSON items) one
    #   registration job may hold; more answers 413 ``too-many-learners`` and creates no job.
    "TAHOE_REGISTRATION_API_JOB_MAX_ROWS": 100000,
    # .. setting_name: TAHOE_REGISTRATION_API_JOB_MAX_BODY_BYTES
    # .. setting_default: 67108864
    # .. setting_description: The largest body of a job submission (64 MiB); a larger one answers 413.
    #   The CSV is read line by line, never held whole in memory. The web server in front of the LMS
    #   may have a lower limit of its own (Tutor's Caddy, nginx's client_max_body_size).
    "TAHOE_REGISTRATION_API_JOB_MAX_BODY_BYTES": 67108864,
    # .. setting_name: TAHOE_REGISTRATION_API_JOB_QUEUE
    # .. setting_default: None
    # .. setting_description: The Celery queue of the task that runs registration jobs. None leaves it
    #   to the LMS's routing (its default queue).
    "TAHOE_REGISTRATION_API_JOB_QUEUE": None,
    # .. setting_name: TAHOE_REGISTRATION_API_JOB_RETENTION_DAYS
    # .. setting_default: 30
    # .. setting_description: Days a finished job, its status and its results (usernames and emails,
    #   never passwords) are kept; older jobs are deleted as new ones are created (no cron job needed).
    "TAHOE_REGISTRATION_API_JOB_RETENTION_DAYS": 30,
    # .. setting_name: TAHOE_REGISTRATION_API_JOB_HEARTBEAT_TIMEOUT
    # .. setting_default: 120
    # .. setting_description: Seconds a job's task may show no progress (it writes a heartbeat every
    #   second while it registers a chunk of 100 rows) before it is taken for dead: another task of
    #   the job then claims its chunk and resumes it at its first pending row. Celery's broker also
    #   redelivers the task of a worker that died (with Redis, after its visibility_timeout).
    "TAHOE_REGISTRATION_API_JOB_HEARTBEAT_TIMEOUT": 120,
    # .. setting_name: TAHOE_REGISTRATION_API_JOB_PARALLELISM
    # .. setting_default: 4
    # .. setting_description: The most chunks (100 rows each) of one job registered at once, each by
    #   its own task on any worker of the job's queue. A job queues this many tasks; each registers a
    #   chunk and queues itself again at the tail of the queue, so other jobs' tasks take turns with
    #   it. Set it to the worker processes you want one job to use at most (more than the workers of
    #   the queue gains nothing; 1 runs a job's chunks one after another). With sqlite, which has one
    #   writer at a time, chunks run in turns whatever the setting.
    "TAHOE_REGISTRATION_API_JOB_PARALLELISM": 4,
    # .. setting_name: TAHOE_REGISTRATION_API_AUDIT_RETENTION_DAYS
    # .. setting_default: 90
    # .. setting_description: Days an entry of the audit store (what the API did on a site, shown to
    #   the site's admins on the token page) is kept; older entries are purged as new ones are
    #   written (no cron job needed). The audit log records are the logger's, and not affected.
    "TAHOE_REGISTRATION_API_AUDIT_RETENTION_DAYS": 90,
}

# Apps the plugin needs beside the LMS's own: DRF's token table backs ``Authorization: Token``
# and is not in the upstream LMS's INSTALLED_APPS.
REQUIRED_APPS = ("rest_framework.authtoken",)


def plugin_settings(settings):
    """Add the plugin's defaults and required apps to the host's settings module."""
    for name, value in DEFAULTS.items():
        if not hasattr(settings, name):
            setattr(settings, name, value)
    for app in REQUIRED_APPS:
        if app not in settings.INSTALLED_APPS:
            settings.INSTALLED_APPS.append(app)
    # tahoe-sites expects Appsembler's fork of edx-organizations unless told otherwise;
    # upstream Open edX runs the upstream package. An explicit operator value wins. (Only
    # ``in`` and item assignment: Ulmo's FEATURES is a compatibility proxy, not a dict.)
    if "TAHOE_SITES_USE_ORGS_MODELS" not in settings.FEATURES:
        settings.FEATURES["TAHOE_SITES_USE_ORGS_MODELS"] = False
