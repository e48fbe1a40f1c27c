"""
Per-process counters of the server a bench drives, read by the benches.

``make bench`` (``bench/run.py``) reads them from the development LMS, and ``make bench-platform``
(``bench/platform_run.py``) from the real LMS, which it serves with them.

Active only when ``DEVLMS_METRICS_DIR`` is set: the server's settings then put
``MetricsMiddleware`` first in ``MIDDLEWARE``, ``CountingPBKDF2PasswordHasher`` first in
``PASSWORD_HASHERS`` and (in the LMS) ``CountingEmailBackend`` as ``EMAIL_BACKEND``. Only
Django is imported here, so the LMS's workers can load this module too. After each request the
middleware writes the process's cumulative counters to ``<DEVLMS_METRICS_DIR>/<pid>.json``; the
bench sums the files of every worker before and after a phase and divides the difference by the
registrations it sent.

What is counted as a query: every statement that goes through a Django cursor
(``connection.execute_wrapper``), ``SAVEPOINT``/``RELEASE`` included. The MySQL backend
begins and commits transactions through the driver (``autocommit(False)``, ``commit()``),
not through a cursor, so those round trips are not in the count.
"""

import json
import os
import resource
import threading

from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.exceptions import MiddlewareNotUsed
from django.core.mail.backends.dummy import EmailBackend as DummyEmailBackend
from django.db import connection

METRICS_DIR_VARIABLE = "DEVLMS_METRICS_DIR"
TRANSACTION_CONTROL = ("BEGIN", "START TRANSACTION", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")

_LOCK = threading.Lock()
_COUNTERS = {"requests": 0, "queries": 0, "queries_excluding_transaction_control": 0, "hashes": 0, "emails": 0}


def _add(name, amount=1):
    """Add ``amount`` to the process-global counter ``name``."""
    with _LOCK:
        _COUNTERS[name] += amount


def is_transaction_control(sql):
    """Tell whether a statement only begins, ends or marks a transaction (no data work)."""
    return str(sql).lstrip().upper().startswith(TRANSACTION_CONTROL)


def snapshot():
    """Return the process's cumulative counters, with its pid and peak resident memory."""
    with _LOCK:
        counters = dict(_COUNTERS)
    counters["pid"] = os.getpid()
    counters["max_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return counters


def write_snapshot(directory):
    """Write ``snapshot()`` to ``<directory>/<pid>.json`` atomically (temporary file, then ``os.replace``)."""
    data = snapshot()
    path = os.path.join(directory, f"{data['pid']}.json")
    temporary = f"{path}.tmp"
    with open(temporary, "w", encoding="utf-8") as stream:
        json.dump(data, stream)
    os.replace(temporary, path)


class CountingPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """Django's PBKDF2 hasher (same algorithm name and iterations) that counts each hash it computes."""

    algorithm = "pbkdf2_sha256"

    def encode(self, password, salt, iterations=None):
        """Count one hash (``verify`` hashes through here too), then hash as Django does."""
        _add("hashes")
        return super().encode(password, salt, iterations)


class CountingEmailBackend(DummyEmailBackend):
    """An email backend that counts the messages handed to it in this process, and sends none."""

    def send_messages(self, email_messages):
        """Count the messages."""
        _add("emails", len(list(email_messages)))
        return super().send_messages(email_messages)


def count_statement(execute, sql, params, many, context):
    """Count one statement (and whether it is transaction control), then run it."""
    _add("queries")
    if not is_transaction_control(sql):
        _add("queries_excluding_transaction_control")
    return execute(sql, params, many, context)


class MetricsMiddleware:
    """Count each request's SQL statements, then write the process's counters to the metrics directory."""

    def __init__(self, get_response):
        """Keep the next handler; step aside unless ``DEVLMS_METRICS_DIR`` is set."""
        self.get_response = get_response
        self.directory = os.environ.get(METRICS_DIR_VARIABLE)
        if not self.directory:
            raise MiddlewareNotUsed(f"{METRICS_DIR_VARIABLE} is not set")
        os.makedirs(self.directory, exist_ok=True)

    def __call__(self, request):
        """Serve the request with every statement counted; record the counters afterwards."""
        with connection.execute_wrapper(count_statement):
            response = self.get_response(request)
        _add("requests")
        write_snapshot(self.directory)
        return response
