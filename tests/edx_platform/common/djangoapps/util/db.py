"""Stand-in for ``common/djangoapps/util/db.py``: ``outer_atomic``, an atomic block that refuses to be nested."""

from django.db import DEFAULT_DB_ALIAS, transaction


class OuterAtomic(transaction.Atomic):
    """``transaction.Atomic`` that raises ``TransactionManagementError`` inside another atomic block."""

    def __enter__(self):
        """Refuse when the connection is already in an atomic block (e.g. ATOMIC_REQUESTS)."""
        if transaction.get_connection(self.using).in_atomic_block:
            raise transaction.TransactionManagementError("Cannot be inside an atomic block.")
        super().__enter__()


def outer_atomic(using=None, savepoint=True, durable=False):
    """Return a variant of ``atomic()`` which cannot be nested inside another atomic block."""
    if callable(using):
        return OuterAtomic(DEFAULT_DB_ALIAS, savepoint, durable)(using)
    return OuterAtomic(using, savepoint, durable)
