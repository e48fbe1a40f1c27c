"""
Run a transaction again when the database asks for it: one mechanism for a registration and a learner's change.

A deadlock or lock timeout (MariaDB 1213, 1205; sqlite's busy writer) and a unique constraint
met after the checks (another transaction committed the same username or email) are retried,
after a random wait that grows with each attempt, up to TAHOE_REGISTRATION_API_DEADLOCK_RETRIES
times; any other database error, or the last refusal, is ``ServiceUnavailable`` (a 503).
"""

import logging
import random
import time

from django.conf import settings
from django.db import DatabaseError, IntegrityError, OperationalError

from tahoe_registration_api.exceptions import ServiceUnavailable

log = logging.getLogger(__name__)

# MySQL/MariaDB error numbers after which the whole transaction may simply be retried.
RETRYABLE_MYSQL_ERRORS = {1205, 1213}  # lock wait timeout, deadlock
BACK_OFF_BASE_SECONDS = 0.005
BACK_OFF_CAP_SECONDS = 0.2


def with_retries(transaction_function, what):
    """Return what ``transaction_function()`` returns, run again as the database asks; ``what`` names it in logs."""
    last_error = None
    attempts = 1 + max(0, int(settings.TAHOE_REGISTRATION_API_DEADLOCK_RETRIES))
    for attempt in range(1, attempts + 1):
        try:
            return transaction_function()
        except IntegrityError as exc:
            # Committed by another transaction after our checks: the next attempt's checks see it (a 409).
            log.warning("%s hit a unique constraint; attempt %s of %s.", what.capitalize(), attempt, attempts)
            last_error = exc
        except OperationalError as exc:
            if not is_retryable(exc):
                raise ServiceUnavailable(f"The database refused the {what} ({type(exc).__name__}).") from exc
            log.warning("%s deadlocked (%s); attempt %s of %s.", what.capitalize(), exc.args[0], attempt, attempts)
            last_error = exc
        except DatabaseError as exc:
            raise ServiceUnavailable(f"The database refused the {what} ({type(exc).__name__}).") from exc
        if attempt < attempts:
            back_off(attempt)
    log.warning("%s gave up after %s attempts (%s).", what.capitalize(), attempts, type(last_error).__name__)
    raise ServiceUnavailable(f"The database kept refusing the {what}; retry later.") from last_error


def back_off(attempt):
    """
    Wait a random while, longer after each failed attempt, before trying again.

    Transactions that waited on one claim are released together when its holder commits; InnoDB
    then lets one of them in and picks deadlock victims among the rest. Retrying at once would
    line the victims up again; random waits spread them out.
    """
    time.sleep(random.uniform(0, min(BACK_OFF_CAP_SECONDS, BACK_OFF_BASE_SECONDS * 2 ** attempt)))


def is_retryable(error):
    """Tell a deadlock or lock timeout (retry) from a lost or refused connection (503)."""
    code = error.args[0] if error.args else None
    if code in RETRYABLE_MYSQL_ERRORS:
        return True
    return "database is locked" in str(error)  # sqlite's busy writer
