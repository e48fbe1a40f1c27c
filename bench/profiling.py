"""
Where a passwordless registration's time goes: pyinstrument around in-process requests.

The requests go through Django's test client to the same settings (``devlms.settings``) and
the same MariaDB as the server, so middleware, DRF, the plugin, the fake platform and the
database round trips are all in the profile (only gunicorn and the network stack are not).
The test client keeps the database connection across requests; the server (CONN_MAX_AGE 0)
opens one per request, so the database connection is closed after each request here too.
"""

import contextlib
import io
import logging
import time

from django.db import close_old_connections, connection
from django.test import Client
from pyinstrument import Profiler

from bench.load import PATH, Registrations
from bench.stats import latency_summary

# Where time is attributed: the innermost frame on the stack whose file matches a rule wins
# (stdlib helpers such as json or socket count for whoever called them). First match wins.
CATEGORIES = (
    ("database driver and round trips (MySQLdb, django.db.backends)", ("/MySQLdb/", "/django/db/backends/")),
    ("Django ORM (query building, model save)", ("/django/db/",)),
    ("logging (audit record, handlers)", ("/logging/",)),
    ("email (console backend)", ("/django/core/mail/", "/email/")),
    ("openedx hooks (openedx_events, openedx_filters)", ("/openedx_events/", "/openedx_filters/")),
    ("tahoe_sites and organizations", ("/tahoe_sites/", "/organizations/")),
    ("tahoe_registration_api (the plugin)", ("/tahoe_registration_api/",)),
    ("devlms (fake platform, middleware)", ("/devlms/",)),
    ("Django REST framework", ("/rest_framework/", "/rest_framework_jwt/", "/edx_rest_framework_extensions/")),
    ("Django test client (not in production)", ("/django/test/",)),
    ("Django request handling and middleware", ("/django/",)),
)
OTHER = "other (stdlib, third-party)"


def category_of(file_path, categories=CATEGORIES):
    """Return the category of a source file, or None when it only inherits its caller's."""
    if not file_path:
        return None
    for name, markers in categories:
        if any(marker in file_path for marker in markers):
            return name
    return None


def time_by_category(root, categories=CATEGORIES):
    """Attribute every frame's self time to its innermost categorised frame; return ``{category: seconds}``."""
    totals = {}
    stack = [(root, OTHER)]
    while stack:
        frame, inherited = stack.pop()
        own = category_of(frame.file_path, categories) or inherited
        self_time = frame.time - sum(child.time for child in frame.children)
        totals[own] = totals.get(own, 0.0) + max(self_time, 0.0)
        stack.extend((child, own) for child in frame.children)
    return totals


class SqlTimer:
    """An ``execute_wrapper`` that counts statements, the seconds spent in them, and (optionally) keeps them."""

    def __init__(self, keep=False):
        """Start at zero."""
        self.count = 0
        self.seconds = 0.0
        self.keep = keep
        self.statements = []
        self.raw = []

    def __call__(self, execute, sql, params, many, context):
        """Time one statement."""
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - began
            self.seconds += elapsed
            self.count += 1
            if self.keep:
                self.statements.append(f"{1000 * elapsed:6.2f} ms  {' '.join(str(sql).split())[:120]}")
                self.raw.append((sql, params))


def full_scans(statements):
    """EXPLAIN each SELECT of ``statements`` [(sql, params)]; describe the tables it reads in full."""
    found = []
    with connection.cursor() as cursor:
        for number, (sql, params) in enumerate(statements, start=1):
            if not str(sql).lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute(f"EXPLAIN {sql}", params)
            columns = [column[0] for column in cursor.description]
            for row in cursor.fetchall():
                plan = dict(zip(columns, row))
                if plan.get("type") in ("ALL", "index"):
                    found.append(f"statement {number}: {plan.get('table')} {plan.get('type')} "
                                 f"(~{plan.get('rows')} rows, key {plan.get('key')})")
    return found


@contextlib.contextmanager
def quiet_output():
    """Send the console emails and the plugin's log lines to memory, so they cost the same but print nothing."""
    sink = io.StringIO()
    handlers = [handler for handler in logging.getLogger("tahoe_registration_api").handlers
                if isinstance(handler, logging.StreamHandler)]
    streams = [handler.setStream(sink) for handler in handlers]
    try:
        with contextlib.redirect_stdout(sink):
            yield
    finally:
        for handler, stream in zip(handlers, streams):
            if stream is not None:
                handler.setStream(stream)


# pylint: disable-next=too-many-arguments,too-many-locals
def profile_passwordless(sites, prefix, count=200, warmup=100, interval=0.0005, categories=CATEGORIES,
                         where="devlms.settings"):
    """
    Profile ``count`` passwordless registrations; return the summary lines, the tree, the flat list and figures.

    First ``warmup`` registrations run without the profiler: they warm up and time a registration
    in-process (no HTTP, no gunicorn); then one registration's statements are recorded. ``where``
    names the settings in the printout; ``categories`` sort the time.
    """
    client = Client()
    registrations = Registrations(prefix)
    statuses = {}

    def register():
        number, body = registrations.next_body("passwordless")
        host, token = sites[number % len(sites)]
        response = client.post(PATH, body, content_type="application/json",
                               HTTP_HOST=host, HTTP_AUTHORIZATION=f"Token {token}")
        close_old_connections()  # as the server does at the end of a request (CONN_MAX_AGE 0)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    profiler = Profiler(interval=interval)
    timer = SqlTimer()
    one = SqlTimer(keep=True)
    unprofiled = []
    with quiet_output():
        for _ in range(warmup):
            began = time.perf_counter()
            register()
            unprofiled.append(time.perf_counter() - began)
        with connection.execute_wrapper(one):
            register()
        statuses.clear()
        with connection.execute_wrapper(timer):
            began = time.perf_counter()
            profiler.start()
            for _ in range(count):
                register()
            profiler.stop()
            elapsed = time.perf_counter() - began
    root = profiler.last_session.root_frame()
    by_category = sorted(time_by_category(root, categories).items(), key=lambda item: -item[1])
    total = sum(seconds for _, seconds in by_category) or 1.0
    figures = {
        "registrations": count,
        "statuses": {str(status): number for status, number in statuses.items()},
        "ms_per_registration": 1000 * elapsed / count,
        "unprofiled": latency_summary(unprofiled[len(unprofiled) // 2:]),
        "statements_of_one_registration": one.statements,
        "full_scans": full_scans(one.raw),
        "sql_statements_per_registration": timer.count / count,
        "sql_ms_per_registration": 1000 * timer.seconds / count,
        "ms_per_registration_by_category": {name: 1000 * seconds / count for name, seconds in by_category},
        "share_by_category": {name: seconds / total for name, seconds in by_category},
    }
    lines = [
        f"In-process profile of {count} passwordless registrations (Django test client, {where}, "
        f"MariaDB), pyinstrument interval {interval * 1000:g} ms; statuses {figures['statuses']}",
        f"In-process without profiler (second half of {warmup}): p50 {figures['unprofiled']['p50_ms']:.2f} ms, "
        f"mean {figures['unprofiled']['mean_ms']:.2f} ms per registration.",
        f"{figures['ms_per_registration']:.2f} ms per registration with the profiler on (it slows call-heavy code"
        " most, so the shares below overstate the ORM's); "
        f"{figures['sql_statements_per_registration']:.1f} SQL statements taking "
        f"{figures['sql_ms_per_registration']:.2f} ms per registration (timed around cursor.execute)",
        "",
        "Time per registration by where it is spent (self time of the innermost matching frame):",
    ]
    lines += [f"  {1000 * seconds / count:7.2f} ms  {100 * seconds / total:5.1f}%  {name}"
              for name, seconds in by_category]
    lines += ["", "The statements of one passwordless registration (time around cursor.execute):"]
    lines += [f"  {number:2}. {statement}" for number, statement in enumerate(one.statements, start=1)]
    lines += ["Full table or index scans in those SELECTs (EXPLAIN):"]
    lines += [f"  {scan}" for scan in figures["full_scans"]] or ["  none"]
    tree = profiler.output_text(unicode=False, color=False, show_all=False)
    flat = profiler.output_text(unicode=False, color=False, flat=True)
    return lines, tree, flat, figures
