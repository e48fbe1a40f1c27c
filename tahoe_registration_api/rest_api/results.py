"""
The one results writer: what became of each learner of a batch, as JSON (a bulk call's answer) or CSV.

A learner's ``status`` is what a single call would have answered for it (200, 400, 409, ...),
``exists`` for a learner an import found already registered, and empty while a job's row waits.
The CSV (a job's results, the import command's ``--results``) is safe to open in a spreadsheet:
a text cell that a spreadsheet would run as a formula starts with a quote.
"""

import csv

from rest_framework import status

from tahoe_registration_api import pipeline
from tahoe_registration_api.data import ResultRow
from tahoe_registration_api.exceptions import (
    EnrollmentPrevented,
    InternalError,
    InvalidCourseIds,
    RegistrationPrevented,
)
from tahoe_registration_api.jobs import short_value
from tahoe_registration_api.rest_api.errors import DOMAIN_STATUS, domain_error_body, status_of

COLUMNS = ("row", "ref", "username", "email", "status", "user_id", "error_code", "fields")
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# The status of each error code a learner of a batch can be refused with (a CSV keeps only the code).
STATUS_OF_CODE = {
    **{cls.error_code: code for cls, code in DOMAIN_STATUS.items() if isinstance(cls.error_code, str)},
    **{f"duplicate-{fields}": status.HTTP_409_CONFLICT for fields in ("username", "email", "email-username")},
    InternalError.error_code: InternalError.status_code,
    InvalidCourseIds.error_code: status.HTTP_400_BAD_REQUEST,
    EnrollmentPrevented.error_code: EnrollmentPrevented.status_code,
}


def learner_status(result, error_code=""):
    """Return a learner's ``status``: as a single call would answer, ``exists``, or "" while it waits."""
    if result in (pipeline.CREATED, pipeline.CHECKED):
        return status.HTTP_200_OK
    if result == pipeline.EXISTS:
        return pipeline.EXISTS
    if result is None:
        return ""
    # A code of the operator's registration filter: the filter's refusal, 403 unless it named another.
    return STATUS_OF_CODE.get(error_code, RegistrationPrevented("").status_code)


def outcome_json(outcome, dry_run=False):
    """One learner of a bulk call's answer: its ``ref``, ``status`` and ``user_id`` or error object."""
    body = {"ref": outcome.ref}
    if outcome.error is not None:
        body["status"] = status_of(outcome.error)
        body.update(domain_error_body(outcome.error))
    else:
        body["status"] = learner_status(outcome.result)
        if not dry_run:
            body["user_id"] = outcome.user_id
    return body


def batch_json(outcomes, dry_run=False):
    """Return a bulk call's answer: how many were created and how many failed, then each learner in order."""
    results = [outcome_json(outcome, dry_run) for outcome in outcomes]
    created = sum(1 for outcome in outcomes if outcome.created)
    body = {"created": created, "failed": len(outcomes) - created, "results": results}
    if dry_run:
        body = {"dry_run": True, **body}
    return body


def result_row(number, data, outcome):
    """Return the ``ResultRow`` of learner ``data`` (its input), found on line ``number``, with its outcome."""
    error = outcome.error
    return ResultRow(
        number=number, ref=outcome.ref or "", username=short_value(data.get("username")),
        email=short_value(data.get("email")),
        outcome=outcome.result, user_id=outcome.user_id, error_code=getattr(error, "error_code", "") or "",
        fields=" ".join(sorted(getattr(error, "field_errors", {}) or {})),
    )


def _spreadsheet_safe(value):
    """Return a text cell that no spreadsheet will run as a formula."""
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def csv_cells(row):
    """Return the CSV cells of a ``ResultRow``."""
    return [row.number, _spreadsheet_safe(row.ref), _spreadsheet_safe(row.username), _spreadsheet_safe(row.email),
            learner_status(row.outcome, row.error_code), row.user_id or "", row.error_code, row.fields]


class _Echo:  # pylint: disable=too-few-public-methods
    """A file-like object whose ``write`` returns what it is given: csv.writer then yields lines."""

    def write(self, value):
        """Return the line."""
        return value


def csv_lines(rows):
    """Yield the results CSV line by line: a header, then one line per ``ResultRow``."""
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    for row in rows:
        yield writer.writerow(csv_cells(row))


class CsvResults:
    """The results CSV written to a file as learners are reported (the import command's ``--results``)."""

    def __init__(self, stream):
        """Write the header to ``stream`` (a text file opened with ``newline=""``)."""
        self.writer = csv.writer(stream)
        self.writer.writerow(COLUMNS)

    def write(self, row):
        """Write one ``ResultRow``."""
        self.writer.writerow(csv_cells(row))
