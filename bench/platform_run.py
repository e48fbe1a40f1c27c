"""
``make bench-platform``: the cost of a registration inside the real LMS, against the platform's own view.

Run by ``make bench-platform`` with the LMS environment's Python (``.platform/``, built by
``scripts/platform-env.sh`` with the plugin pip-installed), from the LMS's source directory, through
``scripts/mariadb.sh`` (which provides ``DATABASE_URL``). In order:

1. a throwaway Redis server (the Celery broker); the LMS's tables created on MariaDB from its models,
   as its tests do (its migrations do not run on a fresh database outside its own tooling);
   two Tahoe sites with their admins' tokens;
2. the floors: the PBKDF2 hasher alone (1 core, 2 processes), and ``do_create_account`` plus the
   membership in one transaction (with its hash, and without for the passwordless floor);
3. a pyinstrument profile of passwordless registrations in-process, and the statements of one
   registration of each kind grouped as in the platform suite;
4. ``gunicorn lms.wsgi`` (settings ``bench/in_lms/bench_settings.py``) driven at concurrency 1
   and 4 with: the plugin passwordless, the plugin with a password, and the platform's
   ``POST /api/user/v2/account/registration/`` (form-encoded) with the same learners;
5. many learners at once: bulk calls over HTTP (in step 4's server), ``tahoe_import_learners
   --concurrency 2`` in this process, then registration jobs run by real ``celery -A lms.celery
   worker`` processes on their own queue (``bench/job_workers.py``): a fresh job of
   ``BENCH_JOB_COUNT`` (10,000) passwordless learners on one worker, then another on two (the
   plugin's ``TAHOE_REGISTRATION_API_JOB_PARALLELISM``, 4, unless the environment sets it);
6. a real ``celery -A lms.celery worker`` on the LMS's default queue that sends the emails (and
   delivers the events) every registration above queued, the jobs' included;
7. the hasher again; the tables, the targets (reported, never asserted), the profile, and
   ``bench/results/platform.json``, ``platform.png`` and ``platform-profile.txt``.
"""

# pylint: disable=import-error,no-name-in-module  # runs in the LMS's environment, which the linters lack
import importlib.util
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
# The LMS environment has the plugin pip-installed: the project's root goes last on the path (for
# bench.* and devlms.metrics), so ``tahoe_registration_api`` is still the installed one.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT / "platform_tests"))
sys.path.insert(0, str(ROOT / "bench" / "in_lms"))
sys.path.append(str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench_settings"

# pylint: disable=wrong-import-position
import django  # noqa: E402

from bench import floors as floor_bench  # noqa: E402
from bench import imports, job_workers, platform_floors, platform_report, profiling  # noqa: E402
from bench.enrollments import measure_enrollment_calls, usernames_of_bulk_call  # noqa: E402
from bench.load import NAME, Registrations, plugin_request, run_load  # noqa: E402
from bench.run import COURSE_KEYS, machine_info, measure_configuration, remeasure_hasher, say  # noqa: E402
from bench.server import CpuMeter, Gunicorn, mariadb_process  # noqa: E402

RESULTS_DIR = ROOT / "bench" / "results"
PLATFORM_PATH = "/api/user/v2/account/registration/"
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
SECONDS = {"passwordless": float(os.environ.get("BENCH_SECONDS", "8")), "password": 12.0}
CONCURRENCY_LEVELS = (1, 4)
PROFILE_COUNT = 150
# The job phase (two jobs of 10,000 learners) and the delivery of the 40,000 emails and events
# they owe (one worker) come on top of the 10 minutes before it: 1,482 s in all on 2026-12-05, on
# this 2-core machine while other work ran on it (the jobs 5 min each, that delivery 9 min).
TIME_LIMIT_SECONDS = 1800
# The import section: fewer learners than the development LMS's 10,000 (a registration costs about
# three times as much here), to stay within the budget; the rates are per learner all the same.
IMPORT_COUNT = 2_000
IMPORT_CONCURRENCY = 2
# The job phase: a fresh job of this many passwordless learners on 1 worker, then on 2, each run by
# the LMS's Celery workers on their own queue (the bench process and every worker it starts set it).
JOB_COUNT = int(os.environ.get("BENCH_JOB_COUNT", "10000"))
JOB_WORKERS = (1, 2)
JOB_QUEUE = "tahoe.bench.jobs"
BULK_CALLS, BULK_SIZE = 4, 500
# (name, flow): what the HTTP phase drives, in order; "platform view" posts to the platform's own view.
CONFIGURATIONS = (
    ("plugin", "passwordless"),
    ("plugin", "password"),
    ("platform view", "password"),
)
LMS_CATEGORIES = (
    ("password hashing (PBKDF2)", ("/django/contrib/auth/hashers.py", "/django/utils/crypto.py")),
    ("database driver and round trips (MySQLdb, django.db.backends)", ("/MySQLdb/", "/django/db/backends/")),
    ("Django ORM (query building, model save)", ("/django/db/",)),
    ("Celery: queueing the email task (celery, kombu, redis)", ("/celery/", "/kombu/", "/redis/")),
    ("email rendering and sending (edx_ace, django.core.mail)", ("/edx_ace/", "/django/core/mail/")),
    ("logging (audit record, tracking log)", ("/logging/", "/eventtracking/", "/track/")),
    ("openedx hooks (openedx_events, openedx_filters)", ("/openedx_events/", "/openedx_filters/")),
    ("tahoe_sites and organizations", ("/tahoe_sites/", "/organizations/")),
    ("tahoe_registration_api (the plugin)", ("/tahoe_registration_api/",)),
    ("the platform's account code (student, user_authn, user_api)", (
        "/common/djangoapps/student/", "/openedx/core/djangoapps/user_authn/", "/openedx/core/djangoapps/user_api/")),
    ("the platform's site configuration and theming", (
        "/openedx/core/djangoapps/site_configuration/", "/openedx/core/djangoapps/theming/")),
    ("the LMS's other middleware and apps (openedx, lms, common, edx_django_utils, waffle)", (
        "/openedx/", "/lms/", "/common/", "/edx_django_utils/", "/waffle/", "/crum/")),
    ("Django REST framework", ("/rest_framework/", "/edx_rest_framework_extensions/", "/oauth2_provider/")),
    ("Django test client (not in production)", ("/django/test/",)),
    ("Django request handling and middleware", ("/django/",)),
)


def platform_request(host, token, body):  # pylint: disable=unused-argument
    """Make the platform's own registration: form-encoded, anonymous, terms accepted; (path, payload, headers)."""
    form = dict(body, honor_code="true", terms_of_service="true")
    return PLATFORM_PATH, urlencode(form), {"Host": host, "Content-Type": "application/x-www-form-urlencoded"}


def plugin_origin():
    """Return where ``tahoe_registration_api`` was imported from (site-packages of the LMS)."""
    import tahoe_registration_api  # pylint: disable=import-outside-toplevel

    return str(Path(tahoe_registration_api.__file__).parent)


def create_schema():
    """
    Create the LMS's tables from its models on MariaDB (its migrations only for the plugin); return seconds.

    Then what a migration of the platform adds that its models do not declare: the unique index on
    ``auth_user.email`` (``database_fixups``' 0001, run here by its own function). Without it every
    look-up of a learner's email reads the whole table, and a registration costs MariaDB more with
    each learner already registered: the bench's later phases would pay for its earlier ones.
    """
    # pylint: disable=import-outside-toplevel
    import importlib

    from django.apps import apps
    from django.core.management import call_command
    from django.db import connection

    began = time.perf_counter()
    for database in ("default", "student_module_history"):
        call_command("migrate", database=database, run_syncdb=True, verbosity=0, interactive=False)
    fixups = importlib.import_module("common.djangoapps.database_fixups.migrations.0001_initial")
    with connection.schema_editor() as editor:
        fixups.add_email_uniqueness_constraint(apps, editor)
    return time.perf_counter() - began


def seed():
    """Create the platform suite's two branded Tahoe sites and their admins; return [(host, token)] and an org."""
    from rest_framework.authtoken.models import Token  # pylint: disable=import-outside-toplevel

    # The platform suite's conftest, by its path: the LMS's source has a conftest module of its own.
    spec = importlib.util.spec_from_file_location("platform_suite_cast", ROOT / "platform_tests" / "conftest.py")
    cast = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cast)
    TahoeSite, make_user = cast.TahoeSite, cast.make_user  # pylint: disable=invalid-name
    sites = []
    organization = None
    for short_name in ("alpha", "beta"):
        site = TahoeSite(short_name)
        admin = make_user(f"{short_name}_admin", site, is_admin=True)
        sites.append((site.domain, Token.objects.create(user=admin).key))
        organization = organization or site.organization
    seed_courses(organization)
    return sites, organization


def seed_courses(organization):
    """Make the first site's courses with the platform's own factories (overview, modes), held by its organization."""
    # pylint: disable=import-outside-toplevel
    from common.djangoapps.course_modes.tests.factories import CourseModeFactory
    from opaque_keys.edx.keys import CourseKey
    from openedx.core.djangoapps.content.course_overviews.tests.factories import CourseOverviewFactory
    from organizations.models import OrganizationCourse

    for text in COURSE_KEYS:
        key = CourseKey.from_string(text)
        overview = CourseOverviewFactory(org=key.org, display_number_with_default=key.course, run=key.run)
        for slug in ("audit", "verified"):
            CourseModeFactory(course=overview, mode_slug=slug)
        OrganizationCourse.objects.create(organization=organization, course_id=text, active=True)


def lms_versions():
    """Return the LMS's release and the versions of what the measurement depends on."""
    # pylint: disable=import-outside-toplevel
    import celery
    import kombu
    from openedx.core.release import RELEASE_LINE

    return {"openedx_release_line": RELEASE_LINE, "celery": celery.__version__, "kombu": kombu.__version__,
            "settings": "bench/in_lms/bench_settings.py (lms.envs.test + the plugin, MariaDB, PBKDF2)"}


def statement_groups(sites, prefix):
    """Return the statements of one registration of each kind (and the platform view's), grouped by origin."""
    # pylint: disable=import-outside-toplevel
    from django.test import Client

    from bench.load import PASSWORD, PATH

    from statements import statements

    host, token = sites[0]
    groups = {}
    bodies = {
        "plugin passwordless": (PATH, {"username": f"{prefix}gn", "email": f"{prefix}gn@example.com", "name": NAME}),
        "plugin password": (PATH, {"username": f"{prefix}gp", "email": f"{prefix}gp@example.com", "name": NAME,
                                   "password": PASSWORD}),
    }
    for label, (path, body) in bodies.items():
        with profiling.quiet_output(), statements() as log:
            response = Client().post(path, body, content_type="application/json", HTTP_HOST=host,
                                     HTTP_AUTHORIZATION=f"Token {token}")
        groups[label] = {"status": response.status_code, "by_group": log.by_group(), "total": log.total,
                         "request_total": log.request_total}
    form = {"username": f"{prefix}gv", "email": f"{prefix}gv@example.com", "name": NAME, "password": PASSWORD,
            "honor_code": "true", "terms_of_service": "true"}
    with profiling.quiet_output(), statements() as log:
        response = Client().post(PLATFORM_PATH, form, HTTP_HOST=host)
    groups["platform view"] = {"status": response.status_code, "by_group": log.by_group(), "total": log.total,
                               "request_total": log.request_total}
    return groups


def profile_platform_view(sites, prefix, count=20):
    """Profile ``count`` registrations through the platform's own view in-process; return ms by category."""
    # pylint: disable=import-outside-toplevel
    from django.db import close_old_connections
    from django.test import Client
    from pyinstrument import Profiler

    from bench.load import PASSWORD

    host = sites[0][0]
    profiler = Profiler(interval=0.0005)
    statuses = {}
    with profiling.quiet_output():
        profiler.start()
        for number in range(count):
            username = f"{prefix}pv{number}"
            response = Client().post(PLATFORM_PATH, {
                "username": username, "email": f"{username}@example.com", "name": NAME, "password": PASSWORD,
                "honor_code": "true", "terms_of_service": "true"}, HTTP_HOST=host)
            close_old_connections()
            statuses[str(response.status_code)] = statuses.get(str(response.status_code), 0) + 1
        profiler.stop()
    by_category = profiling.time_by_category(profiler.last_session.root_frame(), LMS_CATEGORIES)
    ranked = sorted(by_category.items(), key=lambda item: -item[1])
    return {"registrations": count, "statuses": statuses,
            "ms_per_registration_by_category": {name: 1000 * seconds / count for name, seconds in ranked}}


def measure_floors(prefix, organization):
    """Measure the hasher alone, and the platform's account creation with and without its hash."""
    say("floors: hasher alone (1 core, then 2 processes) ...")
    floors = {"hasher_before_http": floor_bench.hasher_floor()}
    hasher = floors["hasher_before_http"]
    say(f"  {hasher['hasher']} x{hasher['iterations']}: {hasher['single_core_ms_per_hash']:.0f} ms/hash; "
        f"{hasher['single_core_per_second']:.2f}/s on 1 core, {hasher['parallel_per_second']:.2f}/s in 2 processes")
    for with_hash, count in ((False, 200), (True, 8)):
        floor = platform_floors.do_create_account_floor(prefix, organization, with_hash, count)
        floors[f"do_create_account_{floor['flow']}"] = floor
        say(f"floors: {floor['what']}: p50 {floor['p50_ms']:.1f} ms, {floor['registrations_per_second']:.1f}/s, "
            f"{floor['queries_per_registration']:.1f} statements")
    return floors


def server_environment():
    """Return the environment of the LMS's processes the bench starts: its settings, broker and database."""
    return dict(os.environ, DJANGO_SETTINGS_MODULE="bench_settings", PYTHONUNBUFFERED="1",
                PYTHONPATH=os.pathsep.join([str(ROOT / "bench" / "in_lms"), str(ROOT / "platform_tests")]))


def run_http(sites, prefix, database_url, temporary):
    """Serve the LMS under gunicorn and drive every configuration at each concurrency; return the figures."""
    metrics_dir = temporary / "metrics"
    metrics_dir.mkdir()
    env = dict(server_environment(), DEVLMS_METRICS_DIR=str(metrics_dir))
    log_path = temporary / "gunicorn.log"
    say(f"gunicorn: starting lms.wsgi with {WORKERS} sync workers (log: {log_path}) ...")
    server = Gunicorn(WORKERS, env, log_path, app="lms.wsgi:application", cwd=os.getcwd(), timeout=300)
    configs = []
    try:
        registrations = Registrations(prefix)
        context = (server, sites, registrations, metrics_dir, CpuMeter(server, mariadb_process(database_url)))
        say("gunicorn: up; warming every worker up ...")
        run_load(server.port, sites, registrations, "passwordless", 8, 3.0)
        for name, flow in CONFIGURATIONS:
            request_for = platform_request if name == "platform view" else plugin_request
            for concurrency in CONCURRENCY_LEVELS:
                config = measure_configuration(context, flow, concurrency, request_for, seconds=SECONDS[flow])
                config["name"] = name
                configs.append(config)
                say(f"  {name:13} {flow:12} c={concurrency}: {config['registrations_per_second']:6.2f} reg/s, "
                    f"p50 {config['latency']['p50_ms'] or 0:7.1f} ms, {config['ok']} ok, {config['failures']} failed")
        if any(config["failures"] or config["warmup_failures"] for config in configs):
            say("gunicorn log tail:\n" + server.log_tail())
        say(f"bulk: {BULK_CALLS} calls of {BULK_SIZE} passwordless learners, one after the other ...")
        bulk = imports.measure_bulk(server, sites[0], metrics_dir, prefix, context[4], BULK_CALLS, BULK_SIZE, say)
        say(f"enrollments: the last bulk call's {BULK_SIZE} learners enrolled in each of {len(COURSE_KEYS)} courses, "
            "one call per course ...")
        cohort = usernames_of_bulk_call(prefix + "k", BULK_CALLS - 1, BULK_SIZE)
        bulk["enrollment_calls"] = measure_enrollment_calls(server.port, sites[0], metrics_dir, cohort, COURSE_KEYS,
                                                            say)
    finally:
        server.stop()
    return configs, bulk


def drain_emails(broker_url, temporary, queued):
    """Run a Celery worker of the LMS until it ran the ``queued`` tasks (at most 5 min + 1 s a task); return figures."""
    # pylint: disable=import-outside-toplevel
    import psutil

    from worker import Worker

    mail_dir = temporary / "mail"
    mail_dir.mkdir()
    say(f"celery: a worker of the LMS runs the {queued} queued tasks ...")
    began = time.perf_counter()
    worker = Worker(broker_url, mail_dir, temporary / "celery.log", env=dict(
        server_environment(), BENCH_MAIL_DIR=str(mail_dir)))  # mail to files
    try:
        cpu_before = psutil.Process(worker.process.pid).cpu_times()
        deadline = time.monotonic() + 300 + queued  # a task of the imports' carries 50 messages
        while worker.log_text().count("] succeeded in ") < queued and time.monotonic() < deadline:
            time.sleep(0.5)
        cpu_after = psutil.Process(worker.process.pid).cpu_times()
        log = worker.log_text()
        sent = len(worker.messages())
    finally:
        worker.stop()
    plugin_task = "Task tahoe_registration_api.deliver_outbox_message["
    cpu = (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system)
    figures = {
        "queued_tasks": queued,
        "tasks_succeeded": log.count("] succeeded in "),
        "plugin_email_tasks": log.count(plugin_task) // 2,  # "received", then "succeeded" or "raised"
        "plugin_email_tasks_succeeded": sum(1 for line in log.splitlines()
                                            if plugin_task in line and "] succeeded in " in line),
        "emails_sent": sent,
        "plugin_email_failures_logged": log.count("email failed"),
        "seconds": time.perf_counter() - began,
        "worker_cpu_ms_per_email": 1000 * cpu / max(sent, 1),
    }
    say(f"  {figures['tasks_succeeded']} of {queued} tasks done in {figures['seconds']:.1f} s; the plugin's email "
        f"tasks: {figures['plugin_email_tasks_succeeded']} of {figures['plugin_email_tasks']} succeeded; "
        f"{sent} emails sent; worker CPU {figures['worker_cpu_ms_per_email']:.1f} ms per email")
    return figures


def main():  # pylint: disable=too-many-locals
    """Run the whole platform bench; return the exit status (1 when any request failed)."""
    started = time.perf_counter()
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("mysql"):
        say("bench/platform_run.py needs DATABASE_URL of a MariaDB: run it through `make bench-platform`.")
        return 2
    from worker import redis_server  # pylint: disable=import-outside-toplevel

    # The jobs' queue, for this process (which queues a job's first tasks) and every LMS process it starts.
    os.environ["TAHOE_REGISTRATION_API_JOB_QUEUE"] = JOB_QUEUE
    with tempfile.TemporaryDirectory(prefix="tahoe-bench-platform-") as temporary:
        temporary = Path(temporary)
        with redis_server(temporary) as broker_url:
            os.environ["BENCH_BROKER_URL"] = broker_url
            django.setup()
            from django.db import connections  # pylint: disable=import-outside-toplevel

            say(f"the plugin: {plugin_origin()}")
            say("database: the LMS's tables on MariaDB ...")
            schema_seconds = create_schema()
            say(f"  created in {schema_seconds:.0f} s")
            sites, organization = seed()
            machine = dict(machine_info(), **lms_versions())
            prefix = "p" + secrets.token_hex(3)
            floors = measure_floors(prefix, organization)
            say(f"profile: {PROFILE_COUNT} passwordless registrations in-process under pyinstrument ...")
            summary, tree, flat, profile = profiling.profile_passwordless(
                sites, prefix + "x", count=PROFILE_COUNT, warmup=50, categories=LMS_CATEGORIES,
                where="the LMS, bench_settings")
            profile["statement_groups"] = statement_groups(sites, prefix)
            say("profile: 20 registrations through the platform's view in-process ...")
            profile["platform_view"] = profile_platform_view(sites, prefix)
            connections.close_all()
            configs, bulk = run_http(sites, prefix, database_url, temporary)
            bulk_imports = imports.measure_imports(temporary, prefix, IMPORT_COUNT, IMPORT_CONCURRENCY,
                                                   sites[0][0], "alpha_admin", say, run_job=False,
                                                   mariadb=mariadb_process(database_url))
            bulk_imports.update({"bulk_calls": bulk, "target_seconds": None})
            bulk_imports["jobs"] = job_workers.measure_jobs(
                job_setup(broker_url, temporary, database_url, sites[0][0], organization), prefix + "j", JOB_COUNT,
                say, JOB_WORKERS)
            connections.close_all()
            queued = queued_tasks(broker_url)
            emails = drain_emails(broker_url, temporary, queued)
            remeasure_hasher(floors)
        results = {
            "machine": machine,
            "server": {"command": f"gunicorn lms.wsgi:application --workers {WORKERS} --worker-class sync",
                       "workers": WORKERS, "measure_seconds": SECONDS, "schema_seconds": schema_seconds},
            "floors": floors,
            "configurations": configs,
            "profile": profile,
            "emails": emails,
            "imports": bulk_imports,
        }
        platform_report.add_ratios(configs, floors)
        results["targets"] = platform_report.evaluate_targets(configs, floors, profile, emails, bulk_imports)
        failed = platform_report.print_and_save(results, summary, tree, flat, RESULTS_DIR, started, say)
        verdict = "within" if results["total_seconds"] < TIME_LIMIT_SECONDS else "OVER"
        say(f"Total time: {results['total_seconds']:.0f} s ({verdict} the {TIME_LIMIT_SECONDS} s budget)")
    return 1 if failed else 0


def job_setup(broker_url, temporary, database_url, domain, organization):
    """Return what the job phases share: the broker, the workers' environment, the site, its admin, MariaDB."""
    # pylint: disable=import-outside-toplevel
    from django.contrib.auth import get_user_model
    from django.contrib.sites.models import Site

    return job_workers.JobSetup(broker_url, temporary, server_environment(), Site.objects.get(domain=domain),
                                organization, get_user_model().objects.get(username="alpha_admin"),
                                mariadb_process(database_url))


def queued_tasks(broker_url):
    """How many tasks in the LMS's default queue on the broker send an email (not the outbox's later sweeps)."""
    # pylint: disable=import-outside-toplevel
    import json

    import redis
    from django.conf import settings

    messages = redis.Redis.from_url(broker_url).lrange(settings.CELERY_DEFAULT_QUEUE, 0, -1)
    return sum(1 for raw in messages
               if json.loads(raw).get("headers", {}).get("task") != "tahoe_registration_api.sweep_outbox")


if __name__ == "__main__":
    sys.exit(main())
