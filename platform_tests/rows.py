"""Row counts of every table of the LMS: what "nothing half-created" and the row diff are checked against."""

from collections import defaultdict

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, connections, router


def model_tables():
    """``{database alias: tables}`` of every installed model that owns a table, many-to-many tables included."""
    tables = defaultdict(set)
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta  # pylint: disable=protected-access
        if meta.managed and not meta.proxy:  # unmanaged: database views, remote catalogs
            tables[router.db_for_write(model)].add(meta.db_table)
    return tables


# Every call of the API, refused or not, writes its entry there (ADR 0012): a trail, not a registration's row.
AUDIT_STORE = "tahoe_registration_api_auditentry"


def row_counts(aliases=(DEFAULT_DB_ALIAS,), audit_store=False):
    """``{table: rows}`` for every table of the databases ``aliases`` (the LMS's default one unless told)."""
    counts = {}
    for alias, tables in model_tables().items():
        if alias not in aliases:
            continue
        connection = connections[alias]
        with connection.cursor() as cursor:
            for table in sorted(tables):
                if table == AUDIT_STORE and not audit_store:
                    continue
                cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
                counts[table] = cursor.fetchone()[0]
    return counts
