"""
The enrollment section of ``make bench`` and ``make bench-platform``: a cohort enrolled in one call.

After the bulk section registered its learners, ``measure_enrollment_calls`` enrolls the
``BULK_SIZE`` learners of the last bulk call (by username) in each of the site's courses, one
``POST /tahoe/api/v1/enrollments/`` per course, one after the other, and reports enrollments per
second, a call's time and the statements the server sent per enrollment. No email is asked for.
"""

import http.client
import json
import time

from bench.imports import post_json
from bench.server import metrics_delta, read_metrics


def usernames_of_bulk_call(prefix, call, size):
    """Return the usernames ``imports.bulk_over_http`` gave the learners of one of its calls."""
    return [f"{prefix}{call}x{n}" for n in range(size)]


def measure_enrollment_calls(port, site, metrics_dir, usernames, course_keys,  # pylint: disable=too-many-arguments
                             say):
    """Enroll ``usernames`` in each course of ``course_keys``, one call per course; return the figures."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    before = read_metrics(metrics_dir)
    latencies, statuses, enrolled, other = [], {}, 0, 0
    started = time.perf_counter()
    for key in course_keys:
        response, raw, took = post_json(connection, "/tahoe/api/v1/enrollments/", site,
                                        {"action": "enroll", "identifiers": usernames, "courses": [key]})
        latencies.append(took)
        statuses[str(response.status)] = statuses.get(str(response.status), 0) + 1
        if response.status == 200:
            for result in json.loads(raw)["courses"][key]["results"]:
                if result.get("after", {}).get("enrollment") and not result["before"]["enrollment"]:
                    enrolled += 1
                else:
                    other += 1
    seconds = time.perf_counter() - started
    connection.close()
    delta = metrics_delta(before, read_metrics(metrics_dir))
    changes = enrolled + other
    figures = {
        "calls": len(course_keys), "learners_per_call": len(usernames), "enrolled": enrolled, "not_enrolled": other,
        "statuses": statuses, "seconds": seconds, "enrollments_per_second": changes / seconds if seconds else 0.0,
        "call_seconds_p50": sorted(latencies)[len(latencies) // 2],
        "statements_per_enrollment": delta["queries"] / changes if changes else None,
    }
    if set(statuses) != {"200"} or other:
        say(f"  WARNING: calls answered {statuses}; {other} learners not newly enrolled")
    say(f"  {figures['enrollments_per_second']:.1f} enrollments/s, {enrolled} enrolled in {len(course_keys)} calls "
        f"of {len(usernames)}; a call: p50 {figures['call_seconds_p50']:.2f} s, "
        f"{figures['statements_per_enrollment'] or 0:.1f} statements/enrollment")
    return figures


def format_enrollments(figures):
    """Return the report's lines for the enrollment section."""
    if not figures:
        return []
    return ["", f"Enrollments: {figures['learners_per_call']} learners (usernames) enrolled in one course per call, "
                f"{figures['calls']} calls one after the other (POST /tahoe/api/v1/enrollments/, no emails)",
            f"  {figures['enrollments_per_second']:.1f} enrollments/s; a call of {figures['learners_per_call']}: "
            f"p50 {figures['call_seconds_p50']:.2f} s; {figures['statements_per_enrollment'] or 0:.1f} statements "
            f"per enrollment; {figures['enrolled']} enrolled, {figures['not_enrolled']} not"]
