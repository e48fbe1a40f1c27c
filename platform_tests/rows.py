"""Row counts of every table of the LMS: what "nothing half-created" is checked against."""

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, router


def row_counts():
    """``{table: rows}`` for every table of the LMS's default database (auto-created M2M tables too)."""
    counts = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta  # pylint: disable=protected-access
        if meta.managed and not meta.proxy and router.db_for_read(model) == DEFAULT_DB_ALIAS:
            counts[meta.db_table] = model._base_manager.count()  # pylint: disable=protected-access
    return counts
