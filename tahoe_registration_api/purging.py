"""
Retention without a cron job: rows older than a setting's age are deleted as new rows arrive.

``Retention`` runs at most once per ``interval`` seconds in a process, and deletes at most
``batch`` rows at a time (their ids first: MySQL cannot delete through a LIMITed subquery); a
full batch means a backlog, so the next call deletes the next batch at once.
"""

import time
from datetime import timedelta

from django.conf import settings
from django.utils import timezone


class Retention:
    """The purge of one model's rows older than ``max_age()``: bounded, and at most every ``interval`` seconds."""

    def __init__(self, model, field, max_age, interval, batch):
        """``field``: the row's creation time; ``max_age``: a function returning the kept age (a timedelta)."""
        self.model, self.field, self.max_age = model, field, max_age
        self.interval, self.batch = interval, batch
        self.next_at = 0.0

    def purge_if_due(self):
        """Purge when the interval has passed since the last purge of this process; return how many rows went."""
        if time.monotonic() < self.next_at:
            return 0
        self.next_at = time.monotonic() + self.interval
        deleted = self.purge()
        if deleted >= self.batch:
            self.next_at = 0.0  # a backlog: the next call purges the next batch
        return deleted

    def purge(self):
        """Delete at most ``batch`` of the oldest rows older than ``max_age()``; return how many."""
        cutoff = timezone.now() - self.max_age()
        ids = list(self.model.objects.filter(**{f"{self.field}__lt": cutoff}).order_by(self.field)
                   .values_list("pk", flat=True)[:self.batch])
        if ids:
            self.model.objects.filter(pk__in=ids).delete()
        return len(ids)


def days_setting(name):
    """Return a ``max_age`` that reads a setting of days."""
    return lambda: timedelta(days=int(getattr(settings, name)))


def seconds_setting(name):
    """Return a ``max_age`` that reads a setting of seconds."""
    return lambda: timedelta(seconds=int(getattr(settings, name)))
