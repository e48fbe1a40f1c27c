"""
The floors a registration is compared with, measured in the bench process (Django set up, same MariaDB).

* The hasher alone: ``make_password`` with the settings' first hasher (Django's PBKDF2), on one
  core and in two processes (the throughput the hasher allows on the machine's two cores).
* The direct ORM: the same rows the development LMS writes (User, LearnerProfile,
  ActivationRecord and tahoe-sites' UserOrganizationMapping) in one ``transaction.atomic()``,
  one registration after another on an open connection.
"""

import itertools
import multiprocessing
import time
import uuid

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import get_hasher, make_password
from django.db import connection, connections, transaction

from bench.load import FLOW_TAGS, NAME, PASSWORD
from bench.stats import latency_summary


def _hash_for(duration):
    """Hash passwords back to back for ``duration`` seconds; return (hashes, seconds)."""
    count = 0
    start = time.perf_counter()
    while time.perf_counter() - start < duration:
        make_password(PASSWORD)
        count += 1
    return count, time.perf_counter() - start


def hasher_floor(single_seconds=3.0, parallel_seconds=4.0, processes=2):
    """Measure ``make_password`` per second on one core and summed over ``processes`` forked processes."""
    connections.close_all()  # no database connection may cross the fork
    hasher = get_hasher("default")
    make_password(PASSWORD)  # warm up (imports, OpenSSL)
    single_count, single_seconds = _hash_for(single_seconds)
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        parallel = pool.map(_hash_for, [parallel_seconds] * processes)
    parallel_rate = sum(count / seconds for count, seconds in parallel)
    return {
        "hasher": f"{type(hasher).__module__}.{type(hasher).__name__}",
        "algorithm": hasher.algorithm,
        "iterations": hasher.iterations,
        "single_core_hashes": single_count,
        "single_core_per_second": single_count / single_seconds,
        "single_core_ms_per_hash": 1000 * single_seconds / single_count,
        "processes": processes,
        "parallel_hashes": sum(count for count, _ in parallel),
        "parallel_per_second": parallel_rate,
    }


class QueryCounter:
    """An ``execute_wrapper`` that counts statements and keeps the first few (shortened)."""

    def __init__(self, keep=20):
        """Start at zero."""
        self.count = 0
        self.keep = keep
        self.statements = []

    def __call__(self, execute, sql, params, many, context):
        """Count, then run the statement."""
        self.count += 1
        if len(self.statements) < self.keep:
            self.statements.append(" ".join(str(sql).split())[:110])
        return execute(sql, params, many, context)


def create_rows_directly(username, organization, with_password):
    """Create the rows of one registration through the ORM, in one transaction."""
    # Imported here: the models need Django set up, and bench.floors is imported before that.
    from tahoe_sites.models import UserOrganizationMapping  # pylint: disable=import-outside-toplevel

    from devlms.models import ActivationRecord, LearnerProfile  # pylint: disable=import-outside-toplevel

    with transaction.atomic():
        user = get_user_model()(username=username, email=f"{username}@example.com", is_active=False)
        if with_password:
            user.set_password(PASSWORD)
        user.save()
        LearnerProfile.objects.create(user=user, name=NAME)
        ActivationRecord.objects.create(user=user, activation_key=uuid.uuid4().hex)
        UserOrganizationMapping.objects.create(user=user, organization=organization, is_admin=False)
    return user


def time_registrations(create, names, count, warmup):
    """
    Call ``create(name)`` for ``warmup`` names, then time ``count`` more one after another.

    Returns registrations per second, statements per registration and the latency summary.
    """
    for _ in range(warmup):
        create(next(names))
    counter = QueryCounter(keep=0)
    latencies = []
    start = time.perf_counter()
    with connection.execute_wrapper(counter):
        for _ in range(count):
            began = time.perf_counter()
            create(next(names))
            latencies.append(time.perf_counter() - began)
    elapsed = time.perf_counter() - start
    return {
        "registrations": count,
        "registrations_per_second": count / elapsed,
        "queries_per_registration": counter.count / count,
        **latency_summary(latencies),
    }


def orm_floor(prefix, organization, with_password, count, warmup=5):
    """Time ``count`` direct-ORM registrations one after another; return throughput, latency and queries."""
    flow = "password" if with_password else "passwordless"
    names = (f"{prefix}o{FLOW_TAGS[flow]}{number}" for number in itertools.count())
    timed = time_registrations(lambda name: create_rows_directly(name, organization, with_password),
                               names, count, warmup)
    return {
        "flow": flow,
        **timed,
        "statements_of_one_registration":
            _statements_of_one(f"{prefix}s{FLOW_TAGS[flow]}", organization, with_password),
    }


def _statements_of_one(username, organization, with_password):
    """Return the statements of one more direct-ORM registration."""
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        create_rows_directly(username, organization, with_password)
    return counter.statements


def connect_cost(samples=20):
    """Time opening a new database connection (the development LMS opens one per request: CONN_MAX_AGE 0)."""
    timings = []
    for _ in range(samples):
        connection.close()
        began = time.perf_counter()
        connection.ensure_connection()
        timings.append(time.perf_counter() - began)
    return latency_summary(timings)
