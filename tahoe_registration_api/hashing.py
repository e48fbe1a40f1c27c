"""
A learner's password hashed beside the registration's database work, not after it.

The LMS's hasher (PBKDF2, hundreds of thousands of iterations) is most of a registration with a
password, and Python's ``hashlib`` releases the GIL while it runs. ``ahead`` starts the hash in a
thread of this process once the password passed the policy (the adapter checks it first, so a
refused password is never hashed); the registration checks conflicts and the platform's form
meanwhile, and ``set_password`` takes the hash when the user is built: the same hasher, the same
stored value, and ``save()`` still tells the password validators (``user._password`` is set, as
``set_password`` sets it). A password that differs from the one hashed ahead is hashed there, as
before.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Optional

from django.contrib.auth.hashers import make_password

_POOL_LOCK = threading.Lock()
_POOL = {"pid": None, "executor": None}
_PENDING = threading.local()


@dataclass(frozen=True)
class Pending:
    """A password (already normalized) and its hash being computed."""

    raw: str
    future: object


def _executor():
    """Return this process's hashing threads (a new pool after a fork: gunicorn and Celery fork after import)."""
    with _POOL_LOCK:
        if _POOL["pid"] != os.getpid():
            _POOL.update(pid=os.getpid(), executor=ThreadPoolExecutor(
                max_workers=os.cpu_count() or 2, thread_name_prefix="tahoe-password-hash"))
        return _POOL["executor"]


def start(raw):
    """Start hashing ``raw`` (a normalized password) with the LMS's default hasher; return the ``Pending``."""
    return Pending(raw=raw, future=_executor().submit(make_password, raw))


@contextmanager
def ahead(pending: Optional[Pending]):
    """Within the block, ``set_password`` of this thread takes ``pending``'s hash for its password."""
    _PENDING.value = pending
    try:
        yield
    finally:
        _PENDING.value = None


def set_password(user, raw):
    """Set ``user``'s password to ``raw`` as ``set_password`` does; the hash computed ahead if it is this one's."""
    pending = getattr(_PENDING, "value", None)
    if pending is None or pending.raw != raw:
        user.set_password(raw)
        return
    user.password = pending.future.result()
    user._password = raw  # pylint: disable=protected-access  # as set_password: save() tells the validators
